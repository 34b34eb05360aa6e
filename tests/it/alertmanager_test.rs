//! The generated Alertmanager configuration, checked by Alertmanager's own
//! `amtool`: it loads (`check-config`), the labels of the generated page and
//! ticket alerts route to the intended receivers (`config routes test`), and
//! the notification templates render (`template render`).

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::process::Command;

use serde_json::{Value, json};
use verdict::generate::alertmanager::{
    AlertmanagerOptions, Layout, PAGE_RECEIVER, TICKET_RECEIVER, VERDICT_RECEIVER, parse_config,
    render,
};
use verdict::generate::{RuleOptions, slo_rules};
use verdict::spec;

use crate::harness::{default_search_path, find_binary};

fn amtool() -> PathBuf {
    find_binary("amtool", &default_search_path()).unwrap_or_else(|e| panic!("{e:?}"))
}

fn amtool_run(args: &[&str]) -> (bool, String) {
    let o = Command::new(amtool()).args(args).output().unwrap();
    (
        o.status.success(),
        format!(
            "{}{}",
            String::from_utf8_lossy(&o.stdout),
            String::from_utf8_lossy(&o.stderr)
        ),
    )
}

fn check_config(path: &Path) {
    let (ok, output) = amtool_run(&["check-config", path.to_str().unwrap()]);
    assert!(
        ok,
        "amtool check-config {}:\n{output}\n{}",
        path.display(),
        std::fs::read_to_string(path).unwrap()
    );
}

/// The receivers `amtool config routes test` selects for an alert with `labels`.
fn receivers(config: &Path, labels: &BTreeMap<String, String>) -> String {
    let mut args = vec![
        "config".to_string(),
        "routes".to_string(),
        "test".to_string(),
        format!("--config.file={}", config.display()),
    ];
    args.extend(labels.iter().map(|(k, v)| format!("{k}={v}")));
    let o = Command::new(amtool()).args(&args).output().unwrap();
    assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
    String::from_utf8(o.stdout).unwrap().trim().to_string()
}

/// The labels `ALERTS` carries for a generated alert of `slo_id`: the SLO's
/// series labels, the alert's own labels and its name.
fn generated_alert(slo_id: &str, severity: &str) -> BTreeMap<String, String> {
    let set = spec::load_paths(&[PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("slos")]).unwrap();
    let slo = set.slos().find(|s| s.id == slo_id).unwrap();
    let service = set.services.iter().find(|s| s.name == slo.service).unwrap();
    let rules = slo_rules(service, slo, &RuleOptions::default()).unwrap();
    let plan = [rules.plan.page, rules.plan.ticket]
        .into_iter()
        .flatten()
        .find(|a| a.severity.as_str() == severity)
        .unwrap();
    let mut labels = rules.plan.series_labels.clone();
    labels.extend(plan.labels);
    labels.insert("alertname".into(), plan.name);
    labels
}

fn write(dir: &Path, name: &str, text: &str) -> PathBuf {
    let p = dir.join(name);
    std::fs::write(&p, text).unwrap();
    p
}

