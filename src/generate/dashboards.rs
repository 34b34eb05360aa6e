//! Grafana dashboards for SLOs: one per service and an overview of all.
//!
//! Owns: the dashboard model verdict generates (Grafana's classic JSON
//! model, `schemaVersion` [`SCHEMA_VERSION`]), stable uids derived from
//! names, the queries of every panel, file naming and the `--check`
//! comparison for dashboards.
//!
//! Every query reads the series the generated rules record
//! (`slo:sli_error:ratio_rate<w>`, `slo:period_error_budget_remaining:ratio`,
//! … labelled `sloth_id`/`sloth_service`/`sloth_slo`), the `ALERTS` of the
//! generated alert names, the latency histogram of latency SLIs, and the
//! `verdict_experiment_running{experiment,service,type}` gauge the verdict
//! server exports while an experiment runs (annotations). Thresholds (objective,
//! burn factors) come from the same [`slo_rules`] plan the rules use, so a
//! dashboard always draws the lines its alerts fire on.
//!
//! Must not: do I/O, hard-code a datasource uid (every query uses the
//! `${datasource}` variable), or depend on anything but the spec model and
//! the rule plan.

use std::collections::{BTreeMap, BTreeSet};
use std::path::PathBuf;

use serde_json::{Value, json};

use super::gofmt::{go_float, go_quote};
use super::output::{Difference, GENERATED_MARKER, diff_summary};
use super::rules::{AlertPlan, Severity, SloRules, sli_metric, slo_rules};
use super::windows::Window;
use super::{GenerateError, GenerateErrors, RuleOptions};
use crate::spec::model::{Sli, Slo};
use crate::spec::{PromDuration, SpecSet};

/// Grafana's dashboard JSON schema version the generated dashboards use
/// (Grafana 10.4 / 11.0; newer versions migrate it on load).
pub const SCHEMA_VERSION: u64 = 39;
/// Where the verdict server listens by default; the `verdict_url` variable's default.
pub const DEFAULT_VERDICT_URL: &str = "http://127.0.0.1:9797";
/// The uid of the overview dashboard.
pub const OVERVIEW_UID: &str = "verdict-overview";
/// The tag on every generated dashboard (dashboard links list them by it).
pub const TAG: &str = "verdict";
/// The datasource every panel, variable and annotation queries.
const DS_VAR: &str = "${datasource}";
/// Grafana's maximum uid length.
const MAX_UID_LEN: usize = 40;
/// Grid width of a Grafana dashboard.
const GRID_WIDTH: u64 = 24;

/// How dashboards are generated (the flags of `verdict generate dashboards`).
#[derive(Debug, Clone, PartialEq)]
pub struct DashboardOptions {
    /// Default period and alert windows: the same as for the rules, so the
    /// thresholds drawn are the ones the alerts use.
    pub rules: RuleOptions,
    /// Default of the `verdict_url` variable: where the experiment list is.
    pub verdict_url: String,
}

impl Default for DashboardOptions {
    fn default() -> Self {
        DashboardOptions {
            rules: RuleOptions::default(),
            verdict_url: DEFAULT_VERDICT_URL.to_string(),
        }
    }
}

/// One generated dashboard.
#[derive(Debug, Clone, PartialEq)]
pub struct Dashboard {
    pub uid: String,
    pub title: String,
    /// File name relative to the output directory (`<uid>.json`).
    pub path: PathBuf,
    /// The dashboard JSON model.
    pub model: Value,
}

impl Dashboard {
    /// The file contents: pretty JSON (keys sorted) and a final newline.
    pub fn contents(&self) -> String {
        let mut s = serde_json::to_string_pretty(&self.model).unwrap_or_default();
        s.push('\n');
        s
    }
}

/// One PromQL query found in a dashboard: a panel target, an annotation or
/// a variable's query.
#[derive(Debug, Clone, PartialEq)]
pub struct PanelQuery {
    /// Panel title, `annotation: <name>` or `variable: <name>`.
    pub panel: String,
    /// The target's `refId` (`A`, `B`, …); the annotation or variable name otherwise.
    pub ref_id: String,
    pub expr: String,
    /// An instant query (stat, bar gauge and table panels), not a range query.
    pub instant: bool,
}

/// Every query of a dashboard model, in panel order, then annotations, then
/// variables (`label_values(<selector>, label)` is returned as the selector).
pub fn queries(model: &Value) -> Vec<PanelQuery> {
    let mut out = Vec::new();
    for panel in model["panels"].as_array().into_iter().flatten() {
        let title = panel["title"].as_str().unwrap_or_default();
        for t in panel["targets"].as_array().into_iter().flatten() {
            if let Some(expr) = t["expr"].as_str() {
                out.push(PanelQuery {
                    panel: title.to_string(),
                    ref_id: t["refId"].as_str().unwrap_or_default().to_string(),
                    expr: expr.to_string(),
                    instant: t["instant"].as_bool().unwrap_or(false),
                });
            }
        }
    }
    for a in model["annotations"]["list"]
        .as_array()
        .into_iter()
        .flatten()
    {
        if let Some(expr) = a["expr"].as_str() {
            let name = a["name"].as_str().unwrap_or_default();
            out.push(PanelQuery {
                panel: format!("annotation: {name}"),
                ref_id: name.to_string(),
                expr: expr.to_string(),
                instant: false,
            });
        }
    }
    for v in model["templating"]["list"].as_array().into_iter().flatten() {
        if v["type"] != "query" {
            continue;
        }
        let name = v["name"].as_str().unwrap_or_default();
        let q = v["query"].as_str().unwrap_or_default();
        let selector = q
            .strip_prefix("label_values(")
            .and_then(|rest| rest.rsplit_once(','))
            .map(|(sel, _)| sel.trim().to_string())
            .unwrap_or_else(|| q.to_string());
        out.push(PanelQuery {
            panel: format!("variable: {name}"),
            ref_id: name.to_string(),
            expr: selector,
            instant: true,
        });
    }
    out
}

/// The uid of a service's dashboard: `verdict-svc-<service>`. Characters
/// Grafana does not allow in a uid become `-`; when that loses information
/// or the uid would exceed 40 characters, it is shortened and ends in an
/// 8-digit hash of the full name, so distinct services keep distinct uids.
pub fn service_uid(service: &str) -> String {
    stable_uid("verdict-svc-", service)
}

fn stable_uid(prefix: &str, name: &str) -> String {
    let slug: String = name
        .chars()
        .map(|c| {
            if c.is_ascii_alphanumeric() || c == '-' || c == '_' {
                c
            } else {
                '-'
            }
        })
        .collect();
    let uid = format!("{prefix}{slug}");
    if slug == name && !name.is_empty() && uid.len() <= MAX_UID_LEN {
        return uid;
    }
    let hash = format!("{:08x}", fnv1a(name.as_bytes()));
    let room = MAX_UID_LEN - prefix.len() - hash.len() - 1;
    let short: String = slug.chars().take(room).collect();
    format!("{prefix}{short}-{hash}")
}

/// FNV-1a, 32 bits: a tiny stable hash (the standard library's is not stable).
fn fnv1a(bytes: &[u8]) -> u32 {
    bytes.iter().fold(0x811c_9dc5_u32, |h, b| {
        (h ^ u32::from(*b)).wrapping_mul(0x0100_0193)
    })
}

