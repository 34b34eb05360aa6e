//! Pyrra import: one `pyrra.dev/v1alpha1` `ServiceLevelObjective` object
//! becomes a service with one SLO. Owns the translation of Pyrra's fields;
//! does not read files or touch the network.
//!
//! Mapping (every field Pyrra's Go types define is read; anything verdict
//! cannot honor is an error naming the field):
//!
//! - `spec.target` (percent, a string in Pyrra) → objective; `spec.window` →
//!   period; `spec.description` → description.
//! - `indicator.ratio` → an events SLI:
//!   `sum(rate(<errors.metric>[{{.window}}]))` / `sum(rate(<total.metric>[{{.window}}]))`.
//! - `indicator.latency` → a good/total SLI over the success bucket
//!   (`success.metric`, which must select an `le` bucket) and the total count.
//! - Metrics must be plain vector selectors, as Pyrra requires; the queries
//!   are built from the PromQL syntax tree, so matchers come out sorted, as in
//!   Pyrra's own rules.
//! - `grouping: [a, b]` becomes `sum by (a, b) (...)` in both queries, so the
//!   SLI has one series per group (Pyrra's meaning: one SLO per group).
//! - `indicator.latencyNative` and `indicator.bool_gauge` are refused.
//! - `alerting.disabled: true` or `alerting.burnrates: false` disables the page
//!   and ticket alerts; `alerting.name` names them. `absent`/`absentName`
//!   (Pyrra's metric-absent alert) are accepted: verdict generates no absent
//!   alert, and reports missing data in its verdicts through `on_no_data`.
//! - `partial_response_strategy` (Thanos Ruler only): `abort` (the default) is
//!   accepted, `warn` is refused.
//! - Service name: the `service` label, else `app.kubernetes.io/name`, else
//!   the object name. SLO name: `metadata.name`; id `<service>-<name>`.
//! - Like Pyrra, labels prefixed `pyrra.dev/` become SLO labels and
//!   annotations prefixed `pyrra.dev/` alert annotations (prefix removed).
//!   All Kubernetes metadata is kept in `Service.k8s`.

use std::collections::BTreeMap;

use promql_parser::parser::{Expr, VectorSelector};

use super::check;
use super::decode::{
    Decoder, Field, Fields, duration, is_label_name, number, string_list, string_map,
};
use super::model::{Alerting, K8sMeta, Service, Sli, Slo, Source, SpecFormat, VerdictSpec};
use super::openslo::{Grouping, sum_rate};
use super::promql::validate;

/// Labels and annotations with this prefix are propagated to rules, as in Pyrra.
const PROPAGATE: &str = "pyrra.dev/";

/// Decodes one Pyrra `ServiceLevelObjective` object; None when it had errors
/// (recorded in d).
pub fn decode_pyrra(d: &mut Decoder, doc: &Field<'_>) -> Option<Service> {
    let before = d.errors.len();
    let mut m = Fields::of(d, doc, false)?;
    if let Some((v, vf)) = m.req_str(d, "apiVersion")
        && v != "pyrra.dev/v1alpha1"
    {
        d.at(
            &vf,
            format!("unsupported Pyrra apiVersion `{v}`, expected pyrra.dev/v1alpha1"),
        );
    }
    if let Some((k, kf)) = m.req_str(d, "kind")
        && k != "ServiceLevelObjective"
    {
        d.at(
            &kf,
            format!("unsupported Pyrra kind `{k}`, expected ServiceLevelObjective"),
        );
    }
    let meta = m.req(d, "metadata").and_then(|f| metadata(d, &f));
    let spec = m.req(d, "spec").and_then(|f| spec(d, &f));
    m.finish(d);
    let ((k8s, service), spec) = (meta?, spec?);
    if d.errors.len() != before {
        return None;
    }

    let mut labels = BTreeMap::new();
    for (k, v) in &k8s.labels {
        if let Some(name) = k.strip_prefix(PROPAGATE) {
            labels.insert(name.to_string(), v.clone());
        }
    }
    let mut alerting = spec.alerting;
    for (k, v) in &k8s.annotations {
        if let Some(name) = k.strip_prefix(PROPAGATE) {
            alerting.annotations.insert(name.to_string(), v.clone());
        }
    }
    let source = Source::new(d.file, doc.loc());
    let slo = Slo {
        id: format!("{service}-{}", k8s.name),
        service: service.clone(),
        name: k8s.name.clone(),
        objective: spec.objective,
        description: spec.description,
        labels,
        period: Some(spec.window),
        sli: spec.sli,
        alerting,
        verdict: VerdictSpec::default(),
        source: source.clone(),
    };
    Some(Service {
        name: service,
        format: SpecFormat::Pyrra,
        source,
        labels: BTreeMap::new(),
        slos: vec![slo],
        indicators: Vec::new(),
        k8s: Some(k8s),
    })
}

