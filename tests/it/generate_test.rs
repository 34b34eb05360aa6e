//! Rule generation: Sloth conformance, promtool, rule tests, `rules/` up to
//! date, and the CLI's exit codes.
//!
//! Conformance: each Sloth fixture pair in `../shared/conformance/sloth`
//! holds Sloth's input, the flags it ran with (`args.txt`) and its output.
//! We translate the flags, generate with verdict, and compare both outputs
//! as parsed YAML: same documents, groups, rules, labels and annotations;
//! expressions compared after whitespace normalisation, numbers as floats.
//! The expected files are Go templates: `{{ .version }}` is Sloth's version
//! (we render both sides with the same string) and `{{"…"}}` a literal.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::process::Command;

use serde_json::Value;
use verdict::cli::generate::{GenerateArgs, GenerateCommand, RulesArgs, read_generated};
use verdict::generate::{
    self, FileKind, OutputFormat, OutputOptions, RuleOptions, WindowCatalog, compare,
};
use verdict::spec::{self, PromDuration};

use crate::harness::{default_search_path, find_binary};

const VERSION: &str = "v-conformance";

fn repo() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
}

fn sloth_fixture(name: &str) -> PathBuf {
    repo().join("tests/fixtures/conformance/sloth").join(name)
}

fn promtool() -> PathBuf {
    find_binary("promtool", &default_search_path()).unwrap_or_else(|e| panic!("{e:?}"))
}