/// One SLO with the rule plan its panels draw from.
struct SloView<'a> {
    slo: &'a Slo,
    rules: SloRules,
}

impl SloView<'_> {
    fn period(&self) -> PromDuration {
        self.rules.plan.period
    }
    /// `{sloth_id="order-availability"}`.
    fn selector(&self) -> String {
        format!("{{sloth_id={}}}", go_quote(&self.slo.id))
    }
    /// The error budget exactly as the alert expressions print it.
    fn budget_literal(&self) -> String {
        go_float(self.rules.plan.error_budget)
    }
    fn alerts(&self) -> impl Iterator<Item = &AlertPlan> {
        [&self.rules.plan.page, &self.rules.plan.ticket]
            .into_iter()
            .flatten()
    }
    fn alert_name(&self) -> Option<&str> {
        self.alerts().next().map(|a| a.name.as_str())
    }
}

/// Generates the overview and one dashboard per service (in order of first
/// appearance). Every SLO whose rules cannot be generated is an error.
pub fn generate_dashboards(
    set: &SpecSet,
    opts: &DashboardOptions,
) -> Result<Vec<Dashboard>, GenerateErrors> {
    let mut errors = Vec::new();
    // Service name → (source files, SLO views), in order of first appearance.
    let mut order: Vec<String> = Vec::new();
    let mut by_service: BTreeMap<String, (BTreeSet<PathBuf>, Vec<SloView<'_>>)> = BTreeMap::new();
    for service in &set.services {
        let entry = by_service.entry(service.name.clone()).or_insert_with(|| {
            order.push(service.name.clone());
            (BTreeSet::new(), Vec::new())
        });
        entry.0.insert(service.source.file.clone());
        for slo in &service.slos {
            match slo_rules(service, slo, &opts.rules) {
                Ok(rules) => entry.1.push(SloView { slo, rules }),
                Err(e) => errors.push(e),
            }
        }
    }
    if !errors.is_empty() {
        return Err(GenerateErrors(errors));
    }
    if by_service.values().all(|(_, v)| v.is_empty()) {
        return Ok(Vec::new());
    }
    let all_sources: BTreeSet<PathBuf> = by_service
        .values()
        .flat_map(|(files, _)| files.iter().cloned())
        .collect();
    let all_views: Vec<&SloView<'_>> = order
        .iter()
        .flat_map(|name| by_service[name].1.iter())
        .collect();

    let mut out = vec![overview(&all_views, &all_sources, opts)];
    let mut uids: BTreeMap<String, String> = BTreeMap::new();
    uids.insert(OVERVIEW_UID.to_string(), "the overview".to_string());
    for name in &order {
        let (files, views) = &by_service[name];
        if views.is_empty() {
            continue;
        }
        let d = service_dashboard(name, views, files, opts);
        if let Some(other) = uids.insert(d.uid.clone(), format!("service {name:?}")) {
            errors.push(GenerateError::Options(format!(
                "the dashboards of service {name:?} and {other} would share the uid {:?}; rename one service",
                d.uid
            )));
        }
        out.push(d);
    }
    if errors.is_empty() {
        Ok(out)
    } else {
        Err(GenerateErrors(errors))
    }
}

/// Compares generated dashboards with the generated files an output
/// directory holds (relative path → contents, see [`is_generated`]).
pub fn compare(expected: &[Dashboard], existing: &BTreeMap<PathBuf, String>) -> Vec<Difference> {
    let mut out = Vec::new();
    for d in expected {
        let contents = d.contents();
        match existing.get(&d.path) {
            None => out.push(Difference::Missing(d.path.clone())),
            Some(old) if *old != contents => out.push(Difference::Changed {
                path: d.path.clone(),
                summary: diff_summary(old, &contents),
            }),
            Some(_) => {}
        }
    }
    for path in existing.keys() {
        if !expected.iter().any(|d| &d.path == path) {
            out.push(Difference::Stale(path.clone()));
        }
    }
    out
}

/// Whether a JSON file's text is a dashboard verdict generated: its
/// `description` starts with the generated-file marker.
pub fn is_generated(text: &str) -> bool {
    serde_json::from_str::<Value>(text).is_ok_and(|v| {
        v["description"]
            .as_str()
            .is_some_and(|d| d.starts_with(marker_text()))
    })
}

/// `Code generated by verdict` (the marker without the comment sign).
fn marker_text() -> &'static str {
    GENERATED_MARKER.trim_start_matches(['#', ' '])
}

fn description(sources: &BTreeSet<PathBuf>, opts: &DashboardOptions, what: &str) -> String {
    let files: Vec<String> = sources.iter().map(|p| p.display().to_string()).collect();
    format!(
        "{} ({}) from {}: {what}. DO NOT EDIT: change the SLO spec and run `verdict generate dashboards`.",
        marker_text(),
        opts.rules.version,
        files.join(", ")
    )
}

// ---------------------------------------------------------------------------
// Building blocks of the JSON model.

fn datasource() -> Value {
    json!({"type": "prometheus", "uid": DS_VAR})
}

/// Grafana's number display: at most 10 significant decimals, so
/// `99.9 / 100` shows as 0.999, not 0.9990000000000001.
fn tidy(x: f64) -> f64 {
    let r = (x * 1e10).round() / 1e10;
    if r.is_finite() { r } else { x }
}

fn percent(objective: f64) -> String {
    format!("{}%", tidy(objective))
}

#[derive(Clone, Copy, PartialEq)]
enum Query {
    /// A range query drawn over time.
    Range,
    /// An instant query (stat, gauge).
    Instant,
    /// An instant query returned as a table (one row per series).
    Table,
}

fn target(ref_id: &str, expr: &str, legend: &str, kind: Query) -> Value {
    let mut t = json!({
        "datasource": datasource(),
        "editorMode": "code",
        "expr": expr,
        "legendFormat": legend,
        "range": kind == Query::Range,
        "instant": kind != Query::Range,
        "refId": ref_id,
    });
    if kind == Query::Table {
        t["format"] = json!("table");
    }
    t
}

/// Threshold steps: a base colour, then `(value, colour)` in increasing order.
fn thresholds(base: &str, steps: &[(f64, &str)]) -> Value {
    let mut list = vec![json!({"color": base, "value": null})];
    for (v, c) in steps {
        list.push(json!({"color": c, "value": tidy(*v)}));
    }
    json!({"mode": "absolute", "steps": list})
}

/// A panel link to verdict's experiment list, with every field of
/// `@grafana/schema`'s `DashboardLink` (Grafana itself reads title, url and
/// targetBlank).
fn link_to_experiments() -> Value {
    json!([{
        "title": "Chaos experiments in verdict",
        "url": "${verdict_url}/experiments",
        "targetBlank": true,
        "type": "link",
        "asDropdown": false,
        "icon": "external link",
        "includeVars": false,
        "keepTime": false,
        "tags": [],
        "tooltip": "Experiments verdict ran against this service, with their verdicts"
    }])
}