#[test]
fn the_default_configuration_passes_amtool_check_config_and_routes_by_severity() {
    let tmp = tempfile::tempdir().unwrap();
    let config = write(
        tmp.path(),
        "alertmanager.yml",
        &render(&AlertmanagerOptions::default(), "verdict-test"),
    );
    check_config(&config);

    let page = generated_alert("order-availability", "page");
    assert_eq!(page["alertname"], "OrderHighErrorRate");
    assert_eq!(page["sloth_severity"], "page");
    assert_eq!(
        receivers(&config, &page),
        format!("{VERDICT_RECEIVER},{PAGE_RECEIVER}")
    );
    let ticket = generated_alert("inventory-latency", "ticket");
    assert_eq!(ticket["alertname"], "InventoryHighLatency");
    assert_eq!(
        receivers(&config, &ticket),
        format!("{VERDICT_RECEIVER},{TICKET_RECEIVER}")
    );
    // Anything else still reaches verdict (and nothing else).
    let other = BTreeMap::from([("alertname".to_string(), "NodeDown".to_string())]);
    assert_eq!(receivers(&config, &other), VERDICT_RECEIVER);

    // Grouping and where notifications go, as Alertmanager reads them.
    let doc: Value = serde_saphyr::from_str(&std::fs::read_to_string(&config).unwrap()).unwrap();
    assert_eq!(
        doc["route"]["group_by"],
        json!(["alertname", "sloth_service", "sloth_slo"])
    );
    assert_eq!(doc["route"]["routes"][0]["continue"], true);
    assert_eq!(
        doc["receivers"][0]["webhook_configs"][0]["url"],
        "http://127.0.0.1:9797/api/v1/alerts/alertmanager"
    );
    assert_eq!(
        doc["receivers"][1]["pagerduty_configs"][0]["routing_key_file"],
        "/etc/alertmanager/secrets/pagerduty-routing-key"
    );
    assert_eq!(
        doc["receivers"][2]["slack_configs"][0]["api_url_file"],
        "/etc/alertmanager/secrets/slack-webhook-url"
    );
}

#[test]
fn a_custom_configuration_passes_and_its_route_subtree_merges_into_an_existing_tree() {
    let tmp = tempfile::tempdir().unwrap();
    let custom = parse_config(
        Path::new("am.yaml"),
        "verdict:\n  url: https://verdict.monitoring.svc:9797\n  credentials_file: /run/secrets/verdict-token\npagerduty:\n  routing_key_file: /run/secrets/pd\n  url: https://events.eu.pagerduty.com/v2/enqueue\n  severity: error\nslack:\n  api_url_file: /run/secrets/slack\n  channel: '#shop-slo'\ngrouping:\n  group_by: [alertname, sloth_id]\n  group_wait: 0s\n  page_repeat_interval: 30m\n",
    )
    .unwrap();
    let config = write(tmp.path(), "custom.yml", &render(&custom, "verdict-test"));
    check_config(&config);
    let text = std::fs::read_to_string(&config).unwrap();
    assert!(text.contains("url: https://verdict.monitoring.svc:9797/api/v1/alerts/alertmanager"));
    assert!(text.contains("credentials_file: /run/secrets/verdict-token"));

    // The subtree under someone's existing root: SLO alerts get our
    // routing, everything else keeps theirs.
    let subtree = render(
        &AlertmanagerOptions {
            layout: Layout::Route,
            ..custom
        },
        "verdict-test",
    );
    let doc: Value = serde_saphyr::from_str(&subtree).unwrap();
    let existing = json!({
        "route": {
            "receiver": "team-default",
            "routes": [doc["route"].clone(), {"receiver": "db-oncall", "matchers": ["team=\"db\""]}]
        },
        "receivers": [{"name": "team-default"}, {"name": "db-oncall"}]
    });
    let mut merged = existing.clone();
    merged["receivers"]
        .as_array_mut()
        .unwrap()
        .extend(doc["receivers"].as_array().unwrap().iter().cloned());
    // JSON is YAML: Alertmanager reads it as is.
    let config = write(tmp.path(), "merged.yml", &merged.to_string());
    check_config(&config);
    let page = generated_alert("order-availability", "page");
    assert_eq!(
        receivers(&config, &page),
        format!("{VERDICT_RECEIVER},{PAGE_RECEIVER}")
    );
    let ticket = generated_alert("notification-availability", "ticket");
    assert_eq!(
        receivers(&config, &ticket),
        format!("{VERDICT_RECEIVER},{TICKET_RECEIVER}")
    );
    let db = BTreeMap::from([("team".to_string(), "db".to_string())]);
    assert_eq!(receivers(&config, &db), "db-oncall");
    let other = BTreeMap::from([("alertname".to_string(), "NodeDown".to_string())]);
    assert_eq!(receivers(&config, &other), "team-default");
}