/// Kubernetes metadata and the service name derived from it.
fn metadata(d: &mut Decoder, f: &Field<'_>) -> Option<(K8sMeta, String)> {
    let mut m = Fields::of(d, f, false)?;
    let name = m.req_str(d, "name");
    let namespace = m.opt_str(d, "namespace").map(|v| v.0);
    let labels_field = m.opt("labels");
    let labels = labels_field
        .as_ref()
        .map(|l| string_map(d, l))
        .unwrap_or_default();
    let annotations = m.labels(d, "annotations");
    m.finish(d);
    let (name, nf) = name?;
    if !check::name(d, &nf, &name, "SLO") {
        return None;
    }
    // Pyrra has no service: take it from the conventional labels.
    let mut service = (name.clone(), nf);
    if let Some(lf) = &labels_field {
        for key in ["service", "app.kubernetes.io/name"] {
            if let (Some(node), Some(v)) = (lf.node.get(key), labels.get(key)) {
                service = (v.clone(), Field::new(node, lf.path.key(key)));
                break;
            }
        }
    }
    if !check::name(d, &service.1, &service.0, "service") {
        return None;
    }
    let propagated: Vec<String> = labels
        .keys()
        .filter_map(|k| k.strip_prefix(PROPAGATE).map(str::to_string))
        .collect();
    if let Some(lf) = &labels_field {
        check::label_names(d, lf, &propagated);
    }
    Some((
        K8sMeta {
            name,
            namespace,
            labels,
            annotations,
        },
        service.0,
    ))
}

struct Spec {
    objective: f64,
    window: super::duration::PromDuration,
    description: String,
    sli: Sli,
    alerting: Alerting,
}

fn spec(d: &mut Decoder, f: &Field<'_>) -> Option<Spec> {
    let mut s = Fields::of(d, f, false)?;
    let description = s.opt_str(d, "description").map(|v| v.0).unwrap_or_default();
    let objective = s
        .req(d, "target")
        .and_then(|t| number(d, &t, true).filter(|v| check::objective_percent(d, &t, *v)));
    let window = s.req(d, "window").and_then(|w| {
        let v = duration(d, &w)?;
        if v.is_zero() {
            d.at(&w, "window must be longer than zero");
            return None;
        }
        Some(v)
    });
    let sli = s.req(d, "indicator").and_then(|i| indicator(d, &i));
    let alerting = match s.opt("alerting") {
        Some(a) => alerting(d, &a),
        None => Some(Alerting::default()),
    };
    if let Some((v, vf)) = s.opt_str(d, "partial_response_strategy")
        && !(v.is_empty() || v == "abort")
    {
        d.at(
                &vf,
                format!(
                    "partial_response_strategy `{v}` is not supported: verdict's queries need complete results (abort)"
                ),
            );
    }
    s.finish(d);
    Some(Spec {
        objective: objective?,
        window: window?,
        description,
        sli: sli?,
        alerting: alerting?,
    })
}

const INDICATORS: &str = "ratio, latency, latencyNative or bool_gauge";