fn panel(kind: &str, title: &str, description: &str, targets: Vec<Value>) -> Value {
    json!({
        "type": kind,
        "title": title,
        "description": description,
        "datasource": datasource(),
        "targets": targets,
        "links": link_to_experiments(),
    })
}

fn timeseries(
    title: &str,
    description: &str,
    targets: Vec<Value>,
    unit: &str,
    thresholds_value: Value,
    draw_thresholds: bool,
) -> Value {
    let mut p = panel("timeseries", title, description, targets);
    p["fieldConfig"] = json!({
        "defaults": {
            "unit": unit,
            "color": {"mode": "palette-classic"},
            "custom": {
                "drawStyle": "line",
                "lineWidth": 2,
                "fillOpacity": 0,
                "showPoints": "never",
                "spanNulls": false,
                "axisSoftMin": 0,
                "thresholdsStyle": {"mode": if draw_thresholds { "dashed" } else { "off" }}
            },
            "thresholds": thresholds_value
        },
        "overrides": []
    });
    p["options"] = json!({
        "legend": {"displayMode": "list", "placement": "bottom", "showLegend": true},
        "tooltip": {"mode": "multi", "sort": "none"}
    });
    p
}

fn reduce_last() -> Value {
    json!({"calcs": ["lastNotNull"], "fields": "", "values": false})
}

fn stat(
    title: &str,
    description: &str,
    target: Value,
    unit: &str,
    decimals: u64,
    thresholds_value: Value,
) -> Value {
    let mut p = panel("stat", title, description, vec![target]);
    p["fieldConfig"] = json!({
        "defaults": {
            "unit": unit,
            "decimals": decimals,
            "color": {"mode": "thresholds"},
            "thresholds": thresholds_value,
            "noValue": "no data"
        },
        "overrides": []
    });
    p["options"] = json!({
        "reduceOptions": reduce_last(),
        "colorMode": "background",
        "graphMode": "none",
        "justifyMode": "auto",
        "orientation": "auto",
        "textMode": "auto"
    });
    p
}

fn bargauge(
    title: &str,
    description: &str,
    targets: Vec<Value>,
    unit: &str,
    thresholds_value: Value,
) -> Value {
    let mut p = panel("bargauge", title, description, targets);
    p["fieldConfig"] = json!({
        "defaults": {
            "unit": unit,
            "decimals": 1,
            "min": 0,
            "color": {"mode": "thresholds"},
            "thresholds": thresholds_value
        },
        "overrides": []
    });
    p["options"] = json!({
        "displayMode": "gradient",
        "orientation": "horizontal",
        "reduceOptions": reduce_last(),
        "showUnfilled": true,
        "valueMode": "color"
    });
    p
}

/// Overrides one series (by its legend) with a fixed colour and a dashed line.
fn dashed(name: &str, color: &str) -> Value {
    json!({
        "matcher": {"id": "byName", "options": name},
        "properties": [
            {"id": "color", "value": {"fixedColor": color, "mode": "fixed"}},
            {"id": "custom.lineStyle", "value": {"dash": [10, 10], "fill": "dash"}},
            {"id": "custom.lineWidth", "value": 1}
        ]
    })
}

/// Places panels left to right in rows of 24 columns, numbering them.
struct Grid {
    panels: Vec<Value>,
    next_id: u64,
    x: u64,
    y: u64,
    line_height: u64,
}

impl Grid {
    fn new() -> Self {
        Grid {
            panels: Vec::new(),
            next_id: 1,
            x: 0,
            y: 0,
            line_height: 0,
        }
    }

    fn newline(&mut self) {
        self.y += self.line_height;
        self.x = 0;
        self.line_height = 0;
    }

    fn place(&mut self, mut panel: Value, w: u64, h: u64) {
        if self.x + w > GRID_WIDTH {
            self.newline();
        }
        panel["id"] = json!(self.next_id);
        panel["gridPos"] = json!({"h": h, "w": w, "x": self.x, "y": self.y});
        self.next_id += 1;
        self.x += w;
        self.line_height = self.line_height.max(h);
        self.panels.push(panel);
    }

    fn row(&mut self, title: &str) {
        self.newline();
        let row = json!({
            "type": "row",
            "title": title,
            "collapsed": false,
            "panels": []
        });
        self.place(row, GRID_WIDTH, 1);
        self.newline();
    }
}

fn datasource_variable() -> Value {
    json!({
        "name": "datasource",
        "label": "Data source",
        "type": "datasource",
        "query": "prometheus",
        // Not found among the options on load: Grafana selects the default
        // Prometheus datasource.
        "current": {"selected": false, "text": "", "value": ""},
        "hide": 0,
        "includeAll": false,
        "multi": false,
        "options": [],
        "refresh": 1,
        "regex": "",
        "skipUrlSync": false
    })
}

fn verdict_url_variable(url: &str) -> Value {
    json!({
        "name": "verdict_url",
        "label": "verdict URL",
        "description": "Base URL of the verdict server; SLO panels link to its experiment list",
        "type": "textbox",
        "query": url,
        "current": {"selected": false, "text": url, "value": url},
        "options": [{"selected": true, "text": url, "value": url}],
        "hide": 0,
        "skipUrlSync": false
    })
}

fn all_current() -> Value {
    json!({"selected": true, "text": ["All"], "value": ["$__all"]})
}

fn query_variable(name: &str, label: &str, query: &str) -> Value {
    json!({
        "name": name,
        "label": label,
        "type": "query",
        "datasource": datasource(),
        "query": query,
        "current": all_current(),
        "hide": 0,
        "includeAll": true,
        "allValue": ".*",
        "multi": true,
        "options": [],
        "refresh": 2,
        "regex": "",
        "skipUrlSync": false,
        "sort": 1
    })
}

fn annotations() -> Value {
    json!({"list": [
        {
            "builtIn": 1,
            "datasource": {"type": "grafana", "uid": "-- Grafana --"},
            "enable": true,
            "hide": true,
            "iconColor": "rgba(0, 211, 255, 1)",
            "name": "Annotations & Alerts",
            "type": "dashboard"
        },
        {
            "datasource": datasource(),
            "enable": true,
            "hide": false,
            "iconColor": "orange",
            "name": "Chaos experiments",
            "expr": "max by (experiment, service, type) (verdict_experiment_running) > 0",
            "step": "1m",
            "titleFormat": "Chaos experiment {{experiment}}",
            "textFormat": "{{type}} on {{service}} (from verdict_experiment_running)",
            "tagKeys": "service,type",
            "useValueForTime": false
        }
    ]})
}

fn dashboard_links() -> Value {
    json!([
        {
            "title": "SLO dashboards",
            "type": "dashboards",
            "tags": [TAG],
            "asDropdown": true,
            "includeVars": false,
            "keepTime": true,
            "icon": "external link",
            "targetBlank": false,
            "tooltip": "",
            "url": ""
        },
        {
            "title": "verdict experiments",
            "type": "link",
            "tags": [],
            "asDropdown": false,
            "includeVars": false,
            "keepTime": false,
            "icon": "external link",
            "targetBlank": true,
            "tooltip": "Chaos experiments verdict ran, with their verdicts",
            "url": "${verdict_url}/experiments"
        }
    ])
}