/// Renders Sloth's expected-output template: `{{ .version }}` and `{{"x"}}`.
fn render_sloth_template(text: &str, version: &str) -> String {
    let version_re = regex::Regex::new(r"\{\{\s*\.version\s*\}\}").unwrap();
    let literal_re = regex::Regex::new(r#"\{\{"((?:[^"\\]|\\.)*)"\}\}"#).unwrap();
    let text = version_re.replace_all(text, version);
    literal_re
        .replace_all(&text, |c: &regex::Captures<'_>| c[1].replace("\\\"", "\""))
        .into_owned()
}

/// The YAML documents of a stream, empty ones dropped.
fn documents(text: &str) -> Vec<Value> {
    let docs: Vec<Value> =
        serde_saphyr::from_multiple(text).unwrap_or_else(|e| panic!("{e}\n{text}"));
    docs.into_iter().filter(|d| !d.is_null()).collect()
}

/// Whitespace-insensitive PromQL with numbers in one canonical form.
fn normalise_expr(expr: &str) -> String {
    let collapsed = expr.split_whitespace().collect::<Vec<_>>().join(" ");
    let word = |c: char| c.is_alphanumeric() || c == '_' || c == ':' || c == '.';
    let chars: Vec<char> = collapsed.chars().collect();
    let mut out = String::new();
    for (i, c) in chars.iter().enumerate() {
        if *c == ' ' {
            let before = i.checked_sub(1).map(|j| chars[j]);
            let after = chars.get(i + 1).copied();
            if before.is_some_and(word) && after.is_some_and(word) {
                out.push(' ');
            }
            continue;
        }
        out.push(*c);
    }
    let number = regex::Regex::new(r"[0-9][0-9.]*(?:[eE][-+]?[0-9]+)?").unwrap();
    let mut result = String::new();
    let mut last = 0;
    for m in number.find_iter(&out) {
        let before = out[..m.start()].chars().last();
        let after = out[m.end()..].chars().next();
        let isolated = !before.is_some_and(|c| c.is_alphanumeric() || c == '_')
            && !after.is_some_and(|c| c.is_alphanumeric() || c == '_');
        result.push_str(&out[last..m.start()]);
        match m.as_str().parse::<f64>() {
            Ok(x) if isolated => result.push_str(&format!("{x:?}")),
            _ => result.push_str(m.as_str()),
        }
        last = m.end();
    }
    result.push_str(&out[last..]);
    result
}

fn normalise(v: &Value, key: Option<&str>) -> Value {
    match v {
        Value::Object(m) => Value::Object(
            m.iter()
                .map(|(k, v)| (k.clone(), normalise(v, Some(k))))
                .collect(),
        ),
        Value::Array(a) => Value::Array(a.iter().map(|v| normalise(v, None)).collect()),
        Value::String(s) if key == Some("expr") => Value::String(normalise_expr(s)),
        Value::Number(n) => n
            .as_f64()
            .and_then(serde_json::Number::from_f64)
            .map(Value::Number)
            .unwrap_or(Value::Null),
        other => other.clone(),
    }
}

/// The first place two values differ, as a path and both sides.
fn first_difference(a: &Value, b: &Value, path: &str) -> Option<String> {
    match (a, b) {
        (Value::Object(x), Value::Object(y)) => {
            let keys: std::collections::BTreeSet<&String> = x.keys().chain(y.keys()).collect();
            keys.into_iter().find_map(|k| match (x.get(k), y.get(k)) {
                (Some(p), Some(q)) => first_difference(p, q, &format!("{path}.{k}")),
                (p, q) => Some(format!("{path}.{k}: ours {p:?}, Sloth's {q:?}")),
            })
        }
        (Value::Array(x), Value::Array(y)) => x
            .iter()
            .zip(y)
            .enumerate()
            .find_map(|(i, (p, q))| first_difference(p, q, &format!("{path}[{i}]")))
            .or_else(|| {
                (x.len() != y.len())
                    .then(|| format!("{path}: ours has {} items, Sloth's {}", x.len(), y.len()))
            }),
        _ => (a != b).then(|| format!("{path}: ours {a}, Sloth's {b}")),
    }
}

/// Translates the `sloth generate` flags of a fixture into our options.
fn options_from_sloth_args(dir: &Path) -> RuleOptions {
    let args = std::fs::read_to_string(dir.join("args.txt")).unwrap();
    let words: Vec<&str> = args
        .lines()
        .next()
        .unwrap_or("")
        .split_whitespace()
        .collect();
    let mut opts = RuleOptions {
        version: VERSION.into(),
        ..RuleOptions::default()
    };
    let mut i = 0;
    while i < words.len() {
        let value = words.get(i + 1).copied().unwrap_or("");
        match words[i] {
            "--input" | "-i" => i += 1,
            "--default-slo-period" => {
                opts.default_period = PromDuration::parse(value).unwrap();
                i += 1;
            }
            "--slo-period-windows-path" => {
                let mut catalog = WindowCatalog::empty();
                for w in verdict::cli::generate::load_windows(&dir.join(value)).unwrap() {
                    catalog.insert(w);
                }
                opts.windows = catalog;
                i += 1;
            }
            "-l" | "--extra-labels" => {
                let (k, v) = value.split_once('=').unwrap();
                opts.extra_labels.insert(k.into(), v.into());
                i += 1;
            }
            "--disable-alerts" => opts.disable_alerts = true,
            "--disable-recordings" => opts.disable_recordings = true,
            "(version" => {
                // 09: "(version rendered as "dev")"
                opts.version = "dev".into();
                break;
            }
            other => panic!("unknown sloth flag {other} in {}", dir.display()),
        }
        i += 1;
    }
    opts
}

/// Generates the fixture's input with verdict as a Sloth-like stream and
/// compares it with Sloth's expected output.
fn assert_conforms(name: &str) {
    let dir = sloth_fixture(name);
    let opts = options_from_sloth_args(&dir);
    let set = spec::load_paths(&[dir.join("in.yaml")]).unwrap_or_else(|e| panic!("{name}: {e}"));
    let ours = generate::generate_stream(&set, &opts, &OutputOptions::default())
        .unwrap_or_else(|e| panic!("{name}: {e}"));
    let expected_path = ["expected.yaml.tpl", "expected.yaml"]
        .iter()
        .map(|f| dir.join(f))
        .find(|p| p.exists())
        .unwrap();
    let expected = render_sloth_template(
        &std::fs::read_to_string(expected_path).unwrap(),
        &opts.version,
    );
    let ours_docs: Vec<Value> = documents(&ours)
        .iter()
        .map(|d| normalise(d, None))
        .collect();
    let sloth_docs: Vec<Value> = documents(&expected)
        .iter()
        .map(|d| normalise(d, None))
        .collect();
    assert!(!sloth_docs.is_empty(), "{name}: no expected documents");
    assert_eq!(
        ours_docs.len(),
        sloth_docs.len(),
        "{name}: number of documents\n{ours}"
    );
    for (i, (a, b)) in ours_docs.iter().zip(&sloth_docs).enumerate() {
        if let Some(d) = first_difference(a, b, &format!("doc[{i}]")) {
            panic!("{name}: output differs from Sloth's at {d}\n--- ours ---\n{ours}");
        }
    }
    assert_promtool_accepts(name, &set, &opts);
}

/// Writes the fixture's output files and runs `promtool check rules` on each
/// (for PrometheusRule output, on each object's `spec`).
fn assert_promtool_accepts(name: &str, set: &spec::SpecSet, opts: &RuleOptions) {
    let tmp = tempfile::tempdir().unwrap();
    for format in [OutputFormat::Prometheus, OutputFormat::PrometheusOperator] {
        let out = OutputOptions {
            format: Some(format),
            ..OutputOptions::default()
        };
        let files = generate::generate_files(set, &[], opts, &out).unwrap();
        for f in &files.files {
            let docs = documents(&f.contents);
            let texts: Vec<String> = match format {
                OutputFormat::Prometheus => vec![f.contents.clone()],
                OutputFormat::PrometheusOperator => docs
                    .iter()
                    .map(|d| serde_json::to_string(&d["spec"]).unwrap())
                    .collect(),
            };
            assert!(!texts.is_empty(), "{name}: empty output");
            for (i, text) in texts.iter().enumerate() {
                let path = tmp.path().join(format!("{format:?}-{i}.yml"));
                std::fs::write(&path, text).unwrap();
                let o = Command::new(promtool())
                    .arg("check")
                    .arg("rules")
                    .arg(&path)
                    .output()
                    .unwrap();
                assert!(
                    o.status.success(),
                    "{name} ({format:?}): promtool check rules failed:\n{}{}\n{text}",
                    String::from_utf8_lossy(&o.stdout),
                    String::from_utf8_lossy(&o.stderr)
                );
            }
        }
    }
}

#[test]
fn sloth_01_base_30d_conforms() {
    assert_conforms("01-base-30d");
}

#[test]
fn sloth_02_base_28d_renders_the_period_as_4w_and_scales_the_factors() {
    assert_conforms("02-base-28d");
}

#[test]
fn sloth_03_custom_7d_windows_from_an_alert_windows_spec_conform() {
    assert_conforms("03-base-custom-windows-7d");
}

#[test]
fn sloth_04_k8s_crd_becomes_a_prometheus_rule_like_sloths() {
    assert_conforms("04-base-k8s-crd");
}

#[test]
fn sloth_05_openslo_v1alpha_conforms() {
    assert_conforms("05-openslo-v1alpha");
}

#[test]
fn sloth_06_extra_labels_land_on_every_recording_rule() {
    assert_conforms("06-base-extra-labels");
}

#[test]
fn sloth_07_disabled_alerts_leave_only_recordings() {
    assert_conforms("07-base-no-alerts");
}

#[test]
fn sloth_08_two_documents_give_two_outputs_in_one_stream() {
    assert_conforms("08-multifile");
}

#[test]
fn sloth_09_getting_started_example_conforms() {
    assert_conforms("09-example-getting-started");
}

#[test]
fn the_comparison_notices_a_changed_factor_label_or_rule() {
    // The conformance comparison must be able to fail.
    let dir = sloth_fixture("01-base-30d");
    let expected = render_sloth_template(
        &std::fs::read_to_string(dir.join("expected.yaml.tpl")).unwrap(),
        VERSION,
    );
    let base = normalise(&documents(&expected)[0], None);
    for (from, to) in [
        (
            "(14.4 * 0.0009999999999999432)",
            "(14.5 * 0.0009999999999999432)",
        ),
        ("sloth_window: 6h", "sloth_window: 6H"),
        ("alert03k1: alert03v1", "alert03k1: alert03v2"),
        (
            "record: slo:current_burn_rate:ratio",
            "record: slo:current_burn:ratio",
        ),
    ] {
        let changed = normalise(&documents(&expected.replacen(from, to, 1))[0], None);
        assert!(
            first_difference(&changed, &base, "doc").is_some(),
            "{from} → {to} went unnoticed"
        );
    }
    // Whitespace and number spelling do not count.
    assert_eq!(
        normalise_expr("max(a{x=\"1\"} > (6 * 0.05)) without (w)\n"),
        normalise_expr("max( a{x=\"1\"}  >  (6.0 * 5e-2) )\n  without (w)")
    );
}

#[test]
fn every_generated_file_for_slos_passes_promtool_check_rules() {
    let set = spec::load_paths(&[repo().join("slos")]).unwrap();
    assert!(set.slos().count() >= 6);
    let opts = RuleOptions::default();
    assert_promtool_accepts("slos", &set, &opts);
}

fn repo_generation() -> generate::output::Generated {
    let set = spec::load_paths(&[PathBuf::from("slos")]).unwrap();
    let out = OutputOptions {
        with_tests: true,
        ..OutputOptions::default()
    };
    generate::generate_files(
        &set,
        &[PathBuf::from("slos")],
        &RuleOptions::default(),
        &out,
    )
    .unwrap()
}

#[test]
fn rules_directory_is_up_to_date_with_slos() {
    // cargo runs integration tests in the package root.
    let generated = repo_generation();
    assert!(
        generated.skipped_tests.is_empty(),
        "{:?}",
        generated.skipped_tests
    );
    let existing = read_generated(Path::new("rules")).unwrap();
    let differences = compare(&generated.files, &existing);
    let report: Vec<String> = differences.iter().map(|d| d.to_string()).collect();
    assert!(
        differences.is_empty(),
        "rules/ is out of date; run `cargo run -- generate rules --slos slos --out rules --with-tests`:\n{}",
        report.join("\n")
    );
}

fn promtool_test(path: &Path) -> (bool, String) {
    let o = Command::new(promtool())
        .arg("test")
        .arg("rules")
        .arg(path)
        .output()
        .unwrap();
    (
        o.status.success(),
        format!(
            "{}{}",
            String::from_utf8_lossy(&o.stdout),
            String::from_utf8_lossy(&o.stderr)
        ),
    )
}

#[test]
fn generated_rule_tests_for_slos_pass_promtool_test_rules() {
    let generated = repo_generation();
    let tmp = tempfile::tempdir().unwrap();
    let mut tests = Vec::new();
    for f in &generated.files {
        std::fs::write(tmp.path().join(&f.path), &f.contents).unwrap();
        if f.kind == FileKind::RuleTests {
            tests.push(tmp.path().join(&f.path));
        }
    }
    // One test file per spec file; page and ticket of both SLOs, each checked
    // before (not firing) and after (firing) its predicted time.
    assert_eq!(tests.len(), 3);
    for t in &tests {
        let text = std::fs::read_to_string(t).unwrap();
        assert_eq!(text.matches("\n  - name: ").count(), 8, "{}", t.display());
        let (ok, output) = promtool_test(t);
        assert!(ok, "{}:\n{output}", t.display());
    }
}

#[test]
fn the_rule_tests_fail_when_an_alert_fires_too_early_or_too_late() {
    let generated = repo_generation();
    let rules = generated
        .files
        .iter()
        .find(|f| f.path == Path::new("order.rules.yml"))
        .unwrap();
    let tests = generated
        .files
        .iter()
        .find(|f| f.path == Path::new("order.test.yml"))
        .unwrap();
    // A 10× lower page threshold fires long before the prediction; a 2×
    // higher one fires after it.
    for (from, to) in [("(14.4 * ", "(1.44 * "), ("(14.4 * ", "(28.8 * ")] {
        assert!(rules.contents.contains(from));
        let tmp = tempfile::tempdir().unwrap();
        std::fs::write(
            tmp.path().join("order.rules.yml"),
            rules.contents.replace(from, to),
        )
        .unwrap();
        std::fs::write(tmp.path().join("order.test.yml"), &tests.contents).unwrap();
        let (ok, output) = promtool_test(&tmp.path().join("order.test.yml"));
        assert!(
            !ok,
            "promtool test rules passed with {to}: the tests cannot fail"
        );
        assert!(output.contains("page alert"), "{output}");
    }
}

#[test]
fn rule_tests_for_sloth_fixtures_pass_and_say_what_they_skip() {
    for name in [
        "01-base-30d",
        "09-example-getting-started",
        "03-base-custom-windows-7d",
    ] {
        let dir = sloth_fixture(name);
        let opts = options_from_sloth_args(&dir);
        let set = spec::load_paths(&[dir.join("in.yaml")]).unwrap();
        let out = OutputOptions {
            with_tests: true,
            ..OutputOptions::default()
        };
        let generated =
            generate::generate_files(&set, std::slice::from_ref(&dir), &opts, &out).unwrap();
        if name != "09-example-getting-started" {
            // slo02 has both alerts disabled.
            let skipped: Vec<String> = generated
                .skipped_tests
                .iter()
                .map(|s| s.to_string())
                .collect();
            assert_eq!(skipped.len(), 1, "{skipped:?}");
            assert!(
                skipped[0]
                    .ends_with("no rule test for SLO `svc01-slo02`: it has no alerts (disabled)"),
                "{skipped:?}"
            );
        }
        let tmp = tempfile::tempdir().unwrap();
        for f in &generated.files {
            std::fs::write(tmp.path().join(&f.path), &f.contents).unwrap();
        }
        let test = generated
            .files
            .iter()
            .find(|f| f.kind == FileKind::RuleTests)
            .unwrap();
        let (ok, output) = promtool_test(&tmp.path().join(&test.path));
        assert!(ok, "{name}:\n{output}\n{}", test.contents);
    }
}

// ---- CLI ----

fn rules_args(slos: Vec<PathBuf>, out: &str) -> RulesArgs {
    RulesArgs {
        slos,
        out: out.into(),
        period: PromDuration::from_secs(30 * 86_400),
        windows: None,
        extra_labels: Vec::new(),
        disable_alerts: false,
        disable_recordings: false,
        format: None,
        rule_name: None,
        rule_namespace: None,
        rule_labels: Vec::new(),
        with_tests: false,
        check: false,
    }
}

fn run(args: RulesArgs) -> (i32, String, String) {
    let args = GenerateArgs {
        what: GenerateCommand::Rules(args),
    };
    let mut out = Vec::new();
    let mut err = Vec::new();
    let code = verdict::cli::generate::run_with(&args, &mut out, &mut err);
    (
        code,
        String::from_utf8(out).unwrap(),
        String::from_utf8(err).unwrap(),
    )
}

fn write_spec(dir: &Path, name: &str, text: &str) -> PathBuf {
    let p = dir.join(name);
    std::fs::write(&p, text).unwrap();
    p
}

const NATIVE: &str = r#"version: verdict/v1
service: cart
slos:
  - name: availability
    objective: 99.5
    period: 14d
    sli:
      events:
        error_query: sum(rate(http_requests_total{service="cart",code=~"5.."}[{{.window}}]))
        total_query: sum(rate(http_requests_total{service="cart"}[{{.window}}]))
"#;

#[test]
fn a_period_without_alert_windows_is_invalid_input_naming_the_field() {
    let tmp = tempfile::tempdir().unwrap();
    let spec = write_spec(tmp.path(), "cart.yaml", NATIVE);
    let (code, _, err) = run(rules_args(vec![spec.clone()], "-"));
    assert_eq!(code, 2, "{err}");
    let first = err.lines().next().unwrap();
    assert_eq!(
        first,
        format!(
            "{}:4:11: slos[0].period: no alert windows for this SLO's period 14d (2w) of SLO `cart-availability`: verdict has windows for 28d (4w), 30d; pass --windows with a Sloth AlertWindows spec whose spec.sloPeriod is 14d",
            spec.display()
        )
    );
}

#[test]
fn alert_windows_from_a_file_make_another_period_work() {
    let tmp = tempfile::tempdir().unwrap();
    let spec = write_spec(tmp.path(), "cart.yaml", NATIVE);
    let windows = sloth_fixture("10-alert-windows-examples/windows-7d.yaml");
    let text = std::fs::read_to_string(windows)
        .unwrap()
        .replace("sloPeriod: 7d", "sloPeriod: 14d");
    let wfile = write_spec(tmp.path(), "14d.yaml", &text);
    let mut args = rules_args(vec![spec], "-");
    args.windows = Some(wfile);
    let (code, out, err) = run(args);
    assert_eq!(code, 0, "{err}");
    // 8% of a 14d budget in 1h: 8 × 336h / 100 / 1h = 26.88.
    assert!(out.contains("> (26.88 * 0.005)"), "{out}");
    assert!(out.contains("record: slo:sli_error:ratio_rate2w"), "{out}");
}

#[test]
fn an_invalid_alert_windows_file_is_invalid_input_naming_the_field() {
    let tmp = tempfile::tempdir().unwrap();
    let spec = write_spec(tmp.path(), "cart.yaml", NATIVE);
    let text = std::fs::read_to_string(sloth_fixture("10-alert-windows-examples/windows-7d.yaml"))
        .unwrap()
        .replace("sloPeriod: 7d", "sloPeriod: fortnight");
    let wfile = write_spec(tmp.path(), "bad.yaml", &text);
    let mut args = rules_args(vec![spec], "-");
    args.windows = Some(wfile.clone());
    let (code, _, err) = run(args);
    assert_eq!(code, 2);
    assert_eq!(
        err.trim_end(),
        format!(
            "--windows: {}:4:14: spec.sloPeriod: invalid duration \"fortnight\": expected a number before each unit (expected e.g. 30s, 5m, 1h30m, 28d)",
            wfile.display()
        )
    );
}

#[test]
fn an_slo_whose_rendered_sli_is_invalid_promql_is_rejected_naming_the_query() {
    // Valid alone, but the comment swallows the `)` Sloth's layout adds.
    let tmp = tempfile::tempdir().unwrap();
    let text = NATIVE.replace("    period: 14d\n", "").replace(
        "error_query: sum(rate(http_requests_total{service=\"cart\",code=~\"5..\"}[{{.window}}]))",
        "error_query: 'sum(rate(http_requests_total{service=\"cart\",code=~\"5..\"}[{{.window}}])) # 5xx only'",
    );
    let spec = write_spec(tmp.path(), "cart.yaml", &text);
    let (code, _, err) = run(rules_args(vec![spec.clone()], "-"));
    assert_eq!(code, 2, "{err}");
    let first = err.lines().next().unwrap();
    assert!(
        first.starts_with(&format!(
            "{}:4:11: slos[0].sli.events.error_query: the SLI recording rule for window 5m is not valid PromQL: invalid PromQL at position",
            spec.display()
        )),
        "{err}"
    );
    assert!(
        first.contains("a `#` in the query starts a comment"),
        "{err}"
    );
}

#[test]
fn spec_errors_are_invalid_input_with_file_line_and_field() {
    let tmp = tempfile::tempdir().unwrap();
    let text = NATIVE.replace(
        "sum(rate(http_requests_total{service=\"cart\"}[{{.window}}]))",
        "sum(rate(http_requests_total{service=\"cart\"}[{{.window}}])",
    );
    let spec = write_spec(tmp.path(), "cart.yaml", &text);
    let (code, out, err) = run(rules_args(vec![spec.clone()], "-"));
    assert_eq!(code, 2);
    assert!(out.is_empty());
    assert!(
        err.starts_with(&format!(
            "{}:10:25: slos[0].sli.events.total_query: invalid PromQL",
            spec.display()
        )),
        "{err}"
    );
}

#[test]
fn check_reports_missing_changed_and_stale_files_and_write_fixes_them() {
    let tmp = tempfile::tempdir().unwrap();
    let slos = tmp.path().join("slos");
    std::fs::create_dir_all(slos.join("team")).unwrap();
    write_spec(
        &slos.join("team"),
        "cart.yaml",
        &NATIVE.replace("    period: 14d\n", ""),
    );
    let out = tmp.path().join("rules");
    let out_s = out.to_str().unwrap();

    let mut check = rules_args(vec![slos.clone()], out_s);
    check.check = true;
    check.with_tests = true;
    let (code, _, err) = run(rules_args(vec![slos.clone()], out_s));
    assert_eq!(code, 0, "{err}");
    // Without --with-tests only the rules were written: the test file is missing.
    let (code, _, err) = run(check_args(&check));
    assert_eq!(code, 1);
    assert!(err.contains("missing: team/cart.test.yml"), "{err}");

    let mut write = rules_args(vec![slos.clone()], out_s);
    write.with_tests = true;
    let (code, stdout, err) = run(write);
    assert_eq!(code, 0, "{err}");
    assert!(stdout.contains("2 files generated (1 changed)"), "{stdout}");
    let (code, stdout, _) = run(check_args(&check));
    assert_eq!(code, 0);
    assert!(stdout.contains("up to date (2 files)"), "{stdout}");

    // Hand edits and leftovers are found.
    let rules_file = out.join("team/cart.rules.yml");
    let text = std::fs::read_to_string(&rules_file).unwrap();
    std::fs::write(
        &rules_file,
        text.replace("sloth_window: 1h", "sloth_window: 2h"),
    )
    .unwrap();
    std::fs::write(
        out.join("old.rules.yml"),
        format!("{} from gone.yaml\n", generate::GENERATED_MARKER),
    )
    .unwrap();
    std::fs::write(out.join("mine.yml"), "groups: []\n").unwrap();
    let (code, _, err) = run(check_args(&check));
    assert_eq!(code, 1);
    assert!(
        err.contains("changed: team/cart.rules.yml\n  @@ line "),
        "{err}"
    );
    assert!(
        err.contains("  -       sloth_window: 2h\n  +       sloth_window: 1h"),
        "{err}"
    );
    assert!(err.contains("stale: old.rules.yml"), "{err}");
    assert!(
        !err.contains("mine.yml"),
        "files without the header are not ours: {err}"
    );
    assert!(err.contains("2 files are out of date"), "{err}");

    let mut write = rules_args(vec![slos.clone()], out_s);
    write.with_tests = true;
    let (code, stdout, _) = run(write);
    assert_eq!(code, 0);
    assert!(stdout.contains("(1 changed, 1 stale removed)"), "{stdout}");
    assert!(!out.join("old.rules.yml").exists());
    assert!(out.join("mine.yml").exists());
    assert_eq!(run(check_args(&check)).0, 0);
}

fn check_args(a: &RulesArgs) -> RulesArgs {
    let mut c = rules_args(a.slos.clone(), &a.out);
    c.check = a.check;
    c.with_tests = a.with_tests;
    c
}

#[test]
fn the_binary_exits_2_on_invalid_input_and_0_on_success() {
    let tmp = tempfile::tempdir().unwrap();
    let spec = write_spec(tmp.path(), "cart.yaml", NATIVE);
    let bin = env!("CARGO_BIN_EXE_verdict");
    let o = Command::new(bin)
        .args(["generate", "rules", "--slos"])
        .arg(&spec)
        .output()
        .unwrap();
    assert_eq!(o.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&o.stderr).contains("slos[0].period"));
    let o = Command::new(bin)
        .args(["generate", "rules", "--period", "28d", "--slos"])
        .arg(write_spec(
            tmp.path(),
            "cart.yaml",
            &NATIVE.replace("    period: 14d\n", ""),
        ))
        .args([
            "-l",
            "env=prod",
            "--format",
            "prometheus-operator",
            "--rule-namespace",
            "monitoring",
        ])
        .output()
        .unwrap();
    assert_eq!(
        o.status.code(),
        Some(0),
        "{}",
        String::from_utf8_lossy(&o.stderr)
    );
    let docs = documents(&String::from_utf8(o.stdout).unwrap());
    assert_eq!(docs.len(), 1);
    let d = &docs[0];
    assert_eq!(d["kind"], "PrometheusRule");
    assert_eq!(d["metadata"]["name"], "cart");
    assert_eq!(d["metadata"]["namespace"], "monitoring");
    assert_eq!(
        d["metadata"]["labels"]["app.kubernetes.io/managed-by"],
        "verdict"
    );
    let first = &d["spec"]["groups"][0]["rules"][0];
    assert_eq!(first["labels"]["env"], "prod");
    assert_eq!(
        d["spec"]["groups"][0]["rules"][7]["record"],
        "slo:sli_error:ratio_rate4w"
    );
}

#[test]
fn native_latency_slis_become_bucket_over_count_error_ratios() {
    let set = spec::load_paths(&[PathBuf::from("slos/order.yaml")]).unwrap();
    let text = generate::generate_stream(&set, &RuleOptions::default(), &OutputOptions::default())
        .unwrap();
    let docs = documents(&text);
    let groups = docs[0]["groups"].as_array().unwrap();
    let latency = groups
        .iter()
        .find(|g| g["name"] == "sloth-slo-sli-recordings-order-latency")
        .unwrap();
    let rule = &latency["rules"][0];
    assert_eq!(rule["record"], "slo:sli_error:ratio_rate5m");
    assert_eq!(
        normalise_expr(rule["expr"].as_str().unwrap()),
        normalise_expr(
            r#"(1 - ((sum(rate(http_request_duration_seconds_bucket{service="order",le="0.3"}[5m]))) / (sum(rate(http_request_duration_seconds_count{service="order"}[5m])))))"#
        )
    );
    // Service labels reach the recordings; the native alert names are kept.
    assert_eq!(rule["labels"]["team"], "shop");
    let alerts = groups
        .iter()
        .find(|g| g["name"] == "sloth-slo-alerts-order-latency")
        .unwrap();
    assert_eq!(alerts["rules"][0]["alert"], "OrderHighLatency");
    assert_eq!(alerts["rules"][0]["labels"]["severity"], "page");
}

#[test]
fn alerts_without_a_name_get_a_derived_one() {
    let set = spec::load_sources(&[(
        PathBuf::from("x.yaml"),
        NATIVE.replace("    period: 14d\n", ""),
    )])
    .unwrap();
    let text = generate::generate_stream(&set, &RuleOptions::default(), &OutputOptions::default())
        .unwrap();
    let docs = documents(&text);
    let alerts: Vec<&Value> = docs[0]["groups"][2]["rules"]
        .as_array()
        .unwrap()
        .iter()
        .collect();
    let names: Vec<(&str, &str)> = alerts
        .iter()
        .map(|a| {
            (
                a["alert"].as_str().unwrap(),
                a["labels"]["sloth_severity"].as_str().unwrap(),
            )
        })
        .collect();
    assert_eq!(
        names,
        [
            ("CartAvailabilityErrorBudgetBurn", "page"),
            ("CartAvailabilityErrorBudgetBurn", "ticket")
        ]
    );
}

#[test]
fn output_is_deterministic_and_one_file_per_spec_file() {
    let a = repo_generation();
    let b = repo_generation();
    assert_eq!(a, b);
    let paths: Vec<String> = a
        .files
        .iter()
        .map(|f| f.path.display().to_string())
        .collect();
    assert_eq!(
        paths,
        [
            "inventory.rules.yml",
            "inventory.test.yml",
            "notification.rules.yml",
            "notification.test.yml",
            "order.rules.yml",
            "order.test.yml"
        ]
    );
    let header: BTreeMap<&str, &str> = a
        .files
        .iter()
        .map(|f| (f.contents.lines().next().unwrap(), ""))
        .collect();
    assert!(
        header.contains_key(
            format!(
                "{} ({}) from slos/order.yaml: Prometheus rules for service order.",
                generate::GENERATED_MARKER,
                generate::GENERATOR_VERSION
            )
            .as_str()
        ),
        "{header:?}"
    );
}

#[test]
fn disabled_recordings_leave_only_the_alerts_and_no_rule_tests() {
    let dir = sloth_fixture("01-base-30d");
    let set = spec::load_paths(&[dir.join("in.yaml")]).unwrap();
    let opts = RuleOptions {
        disable_recordings: true,
        ..RuleOptions::default()
    };
    let out = OutputOptions {
        with_tests: true,
        ..OutputOptions::default()
    };
    let generated = generate::generate_files(&set, &[], &opts, &out).unwrap();
    assert_eq!(generated.files.len(), 1, "no test file");
    let docs = documents(&generated.files[0].contents);
    let groups: Vec<&str> = docs[0]["groups"]
        .as_array()
        .unwrap()
        .iter()
        .map(|g| g["name"].as_str().unwrap())
        .collect();
    assert_eq!(groups, ["sloth-slo-alerts-svc01-slo1"]);
    let skipped: Vec<String> = generated
        .skipped_tests
        .iter()
        .map(|s| format!("{}: {}", s.slo_id, s.reason))
        .collect();
    assert_eq!(
        skipped,
        [
            "svc01-slo1: recording rules are disabled (--disable-recordings), so the alerts have no input",
            "svc01-slo02: recording rules are disabled (--disable-recordings), so the alerts have no input"
        ]
    );
}

#[test]
fn rule_tests_need_plain_rule_files() {
    let dir = sloth_fixture("04-base-k8s-crd");
    let set = spec::load_paths(&[dir.join("in.yaml")]).unwrap();
    let out = OutputOptions {
        with_tests: true,
        ..OutputOptions::default()
    };
    let err = generate::generate_files(&set, &[], &RuleOptions::default(), &out).unwrap_err();
    assert!(
        err.to_string()
            .ends_with("rule tests need plain Prometheus rule files, but this file generates PrometheusRule objects: add --format prometheus to generate tests for it"),
        "{err}"
    );
    let plain = OutputOptions {
        format: Some(OutputFormat::Prometheus),
        with_tests: true,
        ..OutputOptions::default()
    };
    let generated = generate::generate_files(&set, &[], &RuleOptions::default(), &plain).unwrap();
    assert_eq!(generated.files.len(), 2);
}