fn indicator(d: &mut Decoder, f: &Field<'_>) -> Option<Sli> {
    let mut m = Fields::of(d, f, false)?;
    let ratio = m.opt("ratio");
    let latency = m.opt("latency");
    let native = m.opt("latencyNative");
    let gauge = m.opt("bool_gauge");
    m.finish(d);
    let given: Vec<&Field<'_>> = [&ratio, &latency, &native, &gauge]
        .into_iter()
        .flatten()
        .collect();
    match given.as_slice() {
        [] => {
            d.at(f, format!("one of {INDICATORS} must be set"));
            return None;
        }
        [_] => {}
        [_, second, ..] => {
            d.at(second, format!("only one of {INDICATORS} can be set"));
            return None;
        }
    }
    if let Some(r) = ratio {
        let mut m = Fields::of(d, &r, false)?;
        let errors = m.req(d, "errors").and_then(|e| selector(d, &e));
        let total = m.req(d, "total").and_then(|t| selector(d, &t));
        let grouping = grouping(d, &mut m);
        m.finish(d);
        let (errors, total, grouping) = (errors?, total?, grouping?);
        return Some(Sli::Events {
            error_query: sum_rate(&errors, group(&grouping)),
            total_query: sum_rate(&total, group(&grouping)),
        });
    }
    if let Some(l) = latency {
        let mut m = Fields::of(d, &l, false)?;
        let success = m.req(d, "success").and_then(|s| {
            let vs = selector(d, &s)?;
            bucket_selector(d, &s, &vs).then_some(vs)
        });
        let total = m.req(d, "total").and_then(|t| selector(d, &t));
        let grouping = grouping(d, &mut m);
        m.finish(d);
        let (success, total, grouping) = (success?, total?, grouping?);
        return Some(Sli::GoodTotal {
            good_query: sum_rate(&success, group(&grouping)),
            total_query: sum_rate(&total, group(&grouping)),
        });
    }
    if let Some(n) = native {
        if let Some(mut m) = Fields::of(d, &n, false) {
            if let Some(t) = m.req(d, "total") {
                selector(d, &t);
            }
            if let Some(l) = m.req(d, "latency") {
                duration(d, &l);
            }
            grouping(d, &mut m);
            m.finish(d);
        }
        d.at(
            &n,
            "latencyNative is not supported: it reads native histograms, and verdict's latency SLIs read classic histogram buckets; use `latency` with a `_bucket{le=\"...\"}` success metric",
        );
        return None;
    }
    if let Some(g) = gauge {
        if let Some(mut m) = Fields::of(d, &g, false) {
            if let Some(mf) = m.req(d, "metric")
                && let Some(q) = super::decode::string(d, &mf)
            {
                check::query(d, &mf, &q, false);
            }
            grouping(d, &mut m);
            m.finish(d);
        }
        d.at(
            &g,
            "bool_gauge is not supported: a boolean gauge counts good samples (time), and verdict computes error ratios from request counters; use `ratio` with counters",
        );
    }
    None
}

fn group(labels: &[String]) -> Grouping<'_> {
    if labels.is_empty() {
        Grouping::None
    } else {
        Grouping::By(labels)
    }
}

fn grouping(d: &mut Decoder, m: &mut Fields<'_>) -> Option<Vec<String>> {
    let Some(f) = m.opt("grouping") else {
        return Some(Vec::new());
    };
    let labels = string_list(d, &f);
    let mut ok = true;
    for (i, l) in labels.iter().enumerate() {
        if !is_label_name(l) {
            let item = f.node.loc;
            d.error(
                match &f.node.value {
                    super::yaml::Value::Seq(items) => items.get(i).map_or(item, |n| n.loc),
                    _ => item,
                },
                &f.path.index(i),
                format!("invalid label name {l:?}: must match [a-zA-Z_][a-zA-Z0-9_]*"),
            );
            ok = false;
        }
    }
    ok.then_some(labels)
}