fn dashboard(
    uid: &str,
    title: &str,
    description: String,
    tags: Vec<String>,
    variables: Vec<Value>,
    panels: Vec<Value>,
) -> Value {
    json!({
        "id": null,
        "uid": uid,
        "title": title,
        "description": description,
        "tags": tags,
        "editable": true,
        "graphTooltip": 1,
        "fiscalYearStartMonth": 0,
        "liveNow": false,
        "refresh": "1m",
        "schemaVersion": SCHEMA_VERSION,
        "version": 1,
        "time": {"from": "now-24h", "to": "now"},
        "timepicker": {},
        "timezone": "",
        "weekStart": "",
        "links": dashboard_links(),
        "annotations": annotations(),
        "templating": {"list": variables},
        "panels": panels
    })
}

/// A regex matching exactly the given names (RE2 special characters escaped).
fn exact_regex(names: &BTreeSet<&str>) -> String {
    names
        .iter()
        .map(|n| regex::escape(n))
        .collect::<Vec<_>>()
        .join("|")
}

/// The burn-rate thresholds of a period's alerts, with a colour and label each,
/// sorted by value (equal factors merged).
fn burn_steps(views: &[&SloView<'_>]) -> Vec<(f64, &'static str)> {
    // The most common period decides (ties: the shortest); the thresholds of
    // a table column cannot differ per row.
    let mut periods: BTreeMap<PromDuration, usize> = BTreeMap::new();
    for v in views {
        *periods.entry(v.period()).or_default() += 1;
    }
    let Some(best) = periods
        .iter()
        .max_by(|a, b| a.1.cmp(b.1).then(b.0.cmp(a.0)))
        .map(|(p, _)| *p)
    else {
        return Vec::new();
    };
    let Some(view) = views.iter().find(|v| v.period() == best) else {
        return Vec::new();
    };
    let w = &view.rules.plan.windows;
    let mut steps = vec![
        (w.ticket_slow.burn_factor(best), "yellow"),
        (w.ticket_quick.burn_factor(best), "orange"),
        (w.page_slow.burn_factor(best), "red"),
        (w.page_quick.burn_factor(best), "dark-red"),
    ];
    steps.sort_by(|a, b| a.0.total_cmp(&b.0));
    steps.dedup_by(|a, b| tidy(a.0) == tidy(b.0));
    steps
}

// ---------------------------------------------------------------------------
// The overview.

const BY_SLO: &str = "sloth_id, sloth_service, sloth_slo";

fn overview(
    views: &[&SloView<'_>],
    sources: &BTreeSet<PathBuf>,
    opts: &DashboardOptions,
) -> Dashboard {
    let filter = r#"{sloth_service=~"$service", sloth_slo=~"$slo"}"#;
    let names: BTreeSet<&str> = views.iter().filter_map(|v| v.alert_name()).collect();
    let alerts_filter = format!(
        r#"{{alertstate="firing", alertname=~{}, sloth_service=~"$service", sloth_slo=~"$slo"}}"#,
        go_quote(&exact_regex(&names))
    );
    let by = |expr: &str| format!("max by ({BY_SLO}) ({expr})");
    let ratio_of = |burn: &str| {
        format!(
            "1 - max by ({BY_SLO}) (slo:{burn}_burn_rate:ratio{filter} * on ({BY_SLO}) slo:error_budget:ratio{filter})"
        )
    };
    let burn = burn_steps(views);
    let mut g = Grid::new();

    g.row("All SLOs");
    let table_targets = vec![
        target(
            "A",
            &by(&format!("slo:objective:ratio{filter}")),
            "",
            Query::Table,
        ),
        target("B", &ratio_of("current"), "", Query::Table),
        target("C", &ratio_of("period"), "", Query::Table),
        target(
            "D",
            &by(&format!("slo:period_error_budget_remaining:ratio{filter}")),
            "",
            Query::Table,
        ),
        target(
            "E",
            &by(&format!("slo:current_burn_rate:ratio{filter}")),
            "",
            Query::Table,
        ),
        target(
            "F",
            &by(&format!("slo:period_burn_rate:ratio{filter}")),
            "",
            Query::Table,
        ),
        target(
            "G",
            &format!(
                "count by ({BY_SLO}) (ALERTS{alerts_filter}) or (0 * max by ({BY_SLO}) (sloth_slo_info{filter}))"
            ),
            "",
            Query::Table,
        ),
    ];
    let mut table = panel(
        "table",
        "SLOs: objective, SLI, error budget, burn rate",
        "One row per SLO. SLI now: over the shortest alert window (5m for 30d SLOs); SLI over the period: the SLO period (30d by default). Budget remaining: share of the period's error budget left (negative: overspent). Burn rate: how many times faster than sustainable the budget is spent (1 = exactly used up by the end of the period). Firing alerts: the generated page/ticket alerts of the SLO.",
        table_targets,
    );
    let column = |name: &str, props: Value| json!({"matcher": {"id": "byName", "options": name}, "properties": props});
    let colored = |t: Value| {
        json!([
            {"id": "custom.cellOptions", "value": {"type": "color-background", "mode": "basic"}},
            {"id": "thresholds", "value": t}
        ])
    };
    let mut overrides = vec![
        column(
            "Objective",
            json!([{"id": "unit", "value": "percentunit"}, {"id": "decimals", "value": 2}]),
        ),
        column(
            "SLI now",
            json!([{"id": "unit", "value": "percentunit"}, {"id": "decimals", "value": 3}]),
        ),
        column(
            "SLI over the period",
            json!([{"id": "unit", "value": "percentunit"}, {"id": "decimals", "value": 3}]),
        ),
    ];
    let mut budget_props = colored(thresholds("red", &[(0.0, "orange"), (0.25, "green")]));
    if let Some(a) = budget_props.as_array_mut() {
        a.push(json!({"id": "unit", "value": "percentunit"}));
        a.push(json!({"id": "decimals", "value": 1}));
    }
    overrides.push(column("Budget remaining", budget_props));
    for name in ["Burn rate now", "Burn rate over the period"] {
        let mut props = colored(thresholds("green", &burn));
        if let Some(a) = props.as_array_mut() {
            a.push(json!({"id": "decimals", "value": 2}));
            a.push(json!({"id": "unit", "value": "x"}));
        }
        overrides.push(column(name, props));
    }
    overrides.push(column(
        "Firing alerts",
        colored(thresholds("green", &[(1.0, "red")])),
    ));
    overrides.push(column(
        "SLO",
        json!([{"id": "links", "value": [{
            "title": "Chaos experiments in verdict",
            "url": "${verdict_url}/experiments",
            "targetBlank": true
        }]}]),
    ));
    table["fieldConfig"] = json!({
        "defaults": {"custom": {"align": "auto", "cellOptions": {"type": "auto"}}, "thresholds": thresholds("green", &[])},
        "overrides": overrides
    });
    table["options"] = json!({
        "showHeader": true,
        "cellHeight": "sm",
        "footer": {"show": false, "reducer": ["sum"], "countRows": false, "fields": ""},
        "sortBy": [{"displayName": "Budget remaining", "desc": false}]
    });
    table["transformations"] = json!([
        {"id": "merge", "options": {}},
        {"id": "organize", "options": {
            "excludeByName": {"Time": true, "sloth_id": true},
            "indexByName": {
                "sloth_service": 0, "sloth_slo": 1, "Value #A": 2, "Value #B": 3, "Value #C": 4,
                "Value #D": 5, "Value #E": 6, "Value #F": 7, "Value #G": 8
            },
            "renameByName": {
                "sloth_service": "Service", "sloth_slo": "SLO",
                "Value #A": "Objective", "Value #B": "SLI now", "Value #C": "SLI over the period",
                "Value #D": "Budget remaining", "Value #E": "Burn rate now",
                "Value #F": "Burn rate over the period", "Value #G": "Firing alerts"
            }
        }}
    ]);
    g.place(table, 24, 9);

    g.row("Budget and burn");
    g.place(
        bargauge(
            "Error budget remaining over the period",
            "Share of each SLO's error budget left over its period (negative: overspent).",
            vec![target(
                "A",
                &format!("slo:period_error_budget_remaining:ratio{filter}"),
                "{{sloth_service}}/{{sloth_slo}}",
                Query::Instant,
            )],
            "percentunit",
            thresholds("red", &[(0.0, "orange"), (0.25, "green")]),
        ),
        8,
        9,
    );
    g.place(
        timeseries(
            "Burn rate now, all SLOs",
            "Burn rate over the shortest alert window. Dashed lines: the burn factors of the alerts (ticket: 1× over 3d with 6h, 3× over 1d with 2h; page: 6× over 6h with 30m, 14.4× over 1h with 5m, for 30d SLOs).",
            vec![target(
                "A",
                &format!("slo:current_burn_rate:ratio{filter}"),
                "{{sloth_service}}/{{sloth_slo}}",
                Query::Range,
            )],
            "x",
            thresholds("green", &burn),
            true,
        ),
        10,
        9,
    );
    let running = stat(
        "Chaos experiments running",
        "Experiments verdict is running now (verdict_experiment_running); they are also drawn as annotations on every graph.",
        target(
            "A",
            "count(verdict_experiment_running > 0) or vector(0)",
            "",
            Query::Instant,
        ),
        "none",
        0,
        thresholds("green", &[(1.0, "orange")]),
    );
    g.place(running, 6, 9);

    g.row("Alerts");
    let mut firing = panel(
        "table",
        "Firing SLO alerts",
        "The generated multi-window multi-burn-rate alerts that fire now: page (sloth_severity=page) and ticket.",
        vec![target(
            "A",
            &format!("ALERTS{alerts_filter}"),
            "",
            Query::Table,
        )],
    );
    firing["fieldConfig"] = json!({
        "defaults": {"custom": {"align": "auto", "cellOptions": {"type": "auto"}}, "noValue": "No SLO alert is firing", "thresholds": thresholds("green", &[])},
        "overrides": []
    });
    firing["options"] = json!({"showHeader": true, "cellHeight": "sm", "footer": {"show": false, "reducer": ["sum"], "countRows": false, "fields": ""}});
    firing["transformations"] = json!([
        {"id": "organize", "options": {
            "excludeByName": {"Time": true, "Value": true, "__name__": true, "alertstate": true},
            "indexByName": {"alertname": 0, "sloth_severity": 1, "sloth_service": 2, "sloth_slo": 3},
            "renameByName": {"alertname": "Alert", "sloth_severity": "Severity", "sloth_service": "Service", "sloth_slo": "SLO"}
        }}
    ]);
    g.place(firing, 24, 7);

    let variables = vec![
        datasource_variable(),
        query_variable(
            "service",
            "Service",
            "label_values(sloth_slo_info, sloth_service)",
        ),
        query_variable(
            "slo",
            "SLO",
            r#"label_values(sloth_slo_info{sloth_service=~"$service"}, sloth_slo)"#,
        ),
        verdict_url_variable(&opts.verdict_url),
    ];
    let title = "SLO overview";
    Dashboard {
        uid: OVERVIEW_UID.to_string(),
        title: title.to_string(),
        path: PathBuf::from(format!("{OVERVIEW_UID}.json")),
        model: dashboard(
            OVERVIEW_UID,
            title,
            description(sources, opts, "overview of every SLO"),
            vec![TAG.to_string(), "slo".to_string()],
            variables,
            g.panels,
        ),
    }
}

// ---------------------------------------------------------------------------
// A service's dashboard.

fn service_dashboard(
    service: &str,
    views: &[SloView<'_>],
    sources: &BTreeSet<PathBuf>,
    opts: &DashboardOptions,
) -> Dashboard {
    let uid = service_uid(service);
    let refs: Vec<&SloView<'_>> = views.iter().collect();
    let burn = burn_steps(&refs);
    let filter = r#"{sloth_service="$service", sloth_slo=~"$slo"}"#;
    let names: BTreeSet<&str> = views.iter().filter_map(|v| v.alert_name()).collect();
    let mut g = Grid::new();

    g.row(&format!("Service {service}: all SLOs"));
    g.place(
        bargauge(
            "Error budget remaining over the period",
            "Share of each SLO's error budget left over its period (negative: overspent).",
            vec![target(
                "A",
                &format!("slo:period_error_budget_remaining:ratio{filter}"),
                "{{sloth_slo}}",
                Query::Instant,
            )],
            "percentunit",
            thresholds("red", &[(0.0, "orange"), (0.25, "green")]),
        ),
        8,
        6,
    );
    g.place(
        timeseries(
            "Burn rate now",
            "Burn rate over the shortest alert window, per SLO. Dashed lines: the alerts' burn factors.",
            vec![target(
                "A",
                &format!("slo:current_burn_rate:ratio{filter}"),
                "{{sloth_slo}}",
                Query::Range,
            )],
            "x",
            thresholds("green", &burn),
            true,
        ),
        10,
        6,
    );
    g.place(
        stat(
            "Firing SLO alerts",
            "How many of this service's generated SLO alerts fire now.",
            target(
                "A",
                &format!(
                    r#"count(ALERTS{{alertstate="firing", alertname=~{}, sloth_service="$service", sloth_slo=~"$slo"}}) or vector(0)"#,
                    go_quote(&exact_regex(&names))
                ),
                "",
                Query::Instant,
            ),
            "none",
            0,
            thresholds("green", &[(1.0, "red")]),
        ),
        3,
        6,
    );
    g.place(
        stat(
            "Chaos experiments on this service",
            "Experiments verdict is running now against this service (verdict_experiment_running); every graph shows all experiments as annotations.",
            target(
                "A",
                r#"count(verdict_experiment_running{service="$service"} > 0) or vector(0)"#,
                "",
                Query::Instant,
            ),
            "none",
            0,
            thresholds("green", &[(1.0, "orange")]),
        ),
        3,
        6,
    );

    for v in views {
        slo_section(&mut g, v);
    }

    let slo_names: Vec<&str> = views.iter().map(|v| v.slo.name.as_str()).collect();
    let options: Vec<Value> =
        std::iter::once(json!({"selected": true, "text": "All", "value": "$__all"}))
            .chain(
                slo_names
                    .iter()
                    .map(|n| json!({"selected": false, "text": n, "value": n})),
            )
            .collect();
    let variables = vec![
        datasource_variable(),
        json!({
            "name": "service",
            "label": "Service",
            "type": "constant",
            "query": service,
            "current": {"selected": false, "text": service, "value": service},
            "options": [{"selected": true, "text": service, "value": service}],
            "hide": 2,
            "skipUrlSync": false
        }),
        json!({
            "name": "slo",
            "label": "SLO",
            "description": "The SLOs the summary panels show",
            "type": "custom",
            "query": slo_names.join(","),
            "current": all_current(),
            "options": options,
            "hide": 0,
            "includeAll": true,
            "allValue": ".*",
            "multi": true,
            "skipUrlSync": false
        }),
        verdict_url_variable(&opts.verdict_url),
    ];
    let title = format!("SLOs: {service}");
    Dashboard {
        path: PathBuf::from(format!("{uid}.json")),
        model: dashboard(
            &uid,
            &title,
            description(sources, opts, &format!("SLOs of service {service}")),
            vec![TAG.to_string(), "slo".to_string(), service.to_string()],
            variables,
            g.panels,
        ),
        uid,
        title,
    }
}

/// `page 5m & 1h ≥ 14.4×`.
fn condition_label(severity: Severity, w: &Window, factor: f64) -> String {
    format!(
        "{} {} & {} ≥ {}×",
        severity.as_str(),
        w.short,
        w.long,
        tidy(factor)
    )
}

/// The row of one SLO: stats, SLI vs objective, burn rate against the alert
/// thresholds, budget over time, alert conditions, alert state, latency.
fn slo_section(g: &mut Grid, v: &SloView<'_>) {
    let slo = v.slo;
    let sel = v.selector();
    let period = v.period();
    let plan = &v.rules.plan;
    let short = plan.windows.page_quick.short;
    let objective = slo.objective_ratio();
    let budget = v.budget_literal();
    let sli_kind = match &slo.sli {
        Sli::Latency { threshold, .. } => format!("requests faster than {}s", tidy(*threshold)),
        _ => "requests without errors".to_string(),
    };
    g.row(&format!(
        "{} — {} of {sli_kind} over {period} (SLO {})",
        slo.name,
        percent(slo.objective),
        slo.id
    ));
    let about = if slo.description.is_empty() {
        String::new()
    } else {
        format!("{} ", slo.description)
    };

    let sli_thresholds = thresholds("red", &[(objective, "green")]);
    g.place(
        stat(
            &format!("SLI over {period}"),
            &format!("{about}Objective: {}.", percent(slo.objective)),
            target(
                "A",
                &format!("1 - {}{sel}", sli_metric(period)),
                "",
                Query::Instant,
            ),
            "percentunit",
            3,
            sli_thresholds.clone(),
        ),
        6,
        4,
    );
    g.place(
        stat(
            &format!("Error budget remaining ({period})"),
            &format!(
                "Share of the error budget ({} of requests over {period}) left; negative when overspent.",
                percent(100.0 - slo.objective)
            ),
            target(
                "A",
                &format!("slo:period_error_budget_remaining:ratio{sel}"),
                "",
                Query::Instant,
            ),
            "percentunit",
            1,
            thresholds("red", &[(0.0, "orange"), (0.25, "green")]),
        ),
        6,
        4,
    );
    let lowest_page = [&plan.page]
        .into_iter()
        .flatten()
        .map(|a| a.quick.1.min(a.slow.1))
        .next()
        .unwrap_or(plan.windows.page_slow.burn_factor(period));
    g.place(
        stat(
            &format!("Burn rate now ({short})"),
            "How many times faster than sustainable the budget is spent now (1× uses it up exactly by the end of the period).",
            target(
                "A",
                &format!("slo:current_burn_rate:ratio{sel}"),
                "",
                Query::Instant,
            ),
            "x",
            2,
            thresholds("green", &[(1.0, "orange"), (lowest_page, "red")]),
        ),
        6,
        4,
    );
    g.place(
        stat(
            &format!("Burn rate over {period}"),
            "Average burn rate over the period: above 1× the SLO is not met.",
            target(
                "A",
                &format!("slo:period_burn_rate:ratio{sel}"),
                "",
                Query::Instant,
            ),
            "x",
            2,
            thresholds("green", &[(1.0, "red")]),
        ),
        6,
        4,
    );

    // SLI vs objective.
    let objective_legend = format!("objective {}", percent(slo.objective));
    let long = plan.windows.page_quick.long;
    let mut sli = timeseries(
        "SLI vs objective",
        &format!(
            "{about}SLI = 1 − error ratio, over {short}, {long} and the {period} period; the dashed line is the objective."
        ),
        vec![
            target(
                "A",
                &format!("1 - {}{sel}", sli_metric(short)),
                &format!("SLI ({short})"),
                Query::Range,
            ),
            target(
                "B",
                &format!("1 - {}{sel}", sli_metric(long)),
                &format!("SLI ({long})"),
                Query::Range,
            ),
            target(
                "C",
                &format!("1 - {}{sel}", sli_metric(period)),
                &format!("SLI ({period})"),
                Query::Range,
            ),
            target(
                "D",
                &format!("slo:objective:ratio{sel}"),
                &objective_legend,
                Query::Range,
            ),
        ],
        "percentunit",
        sli_thresholds,
        false,
    );
    sli["fieldConfig"]["defaults"]["max"] = json!(1);
    sli["fieldConfig"]["defaults"]["custom"]
        .as_object_mut()
        .map(|c| c.remove("axisSoftMin"));
    sli["fieldConfig"]["overrides"] = json!([dashed(&objective_legend, "red")]);
    g.place(sli, 12, 8);

    // Burn rate with the thresholds of the alerts.
    let mut burn_targets = vec![
        target(
            "A",
            &format!("slo:current_burn_rate:ratio{sel}"),
            &format!("burn rate now ({short})"),
            Query::Range,
        ),
        target(
            "B",
            &format!("slo:period_burn_rate:ratio{sel}"),
            &format!("burn rate over {period}"),
            Query::Range,
        ),
    ];
    let mut burn_overrides = Vec::new();
    for ((severity, w, color), ref_id) in [
        (Severity::Page, plan.windows.page_quick, "dark-red"),
        (Severity::Page, plan.windows.page_slow, "red"),
        (Severity::Ticket, plan.windows.ticket_quick, "orange"),
        (Severity::Ticket, plan.windows.ticket_slow, "yellow"),
    ]
    .into_iter()
    .zip(b'C'..)
    {
        let factor = w.burn_factor(period);
        let legend = format!("{} threshold", condition_label(severity, &w, factor));
        burn_targets.push(target(
            &char::from(ref_id).to_string(),
            &format!("vector({})", go_float(factor)),
            &legend,
            Query::Range,
        ));
        burn_overrides.push(dashed(&legend, color));
    }
    let mut burn = timeseries(
        "Burn rate vs alert thresholds",
        "Burn rate now and over the period. Dashed: the burn factors of the page and ticket alerts; an alert fires when both its windows burn above its factor (see \"Alert conditions\").",
        burn_targets,
        "x",
        thresholds("green", &[]),
        false,
    );
    burn["fieldConfig"]["overrides"] = Value::Array(burn_overrides);
    g.place(burn, 12, 8);

    // Budget over time, budget burned per long window, alert conditions.
    let mut remaining = timeseries(
        &format!("Error budget remaining over {period}, over time"),
        "How the period's error budget drains: 100% is untouched, 0% used up.",
        vec![target(
            "A",
            &format!("slo:period_error_budget_remaining:ratio{sel}"),
            "budget remaining",
            Query::Range,
        )],
        "percentunit",
        thresholds("red", &[(0.0, "transparent")]),
        true,
    );
    remaining["fieldConfig"]["defaults"]["custom"]["fillOpacity"] = json!(10);
    g.place(remaining, 8, 8);

    let per_period = period.as_secs_f64() / long.as_secs_f64();
    let mut burned = timeseries(
        &format!("Error budget burned per {long}"),
        &format!(
            "Share of the {period} error budget spent in the last {long}: the {long} error ratio ÷ budget ÷ {}.",
            tidy(per_period)
        ),
        vec![target(
            "A",
            &format!(
                "{}{sel} / {budget} / {}",
                sli_metric(long),
                go_float(per_period)
            ),
            &format!("budget burned in {long}"),
            Query::Range,
        )],
        "percentunit",
        thresholds("green", &[]),
        false,
    );
    burned["fieldConfig"]["defaults"]["custom"]["drawStyle"] = json!("bars");
    burned["fieldConfig"]["defaults"]["custom"]["fillOpacity"] = json!(60);
    burned["fieldConfig"]["defaults"]["custom"]["lineWidth"] = json!(1);
    g.place(burned, 8, 8);

    let alerts: Vec<&AlertPlan> = v.alerts().collect();
    if !alerts.is_empty() {
        let mut targets = Vec::new();
        let mut ref_id = b'A';
        for a in &alerts {
            for (w, factor) in [a.quick, a.slow] {
                let names = format!("{}|{}", sli_metric(w.short), sli_metric(w.long));
                targets.push(target(
                    &char::from(ref_id).to_string(),
                    &format!(
                        "min({{__name__=~{}, sloth_id={}}}) / ({} * {budget})",
                        go_quote(&names),
                        go_quote(&slo.id),
                        go_float(factor)
                    ),
                    &condition_label(a.severity, &w, factor),
                    Query::Instant,
                ));
                ref_id += 1;
            }
        }
        g.place(
            bargauge(
                "Alert conditions (100% = fires)",
                "For each window pair of the alerts: the lower of its two error ratios ÷ (factor × budget). At 100% both windows burn at the factor and the alert fires.",
                targets,
                "percentunit",
                thresholds("green", &[(0.5, "orange"), (1.0, "red")]),
            ),
            8,
            8,
        );

        let mut targets = Vec::new();
        for (i, a) in alerts.iter().enumerate() {
            targets.push(target(
                &char::from(b'A' + i as u8).to_string(),
                &format!(
                    r#"max(ALERTS{{alertname={}, sloth_id={}, sloth_severity="{}", alertstate="firing"}}) or vector(0)"#,
                    go_quote(&a.name),
                    go_quote(&slo.id),
                    a.severity.as_str()
                ),
                &format!("{} ({})", a.name, a.severity.as_str()),
                Query::Range,
            ));
        }
        let mut state = panel(
            "state-timeline",
            "SLO alerts",
            "When the generated alerts fired (ALERTS). Page goes to the on-call, ticket to the team's queue.",
            targets,
        );
        state["fieldConfig"] = json!({
            "defaults": {
                "color": {"mode": "thresholds"},
                "thresholds": thresholds("green", &[(1.0, "red")]),
                "mappings": [{"type": "value", "options": {
                    "0": {"index": 0, "text": "OK", "color": "green"},
                    "1": {"index": 1, "text": "FIRING", "color": "red"}
                }}],
                "custom": {"fillOpacity": 80, "lineWidth": 0}
            },
            "overrides": []
        });
        state["options"] = json!({
            "mergeValues": true,
            "showValue": "auto",
            "alignValue": "left",
            "rowHeight": 0.8,
            "legend": {"displayMode": "list", "placement": "bottom", "showLegend": false},
            "tooltip": {"mode": "single", "sort": "none"}
        });
        let w = if matches!(slo.sli, Sli::Latency { .. }) {
            12
        } else {
            24
        };
        g.place(state, w, 6);
    }

    if let Sli::Latency {
        histogram,
        selector,
        threshold,
    } = &slo.sli
    {
        let inner = selector
            .trim()
            .trim_start_matches('{')
            .trim_end_matches('}')
            .trim();
        let bucket = format!("{histogram}_bucket{{{inner}}}");
        let targets = [0.5, 0.9, 0.99]
            .iter()
            .enumerate()
            .map(|(i, q)| {
                target(
                    &char::from(b'A' + i as u8).to_string(),
                    &format!(
                        "histogram_quantile({q}, sum by (le) (rate({bucket}[$__rate_interval])))"
                    ),
                    &format!("p{}", tidy(q * 100.0)),
                    Query::Range,
                )
            })
            .collect();
        let threshold_legend = format!("SLO threshold {}s", tidy(*threshold));
        let mut latency = timeseries(
            "Latency quantiles",
            &format!(
                "Quantiles of {histogram} for {inner}; a request slower than {}s counts against the SLO.",
                tidy(*threshold)
            ),
            targets,
            "s",
            thresholds("green", &[(*threshold, "red")]),
            true,
        );
        latency["fieldConfig"]["overrides"] = json!([]);
        latency["description"] = json!(format!(
            "{} Dashed: the {threshold_legend}.",
            latency["description"].as_str().unwrap_or_default()
        ));
        g.place(latency, 12, 6);
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::path::Path;

    fn set() -> SpecSet {
        let text = r#"
version: verdict/v1
service: shop.cart
slos:
  - name: availability
    objective: 99.9
    sli:
      events:
        error_query: sum(rate(http_requests_total{service="cart",code=~"5.."}[{{.window}}]))
        total_query: sum(rate(http_requests_total{service="cart"}[{{.window}}]))
  - name: latency
    objective: 99
    sli:
      latency:
        histogram: http_request_duration_seconds
        selector: '{service="cart"}'
        threshold: 0.3
    alerting:
      name: CartSlow
      ticket_alert:
        disable: true
"#;
        crate::spec::load_sources(&[(PathBuf::from("slos/cart.yaml"), text.to_string())]).unwrap()
    }

    /// Architecture invariant: generation is pure (the same check as
    /// `generate::tests::the_generator_does_no_io`, for this file and
    /// alertmanager.rs; the words are split so this test does not find itself).
    #[test]
    fn dashboards_and_alertmanager_generation_do_no_io() {
        let sources = [
            ("dashboards.rs", include_str!("dashboards.rs")),
            ("alertmanager.rs", include_str!("alertmanager.rs")),
        ];
        let forbidden: Vec<String> = ["fs", "net", "process", "env"]
            .iter()
            .map(|m| format!("std::{m}"))
            .chain(
                [
                    concat!("to", "kio"),
                    concat!("req", "west"),
                    concat!("sq", "lx"),
                ]
                .map(String::from),
            )
            .collect();
        for (file, text) in sources {
            for f in &forbidden {
                assert!(!text.contains(f.as_str()), "src/generate/{file} uses {f}");
            }
        }
    }

    #[test]
    fn uids_are_the_name_when_grafana_allows_it_and_hashed_otherwise() {
        assert_eq!(service_uid("order"), "verdict-svc-order");
        assert_eq!(service_uid("order_v2-eu"), "verdict-svc-order_v2-eu");
        // A dot is not allowed: replaced, and a hash keeps `a.b` apart from `a-b`.
        let dotted = service_uid("shop.cart");
        assert!(dotted.starts_with("verdict-svc-shop-cart-"), "{dotted}");
        assert_ne!(dotted, service_uid("shop-cart"));
        assert_eq!(dotted, service_uid("shop.cart"), "stable");
        let long = service_uid(&"x".repeat(60));
        assert_eq!(long.len(), MAX_UID_LEN);
        assert_ne!(long, service_uid(&"x".repeat(61)));
        // FNV-1a's published test vector.
        assert_eq!(fnv1a(b"a"), 0xe40c_292c);
    }

    #[test]
    fn one_overview_and_one_dashboard_per_service_with_stable_files() {
        let ds = generate_dashboards(&set(), &DashboardOptions::default()).unwrap();
        let files: Vec<&Path> = ds.iter().map(|d| d.path.as_path()).collect();
        let cart = service_uid("shop.cart");
        assert_eq!(
            files,
            [
                Path::new("verdict-overview.json"),
                Path::new(&format!("{cart}.json"))
            ]
        );
        assert_eq!(ds[1].title, "SLOs: shop.cart");
        assert_eq!(ds[1].model["uid"], cart.as_str());
        assert_eq!(ds[1].model["schemaVersion"], SCHEMA_VERSION);
        assert!(is_generated(&ds[1].contents()));
        assert!(!is_generated(r#"{"description": "hand-made"}"#));
        assert!(!is_generated("not json"));
        // Deterministic.
        let again = generate_dashboards(&set(), &DashboardOptions::default()).unwrap();
        assert_eq!(ds, again);
    }

    #[test]
    fn thresholds_come_from_the_rule_plan() {
        let ds = generate_dashboards(&set(), &DashboardOptions::default()).unwrap();
        let qs = queries(&ds[1].model);
        let exprs: Vec<&str> = qs.iter().map(|q| q.expr.as_str()).collect();
        // The page quick/slow and ticket quick/slow factors of a 30d SLO.
        for f in ["vector(14.4)", "vector(6)", "vector(3)", "vector(1)"] {
            assert!(exprs.contains(&f), "{f} missing");
        }
        // Alert conditions divide by factor × the budget as the alert prints it.
        assert!(exprs.contains(&r#"min({__name__=~"slo:sli_error:ratio_rate5m|slo:sli_error:ratio_rate1h", sloth_id="shop.cart-availability"}) / (14.4 * 0.0009999999999999432)"#));
        // Derived alert name for the first SLO, the given one for the second,
        // and no ticket query for the latency SLO whose ticket is disabled.
        assert!(exprs.contains(&r#"max(ALERTS{alertname="ShopCartAvailabilityErrorBudgetBurn", sloth_id="shop.cart-availability", sloth_severity="page", alertstate="firing"}) or vector(0)"#));
        assert!(exprs.contains(&r#"max(ALERTS{alertname="CartSlow", sloth_id="shop.cart-latency", sloth_severity="page", alertstate="firing"}) or vector(0)"#));
        assert!(!exprs.iter().any(|e| e.contains(
            r#"alertname="CartSlow", sloth_id="shop.cart-latency", sloth_severity="ticket""#
        )));
        assert!(exprs.contains(&r#"histogram_quantile(0.99, sum by (le) (rate(http_request_duration_seconds_bucket{service="cart"}[$__rate_interval])))"#));
        // The SLI stat is red below the objective, green from it.
        let sli = ds[1].model["panels"]
            .as_array()
            .unwrap()
            .iter()
            .find(|p| p["title"] == "SLI over 30d")
            .unwrap();
        assert_eq!(
            sli["fieldConfig"]["defaults"]["thresholds"]["steps"][1],
            json!({"color": "green", "value": 0.999})
        );
    }

    #[test]
    fn no_datasource_uid_is_hard_coded() {
        let ds = generate_dashboards(&set(), &DashboardOptions::default()).unwrap();
        for d in &ds {
            let text = d.contents();
            let model: Value = serde_json::from_str(&text).unwrap();
            let mut refs = Vec::new();
            collect_datasources(&model, &mut refs);
            assert!(!refs.is_empty());
            for r in refs {
                if r["type"] == "grafana" {
                    assert_eq!(r["uid"], "-- Grafana --", "the built-in annotations");
                } else {
                    assert_eq!(r, json!({"type": "prometheus", "uid": "${datasource}"}));
                }
            }
        }
    }

    fn collect_datasources(v: &Value, out: &mut Vec<Value>) {
        match v {
            Value::Object(m) => {
                for (k, x) in m {
                    if k == "datasource" && x.is_object() {
                        out.push(x.clone());
                    } else {
                        collect_datasources(x, out);
                    }
                }
            }
            Value::Array(a) => a.iter().for_each(|x| collect_datasources(x, out)),
            _ => {}
        }
    }

    #[test]
    fn comparison_reports_missing_changed_and_stale_files() {
        let ds = generate_dashboards(&set(), &DashboardOptions::default()).unwrap();
        let mut existing = BTreeMap::new();
        existing.insert(ds[0].path.clone(), ds[0].contents());
        existing.insert(PathBuf::from("verdict-svc-gone.json"), "{}".to_string());
        let diffs = compare(&ds, &existing);
        assert_eq!(
            diffs,
            vec![
                Difference::Missing(ds[1].path.clone()),
                Difference::Stale(PathBuf::from("verdict-svc-gone.json"))
            ]
        );
        existing.insert(
            ds[1].path.clone(),
            ds[1].contents().replace("now-24h", "now-6h"),
        );
        existing.remove(Path::new("verdict-svc-gone.json"));
        let diffs = compare(&ds, &existing);
        assert!(
            matches!(&diffs[..], [Difference::Changed { path, .. }] if *path == ds[1].path),
            "{diffs:?}"
        );
    }

    #[test]
    fn the_grid_wraps_at_24_columns_without_overlaps() {
        let ds = generate_dashboards(&set(), &DashboardOptions::default()).unwrap();
        for d in &ds {
            let mut cells = BTreeSet::new();
            for p in d.model["panels"].as_array().unwrap() {
                let g = &p["gridPos"];
                let (x, y, w, h) = (
                    g["x"].as_u64().unwrap(),
                    g["y"].as_u64().unwrap(),
                    g["w"].as_u64().unwrap(),
                    g["h"].as_u64().unwrap(),
                );
                assert!(x + w <= GRID_WIDTH, "{}", p["title"]);
                for cx in x..x + w {
                    for cy in y..y + h {
                        assert!(cells.insert((cx, cy)), "{} overlaps", p["title"]);
                    }
                }
            }
        }
    }
}
