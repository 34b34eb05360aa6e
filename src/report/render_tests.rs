//! Every template rendered for a passing, a failing and an inconclusive
//! report, and hostile names escaped in every format.
//!
//! The reports come from [`super::sample`]: the real planning and report
//! building over a scenario whose numbers are known (see the comments at
//! each assertion for the arithmetic).

use super::email::render_email;
use super::html::render_html_with;
use super::markdown::render_markdown_with;
use super::sample::{SampleVerdict, sample_extras, sample_report};
use super::slack::render_slack;
use super::templates::Templates;
use super::{ExperimentInfo, Link, Report, ReportExtras};

fn templates() -> &'static Templates {
    Templates::embedded().unwrap_or_else(|e| panic!("{e}"))
}

/// Every string value in a JSON document.
fn json_strings(v: &serde_json::Value, out: &mut Vec<String>) {
    match v {
        serde_json::Value::String(s) => out.push(s.clone()),
        serde_json::Value::Array(a) => a.iter().for_each(|x| json_strings(x, out)),
        serde_json::Value::Object(m) => m.values().for_each(|x| json_strings(x, out)),
        _ => {}
    }
}

/// `|` not escaped by a backslash: the column separators of a table row.
fn unescaped_pipes(line: &str) -> usize {
    let chars: Vec<char> = line.chars().collect();
    (0..chars.len())
        .filter(|&i| chars[i] == '|' && (i == 0 || chars[i - 1] != '\\'))
        .count()
}

/// Asserts `needle` is in `hay`; on failure shows only the text around
/// the longest prefix of `needle` that is there (reports are long).
#[track_caller]
fn has(hay: &str, needle: &str) {
    if hay.contains(needle) {
        return;
    }
    let mut n = needle.len();
    while n > 0 && !(needle.is_char_boundary(n) && hay.contains(&needle[..n])) {
        n -= 1;
    }
    let context = hay.find(&needle[..n]).map_or(String::new(), |i| {
        let start = (0..=i.saturating_sub(80))
            .rev()
            .find(|j| hay.is_char_boundary(*j))
            .unwrap_or(0);
        let end = (i + n + 200).min(hay.len());
        let end = (end..=hay.len())
            .find(|j| hay.is_char_boundary(*j))
            .unwrap_or(hay.len());
        hay[start..end].to_owned()
    });
    panic!(
        "missing {needle:?}\nlongest match {:?} in:\n{context}",
        &needle[..n]
    );
}

struct Rendered {
    html: String,
    markdown: String,
    slack: serde_json::Value,
    slack_text: Vec<String>,
    email: super::email::Email,
}

fn render_all(report: &Report, extras: &ReportExtras) -> Rendered {
    let t = templates();
    let slack = render_slack(report, extras, t).unwrap_or_else(|e| panic!("slack: {e}"));
    let mut slack_text = Vec::new();
    json_strings(&slack, &mut slack_text);
    Rendered {
        html: render_html_with(report, extras, t).unwrap_or_else(|e| panic!("html: {e}")),
        markdown: render_markdown_with(report, extras, t)
            .unwrap_or_else(|e| panic!("markdown: {e}")),
        slack,
        slack_text,
        email: render_email(report, extras, t).unwrap_or_else(|e| panic!("email: {e}")),
    }
}

