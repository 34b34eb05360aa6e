//! `verdict report --input FILE.json`: a stored JSON report re-rendered in
//! every format without Prometheus or a server, byte for byte what the
//! library renders, with the report's verdict as the exit code; and the
//! errors for files that are missing, not JSON, or not a verdict report.

use std::path::Path;

use verdict::report::sample::{SampleVerdict, sample_report};
use verdict::report::templates::Templates;
use verdict::report::{ExperimentInfo, Report, ReportExtras, html, json, junit, markdown};

struct Run {
    code: i32,
    stdout: String,
    stderr: String,
}

/// `verdict report ARGS` in `dir`, with `stdin` on its standard input.
fn report(dir: &Path, args: &[&str], stdin: &str) -> Run {
    use std::io::Write;
    let mut child = std::process::Command::new(env!("CARGO_BIN_EXE_verdict"))
        .arg("report")
        .args(args)
        .current_dir(dir)
        .env("NO_COLOR", "1")
        // Set in CI for the --server form; must not get in the way of --input.
        .env("VERDICT_SERVER", "http://127.0.0.1:9")
        .env_remove("VERDICT_TOKEN")
        .stdin(std::process::Stdio::piped())
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .expect("run verdict");
    child
        .stdin
        .take()
        .expect("stdin")
        .write_all(stdin.as_bytes())
        .expect("write stdin");
    let out = child.wait_with_output().expect("verdict finished");
    Run {
        code: out.status.code().unwrap_or(-1),
        stdout: String::from_utf8_lossy(&out.stdout).into_owned(),
        stderr: String::from_utf8_lossy(&out.stderr).into_owned(),
    }
}

fn named(name: &str) -> ReportExtras {
    ReportExtras {
        experiment: Some(ExperimentInfo {
            name: name.to_owned(),
            ..ExperimentInfo::default()
        }),
        ..ReportExtras::default()
    }
}

fn stored(dir: &Path, file: &str, report: &Report) -> String {
    let text = json::render_json(report).expect("JSON");
    std::fs::write(dir.join(file), &text).expect("write the JSON report");
    text
}

#[test]
fn a_stored_json_report_renders_in_every_format_exactly_as_the_library_does() {
    let dir = tempfile::tempdir().expect("temp dir");
    let failing = sample_report(SampleVerdict::Fail, 3);
    let text = stored(dir.path(), "verdict.json", &failing);
    let templates = Templates::embedded().expect("templates");

    let md = report(dir.path(), &["--input", "verdict.json"], "");
    assert_eq!((md.code, md.stderr.as_str()), (1, ""), "fail exits 1");
    assert_eq!(
        md.stdout,
        markdown::render_markdown_with(&failing, &ReportExtras::default(), templates).unwrap()
    );
    assert!(
        md.stdout.starts_with("## ❌ verdict: FAIL\n"),
        "{}",
        md.stdout
    );

    let named_md = report(
        dir.path(),
        &["-i", "verdict.json", "--name", "checkout pod-kill"],
        "",
    );
    assert!(
        named_md
            .stdout
            .starts_with("## ❌ verdict: FAIL — checkout pod-kill\n"),
        "{}",
        named_md.stdout
    );

    let page = report(
        dir.path(),
        &[
            "--input",
            "verdict.json",
            "--format",
            "html",
            "--name",
            "checkout pod-kill",
            "-o",
            "report.html",
        ],
        "",
    );
    assert_eq!(
        (page.code, page.stdout.as_str(), page.stderr.as_str()),
        (1, "", "")
    );
    let written = std::fs::read_to_string(dir.path().join("report.html")).expect("report.html");
    assert_eq!(
        written,
        html::render_html_with(&failing, &named("checkout pod-kill"), templates).unwrap()
    );

    // JSON in, the same JSON out: nothing is lost on the way through.
    let same = report(
        dir.path(),
        &["--input", "verdict.json", "--format", "json"],
        "",
    );
    assert_eq!((same.code, same.stdout.as_str()), (1, text.as_str()));

    let xml = report(
        dir.path(),
        &["--input", "verdict.json", "--format", "junit"],
        "",
    );
    assert_eq!(xml.code, 1);
    assert_eq!(xml.stdout, junit::render_junit(&failing, false).unwrap());

    // The exit code is the stored verdict's; `-` reads stdin.
    for (kind, code) in [(SampleVerdict::Pass, 0), (SampleVerdict::Inconclusive, 3)] {
        let r = sample_report(kind, 2);
        let piped = report(
            dir.path(),
            &["--input", "-", "--format", "json"],
            &json::render_json(&r).unwrap(),
        );
        assert_eq!((piped.code, piped.stderr.as_str()), (code, ""), "{kind:?}");
        assert_eq!(piped.stdout, json::render_json(&r).unwrap());
    }
}

