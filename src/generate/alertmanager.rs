//! Alertmanager routing for the generated SLO alerts.
//!
//! Owns: the routing tree and receivers that send `sloth_severity="page"`
//! alerts to PagerDuty, `sloth_severity="ticket"` alerts to Slack and a copy
//! of every alert to verdict's webhook receiver (a first child route with
//! `continue: true`), grouped by `alertname`, `sloth_service`, `sloth_slo`;
//! the small YAML file (`--config`) that sets receivers' URLs, channels and
//! timings; and rendering either a whole Alertmanager configuration or a
//! route subtree (with its receivers) to merge into an existing one.
//!
//! Secrets: the PagerDuty routing key, the Slack webhook URL and verdict's
//! bearer token are only ever referenced by file (`routing_key_file`,
//! `api_url_file`, `credentials_file`), which Alertmanager reads at run time.
//! The `--config` file rejects inline secrets, and nothing here reads the
//! environment.
//!
//! Must not: do I/O (the CLI reads `--config` and writes the output).

use std::path::Path;

use super::emit::Emitter;
use super::output::GENERATED_MARKER;
use crate::spec::PromDuration;
use crate::spec::decode::{self, Decoder, Field, Fields};
use crate::spec::error::{FieldPath, SpecError, SpecErrors};
use crate::spec::yaml;

/// The path of verdict's Alertmanager webhook receiver on the verdict server.
pub const WEBHOOK_PATH: &str = "/api/v1/alerts/alertmanager";
/// Receiver getting a copy of every alert.
pub const VERDICT_RECEIVER: &str = "verdict";
/// Receiver of `sloth_severity="page"` alerts.
pub const PAGE_RECEIVER: &str = "slo-page-pagerduty";
/// Receiver of `sloth_severity="ticket"` alerts.
pub const TICKET_RECEIVER: &str = "slo-ticket-slack";

/// A whole Alertmanager configuration or only a route subtree.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Layout {
    /// A complete `alertmanager.yml` whose root route copies every alert to
    /// verdict and routes SLO alerts by severity.
    Config,
    /// `route:` (matching `sloth_severity=~"page|ticket"`) and `receivers:`
    /// to merge into an existing configuration: the route goes first under
    /// the root route's `routes:`, the receivers join the others.
    Route,
}

/// verdict's webhook receiver.
#[derive(Debug, Clone, PartialEq)]
pub struct VerdictReceiver {
    /// Base URL of the verdict server; the webhook is `<url>/api/v1/alerts/alertmanager`.
    pub url: String,
    /// File holding a bearer token for the webhook, if the server wants one.
    pub credentials_file: Option<String>,
}

/// PagerDuty (Events API v2) for page alerts.
#[derive(Debug, Clone, PartialEq)]
pub struct PagerDutyReceiver {
    /// File holding the integration's routing key.
    pub routing_key_file: String,
    /// Events API URL; Alertmanager's default when `None`.
    pub url: Option<String>,
    /// PagerDuty severity of the incident (`critical`, `error`, `warning`, `info`).
    pub severity: String,
}

/// Slack (incoming webhook) for ticket alerts.
#[derive(Debug, Clone, PartialEq)]
pub struct SlackReceiver {
    /// File holding the incoming webhook URL.
    pub api_url_file: String,
    pub channel: String,
}

/// Grouping and notification timings.
#[derive(Debug, Clone, PartialEq)]
pub struct Grouping {
    pub group_by: Vec<String>,
    pub group_wait: PromDuration,
    pub group_interval: PromDuration,
    /// Re-sends to verdict (and anything unrouted).
    pub repeat_interval: PromDuration,
    pub page_repeat_interval: PromDuration,
    pub ticket_repeat_interval: PromDuration,
}

/// Everything `verdict generate alertmanager` needs; [`Default`] gives the
/// sane defaults the `--config` file overrides field by field.
#[derive(Debug, Clone, PartialEq)]
pub struct AlertmanagerOptions {
    pub layout: Layout,
    pub verdict: VerdictReceiver,
    pub pagerduty: PagerDutyReceiver,
    pub slack: SlackReceiver,
    pub grouping: Grouping,
}