#[test]
fn a_failing_run_shows_its_verdict_why_and_key_numbers_in_every_format() {
    let report = sample_report(SampleVerdict::Fail, 4);
    let r = render_all(&report, &sample_extras());

    // checkout-availability: 35% errors for the 3m fault, 3% for 4m after,
    // 0.04% otherwise, 40 req/s, 99.9%. Errors stop 4m after the fault;
    // the 1m rolling window clears 1m later and stays clean: TTR 5m.
    // Experiment error ratio (180×0.35 + 240×0.03 + 480×0.0004)/900 =
    // 0.0782, burn 78.2 over 15m of 30d: 2.7% of the budget. Peak
    // 0.35 / 0.001 = 350×. The page alert fired at 4m15s.
    let h = &r.html;
    has(
        h,
        r#"<h1 id="verdict-title" data-verdict="fail"><span class="badge">FAIL</span> <span>checkout pod-kill</span></h1>"#,
    );
    has(
        h,
        r#"<p class="headline">checkout-availability failed on time to recover (5m), warned on budget consumed (2.7%); 3 other SLOs held; both indicators within their criteria.</p>"#,
    );
    // The reasons are listed once, under Why, not again in the headline.
    assert_eq!(
        h.matches("time to recover 5m &gt; max 2m").count(),
        2,
        "Why and the check's row"
    );
    has(
        h,
        r#"<div class="stat fail"><div class="k">Time to recover</div><div class="v">5m</div>"#,
    );
    has(
        h,
        r#"<div class="stat warn"><div class="k">Budget consumed</div><div class="v">2.7%</div>"#,
    );
    has(
        h,
        r#"<div class="k">Peak burn rate</div><div class="v">350×</div>"#,
    );
    has(
        h,
        r#"<div class="k">Time to detect</div><div class="v">4m15s</div>"#,
    );
    // SLI before / during / after: 99.96% → 65.00% → 98.97%.
    has(h, "99.96% → <strong>65.00%</strong> → 98.97%");
    // At a glance: one row per SLO, the numbers that decided coloured by
    // their check, SLIs below the 99.9% objective marked.
    has(
        h,
        r##"<tr class="row-fail"><td class="name"><a href="#slo-checkout-availability">checkout-availability</a><span class="sub">99.9% · errors / requests</span></td><td class="result"><span class="pill pill-fail">fail</span></td><td class="num sli" data-label="SLI"><span>99.96%</span> → <strong class="dip">65.00%</strong> → <span class="dip">98.97%</span></td><td class="num warn" data-label="budget">2.7% <small>limit&nbsp;5%</small></td><td class="num" data-label="peak burn">350×</td><td class="num fail" data-label="TTR">5m</td><td class="num pass" data-label="TTD">4m15s</td></tr>"##,
    );
    has(
        h,
        r#"<article class="card slo verdict-fail" data-slo="checkout-availability" id="slo-checkout-availability">"#,
    );
    has(
        h,
        "<strong>checkout-availability</strong>: TTR 5m, previous 5 runs 55s–1m10s: regressed",
    );
    // Self-contained: every image inline, nothing fetched, no script.
    assert_eq!(
        h.matches("<img src=\"data:image/svg+xml;base64,").count(),
        7
    );
    for banned in ["<script", "<link", "src=\"http", "url(http", "@import"] {
        assert!(!h.contains(banned), "{banned} in the HTML");
    }
    has(h, "@media print");
    has(h, "@media (max-width: 640px)");

    let md = &r.markdown;
    assert!(
        md.starts_with("## ❌ verdict: FAIL — checkout pod-kill\n"),
        "{md}"
    );
    // Fault window: 7200 events, 35% bad = 2520; budget 350 × 3m / 30d = 2.4%.
    has(
        md,
        "| `checkout-availability` | 99.9% | ❌ fail | 35% | 7200 | 2520 | 2.4% / 2.7% | 350× | 5m | 4m15s (page alert due 2m45s) |\n",
    );
    has(
        md,
        "- ❌ `checkout-availability` max_time_to_recover: time to recover 5m > max 2m\n",
    );
    has(
        md,
        "- ⬆️ `checkout-availability` TTR 5m, previous 5 runs 55s–1m10s: regressed\n",
    );
    has(
        md,
        "```promql\nALERTS{alertstate=\"firing\",alertname=~\"CheckoutErrorBudgetBurn\"}\n```",
    );

    assert_eq!(
        r.slack["text"],
        "❌ FAIL: checkout pod-kill — checkout-availability: time to recover 5m &gt; max 2m (and 1 more)"
    );
    assert_eq!(
        r.slack["blocks"][0]["text"]["text"],
        "❌ FAIL · checkout pod-kill"
    );
    assert!(
        r.slack_text.iter().any(|s| s == "*Time to recover*\n5m"),
        "{:?}",
        r.slack_text
    );
    assert!(
        r.slack_text
            .iter()
            .any(|s| s == "*Time to detect*\n4m15s (page alert due 2m45s)")
    );
    let last = r.slack["blocks"]
        .as_array()
        .and_then(|b| b.iter().rev().nth(1))
        .cloned()
        .unwrap_or_default();
    assert_eq!(
        last["elements"][0]["url"],
        "https://verdict.example.com/experiments/exp-106"
    );
    assert_eq!(last["elements"][0]["style"], "danger");

    assert_eq!(
        r.email.subject,
        "[verdict] FAIL: checkout pod-kill — checkout-availability: time to recover 5m > max 2m (and 1 more)"
    );
    assert!(r.email.text.starts_with("❌ FAIL — checkout pod-kill\n\ncheckout-availability: time to recover 5m > max 2m (and 1 more)\n"), "{}", r.email.text);
    has(
        &r.email.text,
        "  Time to recover:              5m (± 1m15s, 8m after the fault started)\n",
    );
    has(
        &r.email.html,
        "src=\"cid:slo-checkout-availability@verdict\"",
    );
    assert_eq!(r.email.images.len(), 7);
    assert!(
        r.email
            .images
            .iter()
            .all(|i| i.data.starts_with(b"\x89PNG\r\n\x1a\n"))
    );
}