/// `{metric: <vector selector>}`.
fn selector(d: &mut Decoder, f: &Field<'_>) -> Option<VectorSelector> {
    let mut m = Fields::of(d, f, false)?;
    let metric = m.req_str(d, "metric");
    m.finish(d);
    let (q, qf) = metric?;
    if !check::query(d, &qf, &q, false) {
        return None;
    }
    match validate(&q) {
        Ok(Expr::VectorSelector(vs)) => Some(vs),
        _ => {
            d.at(
                &qf,
                "expected a vector selector such as http_requests_total{code=~\"5..\"}: Pyrra builds the rate() and sum() itself",
            );
            None
        }
    }
}

/// The latency success metric must select one histogram bucket.
fn bucket_selector(d: &mut Decoder, f: &Field<'_>, vs: &VectorSelector) -> bool {
    let le = vs.matchers.matchers.iter().find(|m| m.name == "le");
    let at = f.node.get("metric").unwrap_or(f.node);
    let field = Field::new(at, f.path.key("metric"));
    match le {
        Some(m) if m.value.parse::<f64>().is_ok() => true,
        Some(m) => {
            d.at(
                &field,
                format!("the `le` matcher must be a number, found {:?}", m.value),
            );
            false
        }
        None => {
            d.at(
                &field,
                "the latency success metric must select a histogram bucket with an `le` matcher, e.g. http_request_duration_seconds_bucket{le=\"0.1\"}",
            );
            false
        }
    }
}