#[test]
fn a_file_that_is_missing_or_not_a_verdict_report_is_named_with_what_is_wrong() {
    let dir = tempfile::tempdir().expect("temp dir");
    let d = dir.path();
    std::fs::write(
        d.join("broken.json"),
        "{\n  \"schema\": \"verdict.evaluate/v1\",\n  \"verdict\": \"pass\"\n",
    )
    .unwrap();
    std::fs::write(d.join("other.json"), r#"{"schema": "verdict.evaluate/v2"}"#).unwrap();
    std::fs::write(d.join("list.json"), "[1, 2]").unwrap();
    std::fs::write(d.join("junit.xml"), "<testsuites/>").unwrap();
    std::fs::write(
        d.join("partial.json"),
        "{\"schema\": \"verdict.evaluate/v1\",\n \"verdict\": \"maybe\"}",
    )
    .unwrap();
    for (file, stderr) in [
        (
            "missing.json",
            "verdict report: --input missing.json: cannot read it: No such file or directory (os error 2)\n",
        ),
        (
            "broken.json",
            "verdict report: --input broken.json: not JSON: EOF while parsing an object at line 4 column 0\n",
        ),
        (
            "junit.xml",
            "verdict report: --input junit.xml: not JSON: expected value at line 1 column 1\n",
        ),
        (
            "list.json",
            "verdict report: --input list.json: not a verdict report: expected a JSON object with \"schema\": \"verdict.evaluate/v1\", as written by `verdict evaluate --format json`\n",
        ),
        (
            "other.json",
            "verdict report: --input other.json: schema \"verdict.evaluate/v2\" is not supported: this verdict reads \"verdict.evaluate/v1\"\n",
        ),
        (
            "partial.json",
            "verdict report: --input partial.json: not a valid verdict.evaluate/v1 report: unknown variant `maybe`, expected one of `pass`, `warn`, `inconclusive`, `fail` at line 2 column 19\n",
        ),
    ] {
        let r = report(d, &["--input", file, "--format", "html"], "");
        assert_eq!(
            (r.code, r.stdout.as_str(), r.stderr.as_str()),
            (2, "", stderr),
            "{file}"
        );
    }
    let r = report(d, &["--input", "-"], "{}");
    assert_eq!(
        (r.code, r.stderr.as_str()),
        (
            2,
            "verdict report: --input - (stdin): not a verdict report: it has no \"schema\" field (expected \"verdict.evaluate/v1\", as written by `verdict evaluate --format json`)\n"
        )
    );
}

#[test]
fn an_experiment_id_with_input_or_with_input_only_options_is_a_usage_error() {
    let dir = tempfile::tempdir().expect("temp dir");
    let id = "01a2098d-88af-71e9-9703-971a278dbbba";
    for (args, says) in [
        (
            vec![id, "--input", "verdict.json"],
            "error: the argument '[EXPERIMENT]' cannot be used with '--input <FILE>'",
        ),
        (
            vec!["--input", "verdict.json", "--token", "t"],
            "error: the argument '--input <FILE>' cannot be used with '--token <TOKEN>'",
        ),
        (
            vec![id, "--name", "x"],
            "error: the argument '[EXPERIMENT]' cannot be used with '--name <NAME>'",
        ),
        (
            vec![id, "--templates", "tpl"],
            "error: the argument '[EXPERIMENT]' cannot be used with '--templates <DIR>'",
        ),
    ] {
        let r = report(dir.path(), &args, "");
        assert_eq!(r.code, 2, "{args:?}: {}", r.stderr);
        assert!(r.stderr.starts_with(says), "{args:?}: {}", r.stderr);
        assert!(
            r.stderr
                .contains("verdict report --input FILE.json [OPTIONS]"),
            "{args:?}: the usage shows both forms: {}",
            r.stderr
        );
    }
}