#[test]
fn a_passing_run_says_so_with_its_numbers_in_every_format() {
    let report = sample_report(SampleVerdict::Pass, 4);
    let r = render_all(&report, &sample_extras());
    // 30% errors for 3m that stop with the fault: the 1m window clears at
    // the fault end + 1m, TTR 1m; (180×0.3 + 720×0.0004)/900 → 2.1%.
    has(
        &r.html,
        r#"data-verdict="pass"><span class="badge">PASS</span>"#,
    );
    has(
        &r.html,
        r#"<p class="headline">All 4 SLOs held; both indicators within their criteria.</p>"#,
    );
    has(
        &r.html,
        r#"<div class="stat pass"><div class="k">Time to recover</div><div class="v">1m</div>"#,
    );
    has(
        &r.html,
        r#"<div class="stat pass"><div class="k">Budget consumed</div><div class="v">2.1%</div>"#,
    );
    assert!(!r.html.contains(r#"<section class="why""#));
    has(&r.html, "TTR 1m, previous 5 runs 55s–1m10s: unchanged");
    assert!(r.markdown.starts_with("## ✅ verdict: PASS — checkout pod-kill\n\n0 fail · 0 inconclusive · 0 warn · 16 pass\n"), "{}", r.markdown);
    assert!(!r.markdown.contains("### Why"));
    assert_eq!(
        r.slack["blocks"][0]["text"]["text"],
        "✅ PASS · checkout pod-kill"
    );
    assert!(r.slack_text.iter().any(|s| s == "*Time to recover*\n1m"));
    assert!(
        r.email
            .subject
            .starts_with("[verdict] PASS: checkout pod-kill — All 16 checks passed")
    );
    has(
        &r.email.text,
        "  Budget consumed:              2.1% (fault window 2.1%, limit 5%)\n",
    );
}

#[test]
fn an_inconclusive_run_names_the_missing_data_in_every_format() {
    let report = sample_report(SampleVerdict::Inconclusive, 4);
    let r = render_all(&report, &ReportExtras::default());
    let missing = "events in the fault window unknown: no series returned by ";
    has(
        &r.html,
        r#"data-verdict="inconclusive"><span class="badge">INCONCLUSIVE</span> <span>Experiment report</span>"#,
    );
    has(
        &r.html,
        &format!(
            "<strong>checkout-search-availability</strong> <code>min_events</code> {missing}<code>sum(rate(search_requests_total[180s]))</code> at 2026-03-14T10:03:00Z"
        ),
    );
    // The SLO that could not be judged comes first, at a glance and in the
    // cards, though it is the last in the spec.
    has(
        &r.html,
        r#"<p class="headline">checkout-search-availability could not be judged on events and budget consumed (not measured); 3 other SLOs held; both indicators within their criteria.</p>"#,
    );
    let first = |needle: &str| r.html.find(needle).unwrap_or(usize::MAX);
    assert!(
        first(
            r##"<tr class="row-inconclusive"><td class="name"><a href="#slo-checkout-search-availability">"##
        ) < first(r##"<a href="#slo-checkout-availability">"##)
    );
    assert!(
        first(r#"data-slo="checkout-search-availability""#)
            < first(r#"data-slo="checkout-availability""#)
    );
    // The SLO without data gets an empty chart that says so, still one per SLO.
    assert_eq!(r.html.matches("<article class=\"card slo").count(), 4);
    assert_eq!(
        r.html
            .matches("<figure class=\"chart\" id=\"chart-slo-")
            .count(),
        4
    );
    has(
        &r.html,
        "Error ratio of checkout-search-availability: no data to chart.",
    );
    assert!(r.markdown.starts_with("## ❔ verdict: INCONCLUSIVE\n"));
    has(
        &r.markdown,
        &format!(
            "- ❔ `checkout-search-availability` min_events: {missing}`sum(rate(search_requests_total[180s]))` at 2026-03-14T10:03:00Z\n"
        ),
    );
    has(
        &r.markdown,
        "| `checkout-search-availability` | 99.5% | ❔ inconclusive | — | — | — | — / — | — | undecided | — |",
    );
    assert!(
        r.slack_text
            .iter()
            .any(|s| s.starts_with("❔ *checkout-search-availability* — inconclusive"))
    );
    assert!(
        !r.slack_text.iter().any(|s| s == "Open the report"),
        "no report URL, no button"
    );
    assert!(r.email.subject.starts_with("[verdict] INCONCLUSIVE: Experiment report — checkout-search-availability: events in the fault window unknown"));
    has(
        &r.email.text,
        &format!(
            "  ❔ checkout-search-availability min_events: {missing}`sum(rate(search_requests_total[180s]))`"
        ),
    );
}

/// Markdown with fenced blocks and code spans removed: what is left is
/// parsed as markup.
fn outside_code(md: &str) -> String {
    let mut prose = String::new();
    let mut in_fence = false;
    for line in md.lines() {
        if line.starts_with("```") {
            in_fence = !in_fence;
            continue;
        }
        if in_fence
            || line.starts_with("<details>")
            || line.starts_with("</details>")
            || line.starts_with("<sub>")
        {
            continue;
        }
        // Code spans: a run of n backticks up to the next run of n.
        let chars: Vec<char> = line.chars().collect();
        let mut i = 0;
        while i < chars.len() {
            if chars[i] == '`' && (i == 0 || chars[i - 1] != '\\') {
                let n = chars[i..].iter().take_while(|c| **c == '`').count();
                let fence: String = "`".repeat(n);
                let rest: String = chars[i + n..].iter().collect();
                if let Some(end) = rest.find(&fence) {
                    i += n + rest[..end].chars().count() + n;
                    continue;
                }
            }
            prose.push(chars[i]);
            i += 1;
        }
        prose.push('\n');
    }
    prose
}

const SCRIPT: &str = "<script>alert(1)</script>";
const MD_LINK: &str = "[x](http://evil)";

/// A report whose names, descriptions, reasons and queries carry HTML,
/// Slack and Markdown injections, and an experiment with a hostile name
/// and a `javascript:` link.
fn hostile() -> (Report, ReportExtras) {
    let mut report = sample_report(SampleVerdict::Fail, 2);
    let slo = &mut report.slos[0];
    slo.id = format!("{SCRIPT}|{MD_LINK}|<!channel>");
    slo.description = format!("<@U024BE7LH> {MD_LINK} | # heading");
    if let Some(c) = slo
        .evaluation
        .checks
        .iter_mut()
        .find(|c| c.name == "max_time_to_recover")
    {
        c.reason = Some(format!(
            "time to recover 5m > max 2m {MD_LINK} <img src=x onerror=alert(4)> <!here> `q{{a=\"</code><script>\"}}`"
        ));
    }
    report.indicators[0].name = "<!channel> | cpu".to_owned();
    report.queries[0].promql = format!("ALERTS{{a=\"</pre>{SCRIPT}\"}} | {MD_LINK}");
    let extras = ReportExtras {
        experiment: Some(ExperimentInfo {
            id: None,
            name: format!("<!channel> *boom* {MD_LINK} {SCRIPT}"),
            kind: Some("<b>pod-kill</b>".to_owned()),
            target: Some("| a | b |\n## injected".to_owned()),
            description: None,
            links: vec![
                Link {
                    title: "<i>run</i>".to_owned(),
                    url: "javascript:alert(5)".to_owned(),
                },
                Link {
                    title: "dash".to_owned(),
                    url: "https://grafana.example.com/d/x?a=1&b=\"><script>".to_owned(),
                },
            ],
        }),
        report_url: Some("javascript:alert(6)".to_owned()),
        ..ReportExtras::default()
    };
    (report, extras)
}

#[test]
fn hostile_names_are_escaped_in_every_format() {
    let (report, extras) = hostile();
    let r = render_all(&report, &extras);

    // HTML page and HTML email: no live tag, attribute or javascript: link.
    for (what, h) in [("page", &r.html), ("email", &r.email.html)] {
        for banned in [
            "<script",
            "<img src=x",
            "<b>pod-kill",
            "<i>run",
            "javascript:",
            "\"><script",
        ] {
            assert!(!h.contains(banned), "{what}: {banned} survived");
        }
        has(h, "&lt;script&gt;alert(1)&lt;/script&gt;");
    }
    has(
        &r.html,
        "<code>q{a=&quot;&lt;/code&gt;&lt;script&gt;&quot;}</code>",
    );
    has(
        &r.html,
        r#"<a href="https://grafana.example.com/d/x?a=1&amp;b=%22%3E%3Cscript%3E""#,
    );
    // The javascript: link is shown as its title only.
    has(&r.html, "<dd>&lt;i&gt;run&lt;/i&gt; · <a href=");

    // Markdown: no live link, HTML or table break-out; the SLO table's rows
    // keep their 11 column separators.
    let md = &r.markdown;
    // Outside code (where text is literal), every bracket and angle
    // bracket of the injected text is escaped.
    // Our own links to vetted http(s) URLs aside.
    let own_links =
        regex::Regex::new(r"\[[^\]\\]*\]\(<https?://[^>\s]*>\)").unwrap_or_else(|e| panic!("{e}"));
    let prose = own_links
        .replace_all(&outside_code(md), "LINK")
        .into_owned();
    assert!(prose.contains("LINK"), "the dashboard link is a link");
    for (i, _) in prose.match_indices(['[', ']', '<']) {
        assert!(
            prose[..i].ends_with('\\'),
            "unescaped markup at {:?}",
            &prose[i.saturating_sub(40)..(i + 40).min(prose.len())]
        );
    }
    has(md, r"\[x\](http://evil)");
    assert_eq!(
        md.lines().next(),
        Some(
            r"## ❌ verdict: FAIL — \<!channel> \*boom\* \[x\](http://evil) \<script>alert(1)\</script>"
        )
    );
    for line in md.lines().filter(|l| l.starts_with("| `")) {
        let expected = if line.contains("cpu") || line.contains("restarts") {
            7
        } else {
            11
        };
        assert_eq!(unescaped_pipes(line), expected, "{line}");
    }
    assert!(
        !md.contains("\n## injected"),
        "a newline in a value started a heading"
    );
    assert!(!md.contains("](<javascript"));
    // The id is a code span: literal, with its pipes escaped for the table.
    has(
        md,
        "| `<script>alert(1)</script>\\|[x](http://evil)\\|<!channel>` | 99.9% |",
    );

    // Slack: no mention, link or HTML markup reaches Slack unescaped.
    for s in &r.slack_text {
        for banned in [
            "<!channel>",
            "<@U024BE7LH>",
            "<!here>",
            "<script>",
            "<http://evil",
            "javascript:",
        ] {
            assert!(!s.contains(banned), "{banned} in slack text {s:?}");
        }
    }
    assert!(
        r.slack_text
            .iter()
            .any(|s| s.contains("&lt;!channel&gt; *boom*"))
    );
    assert!(
        r.slack
            .to_string()
            .contains("&lt;script&gt;alert(1)&lt;/script&gt;")
    );

    // Email text is plain text (nothing to escape) but the subject is one line.
    assert!(!r.email.subject.contains('\n'));
    has(&r.email.text, "Target:    | a | b |\n## injected");
}