fn alerting(d: &mut Decoder, f: &Field<'_>) -> Option<Alerting> {
    let mut m = Fields::of(d, f, false)?;
    let disabled = m.opt_bool(d, "disabled").unwrap_or(false);
    let burnrates = m.opt_bool(d, "burnrates").unwrap_or(true);
    // Pyrra's metric-absent alert: see the module docs.
    m.opt_bool(d, "absent");
    m.opt_str(d, "absentName");
    let name = m.opt_str(d, "name").map(|v| v.0).filter(|n| !n.is_empty());
    m.finish(d);
    let mut a = Alerting {
        name,
        ..Alerting::default()
    };
    let off = disabled || !burnrates;
    a.page.disable = off;
    a.ticket.disable = off;
    Some(a)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::spec::error::FieldPath;
    use crate::spec::model::SpecFormat;
    use crate::spec::promql::render_window;
    use crate::spec::yaml::parse_documents;
    use std::path::{Path, PathBuf};

    fn fixture(name: &str) -> PathBuf {
        Path::new(env!("CARGO_MANIFEST_DIR"))
            .join("tests/fixtures/conformance/pyrra")
            .join(name)
    }

    /// Decodes the first document of `text`, reporting errors as `shown`.
    fn decode(shown: &str, text: &str) -> (Option<Service>, Vec<String>) {
        let docs = parse_documents(text).expect("YAML");
        let path = Path::new(shown);
        let mut d = Decoder::new(path);
        let s = decode_pyrra(&mut d, &Field::new(&docs[0], FieldPath::root()));
        (s, d.errors.iter().map(|e| e.to_string()).collect())
    }

    fn decode_fixture(name: &str) -> (Option<Service>, Vec<String>) {
        let text = std::fs::read_to_string(fixture(name)).expect("fixture");
        decode(&format!("pyrra/{name}"), &text)
    }

    fn days(n: u64) -> Option<super::super::duration::PromDuration> {
        Some(super::super::duration::PromDuration::from_secs(n * 86_400))
    }

    #[test]
    fn ratio_with_grouping_sums_by_the_grouping_labels() {
        let (s, e) = decode_fixture("prometheus-http.yaml");
        assert_eq!(e, Vec::<String>::new());
        let s = s.expect("service");
        assert_eq!(
            s.name, "prometheus-api-query",
            "no service label: the object name"
        );
        assert_eq!(s.format, SpecFormat::Pyrra);
        let slo = &s.slos[0];
        assert_eq!(slo.id, "prometheus-api-query-prometheus-api-query");
        assert_eq!(slo.name, "prometheus-api-query");
        assert_eq!(slo.objective, 99.0);
        assert_eq!(slo.period, days(7));
        assert_eq!(
            slo.sli,
            Sli::Events {
                error_query: r#"sum by (handler) (rate(prometheus_http_requests_total{code=~"5..",handler=~"/api.*"}[{{.window}}]))"#.into(),
                total_query: r#"sum by (handler) (rate(prometheus_http_requests_total{handler=~"/api.*"}[{{.window}}]))"#.into(),
            }
        );
        assert!(!slo.alerting.page.disable && !slo.alerting.ticket.disable);
        assert!(slo.labels.is_empty(), "only pyrra.dev/ labels propagate");
        let k8s = s.k8s.expect("k8s metadata");
        assert_eq!(k8s.name, "prometheus-api-query");
        assert_eq!(k8s.namespace, None);
        assert_eq!(
            k8s.labels.into_iter().collect::<Vec<_>>(),
            [
                ("prometheus".to_string(), "k8s".to_string()),
                ("role".to_string(), "alert-rules".to_string())
            ]
        );
    }

    #[test]
    fn apiserver_ratio_keeps_namespace_and_two_week_window() {
        let (s, e) = decode_fixture("slo-apiserver-read-response-errors.yaml");
        assert_eq!(e, Vec::<String>::new());
        let s = s.expect("service");
        let slo = &s.slos[0];
        assert_eq!(
            slo.id,
            "apiserver-read-response-errors-apiserver-read-response-errors"
        );
        assert_eq!(slo.objective, 99.0);
        assert_eq!(slo.period, days(14));
        assert_eq!(slo.description, "");
        assert_eq!(
            slo.sli,
            Sli::Events {
                error_query: r#"sum(rate(apiserver_request_total{code=~"5..",component="apiserver",verb=~"LIST|GET"}[{{.window}}]))"#.into(),
                total_query: r#"sum(rate(apiserver_request_total{component="apiserver",verb=~"LIST|GET"}[{{.window}}]))"#.into(),
            }
        );
        assert_eq!(
            s.k8s.and_then(|k| k.namespace).as_deref(),
            Some("monitoring")
        );
        assert_eq!((s.source.line, s.source.column), (1, 1));
    }

    #[test]
    fn latency_is_good_over_total_from_the_success_bucket() {
        let (s, e) = decode_fixture("caddy-response-latency.yaml");
        assert_eq!(e, Vec::<String>::new());
        let s = s.expect("service");
        let slo = &s.slos[0];
        assert_eq!(slo.id, "caddy-response-latency-caddy-response-latency");
        assert_eq!(slo.objective, 90.0);
        assert_eq!(slo.period, days(28));
        assert_eq!(
            slo.description,
            "We want our demo to be fast and therefore we want 90% of our responses to be faster than 50ms as seen by Caddy."
        );
        assert_eq!(
            slo.sli,
            Sli::GoodTotal {
                good_query: r#"sum(rate(caddy_http_response_duration_seconds_bucket{code!~"5..",handler="subroute",job="caddy",le="0.05"}[{{.window}}]))"#.into(),
                total_query: r#"sum(rate(caddy_http_response_duration_seconds_count{code!~"5..",handler="subroute",job="caddy"}[{{.window}}]))"#.into(),
            }
        );
    }

    #[test]
    fn native_latency_and_bool_gauge_are_refused_by_name() {
        let (s, e) = decode_fixture("pyrra-connect-latency.yaml");
        assert!(s.is_none());
        assert_eq!(
            e,
            [
                "pyrra/pyrra-connect-latency.yaml:15:7: spec.indicator.latencyNative: latencyNative is not supported: it reads native histograms, and verdict's latency SLIs read classic histogram buckets; use `latency` with a `_bucket{le=\"...\"}` success metric"
            ]
        );
        let (s, e) = decode_fixture("prometheus-probe-success.yaml");
        assert!(s.is_none());
        assert_eq!(
            e,
            [
                "pyrra/prometheus-probe-success.yaml:13:7: spec.indicator.bool_gauge: bool_gauge is not supported: a boolean gauge counts good samples (time), and verdict computes error ratios from request counters; use `ratio` with counters"
            ]
        );
    }

    #[test]
    fn ratio_queries_match_pyrras_own_burn_rate_rules() {
        // Pyrra's expected 5m burn rate for this input (slo/rules_test.go),
        // transcribed in expected-from-rules_test/http-ratio-4w.yaml.
        let text = std::fs::read_to_string(fixture("expected-from-rules_test/http-ratio-4w.yaml"))
            .expect("fixture");
        let docs = parse_documents(&text).expect("YAML");
        let input = docs[0].get("input").expect("input");
        let mut d = Decoder::new(Path::new("http-ratio-4w.yaml"));
        let s = decode_pyrra(&mut d, &Field::new(input, FieldPath::root().key("input")));
        assert_eq!(d.errors, Vec::new());
        let slo = &s.expect("service").slos[0];
        assert_eq!(slo.period, days(28));
        let Sli::Events {
            error_query,
            total_query,
        } = &slo.sli
        else {
            panic!("not an events SLI: {:?}", slo.sli)
        };
        let expected = "sum(rate(http_requests_total{code=~\"5..\",job=\"thanos-receive-default\"}[5m])) / sum(rate(http_requests_total{job=\"thanos-receive-default\"}[5m]))";
        assert_eq!(
            format!(
                "{} / {}",
                render_window(error_query, "5m"),
                render_window(total_query, "5m")
            ),
            expected
        );
    }

    const SLO: &str = r#"apiVersion: pyrra.dev/v1alpha1
kind: ServiceLevelObjective
metadata:
  name: checkout-errors
  namespace: shop
  labels:
    app.kubernetes.io/name: checkout
    pyrra.dev/team: payments
  annotations:
    pyrra.dev/runbook: https://runbooks.example/checkout
    note: internal
spec:
  target: "99.5"
  window: 30d
  indicator:
    ratio:
      errors:
        metric: http_requests_total{job="checkout",code=~"5.."}
      total:
        metric: http_requests_total{job="checkout"}
"#;

    #[test]
    fn service_label_names_the_service_and_pyrra_prefixed_metadata_propagates() {
        let (s, e) = decode("t.yaml", SLO);
        assert_eq!(e, Vec::<String>::new());
        let s = s.expect("service");
        assert_eq!(s.name, "checkout");
        let slo = &s.slos[0];
        assert_eq!(slo.id, "checkout-checkout-errors");
        assert_eq!(slo.objective, 99.5);
        assert_eq!(
            slo.labels.iter().collect::<Vec<_>>(),
            [(&"team".to_string(), &"payments".to_string())]
        );
        assert_eq!(
            slo.alerting.annotations.iter().collect::<Vec<_>>(),
            [(
                &"runbook".to_string(),
                &"https://runbooks.example/checkout".to_string()
            )]
        );
        let with_service = SLO.replace(
            "    app.kubernetes.io/name: checkout\n",
            "    app.kubernetes.io/name: checkout\n    service: payments-api\n",
        );
        let (s, e) = decode("t.yaml", &with_service);
        assert_eq!(e, Vec::<String>::new());
        assert_eq!(s.expect("service").name, "payments-api", "`service` wins");
    }

    #[test]
    fn alerting_options_map_to_page_and_ticket() {
        let with = |alerting: &str| {
            let (s, e) = decode("t.yaml", &format!("{SLO}  alerting:\n{alerting}"));
            assert_eq!(e, Vec::<String>::new(), "{alerting}");
            s.expect("service").slos[0].alerting.clone()
        };
        let a = with("    name: CheckoutBudgetBurn\n    absent: false\n");
        assert_eq!(a.name.as_deref(), Some("CheckoutBudgetBurn"));
        assert!(!a.page.disable && !a.ticket.disable);
        let a = with("    disabled: true\n");
        assert!(a.page.disable && a.ticket.disable);
        let a = with("    burnrates: false\n    absentName: CheckoutAbsent\n");
        assert!(a.page.disable && a.ticket.disable);
    }

    #[test]
    fn invalid_fields_are_reported_with_their_location() {
        let cases = [
            (
                SLO.replace("\"99.5\"", "\"100\""),
                "t.yaml:13:11: spec.target: objective must be between 0 and 100 (exclusive), got 100",
            ),
            (
                SLO.replace("30d", "1 month"),
                "t.yaml:14:11: spec.window: invalid duration \"1 month\": spaces are not allowed (expected e.g. 30s, 5m, 1h30m, 28d)",
            ),
            (
                SLO.replace(
                    r#"metric: http_requests_total{job="checkout"}"#,
                    r#"metric: sum(rate(http_requests_total{job="checkout"}[5m]))"#,
                ),
                "t.yaml:20:17: spec.indicator.ratio.total.metric: expected a vector selector such as http_requests_total{code=~\"5..\"}: Pyrra builds the rate() and sum() itself",
            ),
            (
                format!("{SLO}      grouping: [handler-name]\n"),
                "t.yaml:21:18: spec.indicator.ratio.grouping[0]: invalid label name \"handler-name\": must match [a-zA-Z_][a-zA-Z0-9_]*",
            ),
            (
                format!("{SLO}  partial_response_strategy: warn\n"),
                "t.yaml:21:30: spec.partial_response_strategy: partial_response_strategy `warn` is not supported: verdict's queries need complete results (abort)",
            ),
            (
                SLO.replace("  window: 30d\n", "  window: 30d\n  windows: 7d\n"),
                "t.yaml:15:3: spec.windows: unknown field `windows`, did you mean `window`?",
            ),
            (
                SLO.replace("ServiceLevelObjective", "PrometheusServiceLevel"),
                "t.yaml:2:7: kind: unsupported Pyrra kind `PrometheusServiceLevel`, expected ServiceLevelObjective",
            ),
        ];
        for (text, expected) in cases {
            let (s, e) = decode("t.yaml", &text);
            assert_eq!(e, [expected]);
            assert!(s.is_none(), "{expected}");
        }
    }

    #[test]
    fn latency_success_metric_must_select_a_bucket() {
        let text = r#"apiVersion: pyrra.dev/v1alpha1
kind: ServiceLevelObjective
metadata:
  name: fast
spec:
  target: "99"
  window: 28d
  indicator:
    latency:
      success:
        metric: http_request_duration_seconds_count{job="api"}
      total:
        metric: http_request_duration_seconds_count{job="api"}
"#;
        let (s, e) = decode("t.yaml", text);
        assert!(s.is_none());
        assert_eq!(
            e,
            [
                "t.yaml:11:17: spec.indicator.latency.success.metric: the latency success metric must select a histogram bucket with an `le` matcher, e.g. http_request_duration_seconds_bucket{le=\"0.1\"}"
            ]
        );
        let (s, e) = decode(
            "t.yaml",
            &text
                .replace(
                    r#"success:
        metric: http_request_duration_seconds_count{job="api"}"#,
                    r#"success:
        metric: http_request_duration_seconds_bucket{job="api",le="0.25"}"#,
                )
                .replace("    latency:\n", "    latency:\n      grouping: [route]\n"),
        );
        assert_eq!(e, Vec::<String>::new());
        assert_eq!(
            s.expect("service").slos[0].sli,
            Sli::GoodTotal {
                good_query: r#"sum by (route) (rate(http_request_duration_seconds_bucket{job="api",le="0.25"}[{{.window}}]))"#.into(),
                total_query: r#"sum by (route) (rate(http_request_duration_seconds_count{job="api"}[{{.window}}]))"#.into(),
            }
        );
    }
}