impl Default for AlertmanagerOptions {
    fn default() -> Self {
        let d = PromDuration::from_secs;
        AlertmanagerOptions {
            layout: Layout::Config,
            verdict: VerdictReceiver {
                url: super::dashboards::DEFAULT_VERDICT_URL.to_string(),
                credentials_file: None,
            },
            pagerduty: PagerDutyReceiver {
                routing_key_file: "/etc/alertmanager/secrets/pagerduty-routing-key".to_string(),
                url: None,
                severity: "critical".to_string(),
            },
            slack: SlackReceiver {
                api_url_file: "/etc/alertmanager/secrets/slack-webhook-url".to_string(),
                channel: "#slo-tickets".to_string(),
            },
            grouping: Grouping {
                group_by: ["alertname", "sloth_service", "sloth_slo"]
                    .map(String::from)
                    .to_vec(),
                group_wait: d(30),
                group_interval: d(5 * 60),
                repeat_interval: d(4 * 3600),
                page_repeat_interval: d(3600),
                ticket_repeat_interval: d(12 * 3600),
            },
        }
    }
}

/// Fields of the `--config` file that would hold a secret inline, and the
/// file reference to use instead.
const INLINE_SECRETS: [(&str, &str); 5] = [
    ("routing_key", "routing_key_file"),
    ("service_key", "routing_key_file"),
    ("api_url", "api_url_file"),
    ("credentials", "credentials_file"),
    ("bearer_token", "credentials_file"),
];

/// Reads a `--config` file over the defaults. Every problem is reported
/// with file, line, column and field path; unknown fields and inline
/// secrets are errors.
///
/// ```yaml
/// layout: config            # or `route`: a subtree to merge
/// verdict:
///   url: http://verdict.monitoring:9797
///   credentials_file: /etc/alertmanager/secrets/verdict-token
/// pagerduty:
///   routing_key_file: /etc/alertmanager/secrets/pagerduty-routing-key
///   severity: critical
/// slack:
///   api_url_file: /etc/alertmanager/secrets/slack-webhook-url
///   channel: "#shop-slo"
/// grouping:
///   group_by: [alertname, sloth_service, sloth_slo]
///   page_repeat_interval: 1h
/// ```
pub fn parse_config(file: &Path, text: &str) -> Result<AlertmanagerOptions, SpecErrors> {
    let docs = yaml::parse_documents(text).map_err(|e| {
        SpecErrors(vec![SpecError {
            file: file.to_path_buf(),
            loc: e.loc,
            path: String::new(),
            message: format!("invalid YAML: {}", e.message),
        }])
    })?;
    let mut opts = AlertmanagerOptions::default();
    let mut d = Decoder::with_source(file, text);
    match docs.as_slice() {
        [] => {}
        [doc] => decode_root(&mut d, &Field::new(doc, FieldPath::root()), &mut opts),
        [_, second, ..] => d.error(
            second.loc,
            &FieldPath::root(),
            "expected one YAML document, found several",
        ),
    }
    if d.errors.is_empty() {
        Ok(opts)
    } else {
        Err(SpecErrors(d.errors))
    }
}