#[test]
fn the_notification_templates_render_for_a_generated_alert() {
    let text = render(&AlertmanagerOptions::default(), "verdict-test");
    let doc: Value = serde_saphyr::from_str(&text).unwrap();
    let labels = generated_alert("order-availability", "page");
    let annotations = json!({
        "title": "(page) order availability SLO error budget burn rate is too fast.",
        "summary": "High error rate on the order service"
    });
    let data = json!({
        "receiver": PAGE_RECEIVER,
        "status": "firing",
        "alerts": [{
            "status": "firing", "labels": labels, "annotations": annotations,
            "startsAt": "2026-01-01T23:58:00Z", "endsAt": "0001-01-01T00:00:00Z",
            "generatorURL": "", "fingerprint": "0"
        }],
        "groupLabels": {"alertname": "OrderHighErrorRate", "sloth_service": "order", "sloth_slo": "availability"},
        "commonLabels": labels,
        "commonAnnotations": annotations,
        "externalURL": "http://127.0.0.1:9093"
    });
    let tmp = tempfile::tempdir().unwrap();
    let data_file = write(tmp.path(), "data.json", &data.to_string());
    let render_template = |template: &str| {
        let (ok, output) = amtool_run(&[
            "template",
            "render",
            "--template.glob=/dev/null",
            &format!("--template.data={}", data_file.display()),
            &format!("--template.text={template}"),
        ]);
        assert!(ok, "{template}: {output}");
        output.trim_end().to_string()
    };
    let pd = &doc["receivers"][1]["pagerduty_configs"][0];
    assert_eq!(
        render_template(pd["description"].as_str().unwrap()),
        "[FIRING] OrderHighErrorRate: order availability SLO is burning its error budget too fast (page)"
    );
    let slack = &doc["receivers"][2]["slack_configs"][0];
    assert_eq!(
        render_template(slack["title"].as_str().unwrap()),
        "[FIRING] OrderHighErrorRate: order availability SLO (ticket)"
    );
    assert_eq!(
        render_template(slack["text"].as_str().unwrap()),
        "(page) order availability SLO error budget burn rate is too fast.\nHigh error rate on the order service\nExperiments: http://127.0.0.1:9797/experiments"
    );
}

#[test]
fn the_command_writes_checks_and_refuses_inline_secrets() {
    let tmp = tempfile::tempdir().unwrap();
    let bin = env!("CARGO_BIN_EXE_verdict");
    let out = tmp.path().join("am/alertmanager.yml");
    let cfg = write(tmp.path(), "am.yaml", "slack:\n  channel: '#shop'\n");
    let o = Command::new(bin)
        .args(["generate", "alertmanager", "--config"])
        .arg(&cfg)
        .arg("--out")
        .arg(&out)
        .output()
        .unwrap();
    assert_eq!(
        o.status.code(),
        Some(0),
        "{}",
        String::from_utf8_lossy(&o.stderr)
    );
    check_config(&out);
    assert!(
        std::fs::read_to_string(&out)
            .unwrap()
            .contains("channel: '#shop'")
    );
    let check = |extra: &[&str]| {
        Command::new(bin)
            .args(["generate", "alertmanager", "--check", "--config"])
            .arg(&cfg)
            .arg("--out")
            .arg(&out)
            .args(extra)
            .output()
            .unwrap()
            .status
            .code()
    };
    assert_eq!(check(&[]), Some(0));
    assert_eq!(check(&["--layout", "route"]), Some(1));

    let secret = write(
        tmp.path(),
        "secret.yaml",
        "pagerduty:\n  routing_key: R0UT1NGK3Y\n",
    );
    let o = Command::new(bin)
        .args(["generate", "alertmanager", "--config"])
        .arg(&secret)
        .output()
        .unwrap();
    assert_eq!(o.status.code(), Some(2));
    let err = String::from_utf8_lossy(&o.stderr);
    assert!(
        err.contains("pagerduty.routing_key: secrets are not written"),
        "{err}"
    );
    assert!(!err.contains("R0UT1NGK3Y") && o.stdout.is_empty());
}