fn decode_root(d: &mut Decoder, f: &Field<'_>, opts: &mut AlertmanagerOptions) {
    let Some(mut m) = Fields::of(d, f, false) else {
        return;
    };
    if let Some((layout, lf)) = m.opt_str(d, "layout") {
        match layout.as_str() {
            "config" => opts.layout = Layout::Config,
            "route" => opts.layout = Layout::Route,
            other => d.at(
                &lf,
                format!("unknown layout {other:?}: expected \"config\" (a whole alertmanager.yml) or \"route\" (a subtree to merge)"),
            ),
        }
    }
    if let Some(v) = m.opt("verdict")
        && let Some(mut s) = section(d, &v)
    {
        if let Some((url, uf)) = s.opt_str(d, "url") {
            check_url(d, &uf, &url);
            opts.verdict.url = url.trim_end_matches('/').to_string();
        }
        if let Some((path, pf)) = s.opt_str(d, "credentials_file") {
            opts.verdict.credentials_file = Some(non_empty(d, &pf, path));
        }
        s.finish(d);
    }
    if let Some(p) = m.opt("pagerduty")
        && let Some(mut s) = section(d, &p)
    {
        if let Some((path, pf)) = s.opt_str(d, "routing_key_file") {
            opts.pagerduty.routing_key_file = non_empty(d, &pf, path);
        }
        if let Some((url, uf)) = s.opt_str(d, "url") {
            check_url(d, &uf, &url);
            opts.pagerduty.url = Some(url);
        }
        if let Some((sev, sf)) = s.opt_str(d, "severity") {
            if ["critical", "error", "warning", "info"].contains(&sev.as_str()) {
                opts.pagerduty.severity = sev;
            } else {
                d.at(
                    &sf,
                    format!("PagerDuty severity {sev:?} must be critical, error, warning or info"),
                );
            }
        }
        s.finish(d);
    }
    if let Some(sl) = m.opt("slack")
        && let Some(mut s) = section(d, &sl)
    {
        if let Some((path, pf)) = s.opt_str(d, "api_url_file") {
            opts.slack.api_url_file = non_empty(d, &pf, path);
        }
        if let Some((channel, cf)) = s.opt_str(d, "channel") {
            opts.slack.channel = non_empty(d, &cf, channel);
        }
        s.finish(d);
    }
    if let Some(g) = m.opt("grouping")
        && let Some(mut s) = section(d, &g)
    {
        if let Some(gf) = s.opt("group_by") {
            let labels = decode::string_list(d, &gf);
            for l in &labels {
                if l != "..." && !decode::is_label_name(l) {
                    d.at(
                        &gf,
                        format!("{l:?} is not a label name ([a-zA-Z_][a-zA-Z0-9_]*) nor `...`"),
                    );
                }
            }
            if labels.is_empty() {
                d.at(
                    &gf,
                    "group_by must name at least one label (or `...` for no grouping)",
                );
            }
            opts.grouping.group_by = labels;
        }
        let g = &mut opts.grouping;
        for (key, slot) in [
            ("group_wait", &mut g.group_wait),
            ("group_interval", &mut g.group_interval),
            ("repeat_interval", &mut g.repeat_interval),
            ("page_repeat_interval", &mut g.page_repeat_interval),
            ("ticket_repeat_interval", &mut g.ticket_repeat_interval),
        ] {
            if let Some((v, vf)) = s.opt_duration(d, key) {
                if v.is_zero() && key != "group_wait" {
                    d.at(&vf, format!("{key} must be longer than zero"));
                } else {
                    *slot = v;
                }
            }
        }
        s.finish(d);
    }
    m.finish(d);
}

/// A section's fields, with inline secrets reported before anything else.
fn section<'n>(d: &mut Decoder, f: &Field<'n>) -> Option<Fields<'n>> {
    let mut s = Fields::of(d, f, false)?;
    for (secret, file_key) in INLINE_SECRETS {
        if let Some(sf) = s.opt(secret) {
            // The value itself is never repeated in the message.
            d.at(
                &sf,
                format!("secrets are not written into the generated configuration: put it in a file and set `{file_key}` to its path"),
            );
        }
    }
    Some(s)
}

fn non_empty(d: &mut Decoder, f: &Field<'_>, v: String) -> String {
    if v.trim().is_empty() {
        d.at(f, "must not be empty");
    }
    v
}

fn check_url(d: &mut Decoder, f: &Field<'_>, url: &str) {
    let rest = url
        .strip_prefix("http://")
        .or_else(|| url.strip_prefix("https://"));
    if rest.is_none_or(|r| r.is_empty() || r.starts_with('/')) {
        d.at(
            f,
            format!("{url:?} is not an http:// or https:// URL with a host"),
        );
    }
}

/// The webhook URL verdict receives alerts on.
pub fn webhook_url(opts: &AlertmanagerOptions) -> String {
    format!("{}{WEBHOOK_PATH}", opts.verdict.url.trim_end_matches('/'))
}

/// Renders the configuration (or route subtree) as YAML with a header that
/// marks it as generated.
pub fn render(opts: &AlertmanagerOptions, version: &str) -> String {
    let mut e = Emitter::with_capacity(4096);
    let what = match opts.layout {
        Layout::Config => "Alertmanager configuration for SLO alerts",
        Layout::Route => {
            "Alertmanager route subtree for SLO alerts. Merge it: put `route` first under your root route's `routes:` and add the `receivers` to yours"
        }
    };
    e.comment(&format!(
        "{} ({version}): {what}.\nDO NOT EDIT: change the --config file and run `verdict generate alertmanager`.\n\nsloth_severity=\"page\" → PagerDuty ({PAGE_RECEIVER}), \"ticket\" → Slack ({TICKET_RECEIVER}),\nand a copy of every alert → verdict's webhook ({VERDICT_RECEIVER}, continue: true).\nSecrets are read by Alertmanager from the *_file paths at run time.",
        &GENERATED_MARKER[2..],
    ));
    e.out.push('\n');
    let g = &opts.grouping;
    e.key(0, false, "route");
    e.entry(2, false, "receiver", VERDICT_RECEIVER);
    if opts.layout == Layout::Route {
        e.key(2, false, "matchers");
        e.item(2, "sloth_severity=~\"page|ticket\"");
    }
    e.key(2, false, "group_by");
    for l in &g.group_by {
        e.item(2, l);
    }
    e.entry(2, false, "group_wait", &g.group_wait.to_string());
    e.entry(2, false, "group_interval", &g.group_interval.to_string());
    e.entry(2, false, "repeat_interval", &g.repeat_interval.to_string());
    e.key(2, false, "routes");
    // Every alert reaching this route: a copy to verdict, then on.
    e.entry(2, true, "receiver", VERDICT_RECEIVER);
    e.entry_raw(4, false, "continue", "true");
    e.entry(2, true, "receiver", PAGE_RECEIVER);
    e.key(4, false, "matchers");
    e.item(4, "sloth_severity=\"page\"");
    e.entry(
        4,
        false,
        "repeat_interval",
        &g.page_repeat_interval.to_string(),
    );
    e.entry(2, true, "receiver", TICKET_RECEIVER);
    e.key(4, false, "matchers");
    e.item(4, "sloth_severity=\"ticket\"");
    e.entry(
        4,
        false,
        "repeat_interval",
        &g.ticket_repeat_interval.to_string(),
    );

    e.key(0, false, "receivers");
    e.entry(0, true, "name", VERDICT_RECEIVER);
    e.key(2, false, "webhook_configs");
    e.entry(2, true, "url", &webhook_url(opts));
    e.entry_raw(4, false, "send_resolved", "true");
    if let Some(path) = &opts.verdict.credentials_file {
        e.key(4, false, "http_config");
        e.key(6, false, "authorization");
        e.entry(8, false, "type", "Bearer");
        e.entry(8, false, "credentials_file", path);
    }

    let experiments = format!("{}/experiments", opts.verdict.url.trim_end_matches('/'));
    e.entry(0, true, "name", PAGE_RECEIVER);
    e.key(2, false, "pagerduty_configs");
    e.entry(
        2,
        true,
        "routing_key_file",
        &opts.pagerduty.routing_key_file,
    );
    if let Some(url) = &opts.pagerduty.url {
        e.entry(4, false, "url", url);
    }
    e.entry_raw(4, false, "send_resolved", "true");
    e.entry(4, false, "severity", &opts.pagerduty.severity);
    e.entry(4, false, "client", "verdict");
    e.entry(4, false, "client_url", &experiments);
    e.entry(
        4,
        false,
        "description",
        "[{{ .Status | toUpper }}] {{ .CommonLabels.alertname }}: {{ .GroupLabels.sloth_service }} {{ .GroupLabels.sloth_slo }} SLO is burning its error budget too fast (page)",
    );

    e.entry(0, true, "name", TICKET_RECEIVER);
    e.key(2, false, "slack_configs");
    e.entry(2, true, "api_url_file", &opts.slack.api_url_file);
    e.entry(4, false, "channel", &opts.slack.channel);
    e.entry_raw(4, false, "send_resolved", "true");
    e.entry(
        4,
        false,
        "title",
        "[{{ .Status | toUpper }}] {{ .CommonLabels.alertname }}: {{ .GroupLabels.sloth_service }} {{ .GroupLabels.sloth_slo }} SLO (ticket)",
    );
    let text = "{{ range .Alerts }}{{ .Annotations.title }}\n{{ .Annotations.summary }}\n{{ end }}Experiments: ".to_string() + &experiments;
    e.entry(4, false, "text", &text);
    e.out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parse(text: &str) -> Result<AlertmanagerOptions, Vec<String>> {
        parse_config(Path::new("am.yaml"), text)
            .map_err(|e| e.0.iter().map(|e| e.to_string()).collect())
    }

    #[test]
    fn an_empty_config_gives_the_defaults() {
        assert_eq!(parse("").unwrap(), AlertmanagerOptions::default());
        assert_eq!(parse("{}\n").unwrap(), AlertmanagerOptions::default());
    }

    #[test]
    fn the_config_overrides_field_by_field() {
        let o = parse(
            "layout: route\nverdict:\n  url: http://verdict.monitoring:9797/\n  credentials_file: /run/secrets/verdict\nslack:\n  channel: '#shop'\ngrouping:\n  group_by: [alertname, sloth_id]\n  page_repeat_interval: 30m\n",
        )
        .unwrap();
        assert_eq!(o.layout, Layout::Route);
        assert_eq!(
            webhook_url(&o),
            "http://verdict.monitoring:9797/api/v1/alerts/alertmanager"
        );
        assert_eq!(
            o.verdict.credentials_file.as_deref(),
            Some("/run/secrets/verdict")
        );
        assert_eq!(o.slack.channel, "#shop");
        assert_eq!(
            o.slack.api_url_file,
            AlertmanagerOptions::default().slack.api_url_file
        );
        assert_eq!(o.grouping.group_by, ["alertname", "sloth_id"]);
        assert_eq!(o.grouping.page_repeat_interval.to_string(), "30m");
        assert_eq!(o.grouping.ticket_repeat_interval.to_string(), "12h");
    }

    #[test]
    fn inline_secrets_are_rejected_without_repeating_them() {
        let errs = parse(
            "pagerduty:\n  routing_key: s3cr3t-key\nslack:\n  api_url: https://hooks.example/T0/B0/s3cr3t\n",
        )
        .unwrap_err();
        assert_eq!(
            errs,
            [
                "am.yaml:2:16: pagerduty.routing_key: secrets are not written into the generated configuration: put it in a file and set `routing_key_file` to its path",
                "am.yaml:4:12: slack.api_url: secrets are not written into the generated configuration: put it in a file and set `api_url_file` to its path",
            ]
        );
        assert!(!errs.iter().any(|e| e.contains("s3cr3t")));
    }

    #[test]
    fn mistakes_name_the_file_position_and_field() {
        let errs = parse(
            "layout: both\nverdict:\n  url: ftp://x\nslack:\n  chanel: '#x'\ngrouping:\n  group_by: [sloth-id]\n  group_interval: 0s\n",
        )
        .unwrap_err();
        assert_eq!(
            errs,
            [
                "am.yaml:1:9: layout: unknown layout \"both\": expected \"config\" (a whole alertmanager.yml) or \"route\" (a subtree to merge)",
                "am.yaml:3:8: verdict.url: \"ftp://x\" is not an http:// or https:// URL with a host",
                "am.yaml:5:3: slack.chanel: unknown field `chanel`, did you mean `channel`?",
                "am.yaml:7:13: grouping.group_by: \"sloth-id\" is not a label name ([a-zA-Z_][a-zA-Z0-9_]*) nor `...`",
                "am.yaml:8:19: grouping.group_interval: group_interval must be longer than zero",
            ]
        );
    }

    #[test]
    fn the_route_copies_everything_to_verdict_first_then_routes_by_severity() {
        let text = render(&AlertmanagerOptions::default(), "verdict-test");
        assert!(text.starts_with("# Code generated by verdict (verdict-test)"));
        let routes = text.split("  routes:\n").nth(1).unwrap();
        let verdict = routes
            .find("receiver: verdict\n    continue: true")
            .unwrap();
        let page = routes
            .find("receiver: slo-page-pagerduty\n    matchers:\n    - sloth_severity=\"page\"")
            .unwrap();
        let ticket = routes
            .find("receiver: slo-ticket-slack\n    matchers:\n    - sloth_severity=\"ticket\"")
            .unwrap();
        assert!(verdict < page && page < ticket);
        assert!(text.contains(
            "  - url: http://127.0.0.1:9797/api/v1/alerts/alertmanager\n    send_resolved: true\n"
        ));
        assert!(
            text.contains(
                "  - routing_key_file: /etc/alertmanager/secrets/pagerduty-routing-key\n"
            )
        );
        assert!(text.contains("  - api_url_file: /etc/alertmanager/secrets/slack-webhook-url\n"));
        assert!(text.contains("Experiments: http://127.0.0.1:9797/experiments"));
        assert!(!text.contains("matchers:\n  - sloth_severity=~"));
        let route = render(
            &AlertmanagerOptions {
                layout: Layout::Route,
                ..AlertmanagerOptions::default()
            },
            "v",
        );
        assert!(route.contains(
            "route:\n  receiver: verdict\n  matchers:\n  - sloth_severity=~\"page|ticket\"\n"
        ));
    }
}
