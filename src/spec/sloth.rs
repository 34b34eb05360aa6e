//! Sloth `prometheus/v1` specs, Sloth's `PrometheusServiceLevel` CRD, and
//! verdict's native `verdict/v1` format (a superset of Sloth's).

use std::collections::BTreeMap;

use super::check;
use super::decode::{self, Decoder, Field, Fields};
use super::duration::PromDuration;
use super::model::{
    AlertSpec, Alerting, Indicator, K8sMeta, OnNoData, Service, Sli, Slo, Source, SpecFormat,
    VerdictSpec,
};

/// Which flavour of the Sloth family a document is.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Flavour {
    Sloth,
    SlothK8s,
    Native,
}

impl Flavour {
    fn camel(self) -> bool {
        self == Flavour::SlothK8s
    }
    fn native(self) -> bool {
        self == Flavour::Native
    }
    fn format(self) -> SpecFormat {
        match self {
            Flavour::Sloth => SpecFormat::Sloth,
            Flavour::SlothK8s => SpecFormat::SlothK8s,
            Flavour::Native => SpecFormat::Native,
        }
    }
}

/// Decodes a `version: prometheus/v1` or `version: verdict/v1` document.
pub fn decode_versioned(d: &mut Decoder, doc: &Field<'_>, flavour: Flavour) -> Option<Service> {
    let mut m = Fields::of(d, doc, false)?;
    m.ignore("version");
    let service = decode_service_body(d, &mut m, flavour, None);
    m.finish(d);
    service
}

/// Decodes a `sloth.slok.dev/v1` `PrometheusServiceLevel` object.
pub fn decode_k8s(d: &mut Decoder, doc: &Field<'_>) -> Option<Service> {
    let mut m = Fields::of(d, doc, false)?;
    m.ignore("apiVersion");
    m.ignore("kind");
    let meta = m.req(d, "metadata").and_then(|f| decode_k8s_meta(d, &f));
    let spec = m.req(d, "spec");
    m.finish(d);
    let spec = spec?;
    let mut s = Fields::of(d, &spec, true)?;
    let service = decode_service_body(d, &mut s, Flavour::SlothK8s, meta);
    s.finish(d);
    service
}

/// Reads Kubernetes `metadata`.
pub fn decode_k8s_meta(d: &mut Decoder, f: &Field<'_>) -> Option<K8sMeta> {
    let mut m = Fields::of(d, f, false)?;
    let name = m.req_str(d, "name").map(|(s, _)| s);
    let namespace = m.opt_str(d, "namespace").map(|(s, _)| s);
    let labels = m.labels(d, "labels");
    let annotations = m.labels(d, "annotations");
    for k in [
        "uid",
        "resourceVersion",
        "generation",
        "creationTimestamp",
        "managedFields",
        "generateName",
        "finalizers",
        "ownerReferences",
    ] {
        m.ignore(k);
    }
    m.finish(d);
    Some(K8sMeta {
        name: name?,
        namespace,
        labels,
        annotations,
    })
}

fn decode_service_body(
    d: &mut Decoder,
    m: &mut Fields<'_>,
    flavour: Flavour,
    k8s: Option<K8sMeta>,
) -> Option<Service> {
    let service = m.req_str(d, "service");
    if let Some((name, f)) = &service {
        check::name(d, f, name, "service");
    }
    let labels = match m.opt("labels") {
        Some(f) => {
            let l = decode::string_map(d, &f);
            check::label_names(d, &f, l.keys());
            l
        }
        None => BTreeMap::new(),
    };
    for unsupported in ["slo_plugins", "plugins"] {
        if let Some(f) = m.opt(unsupported) {
            d.at(
                &f,
                format!("`{unsupported}` (Sloth SLO plugins) is not supported by verdict; write the SLI as events or raw queries"),
            );
        }
    }
    let slos_field = m.opt("slos");
    let indicators = if flavour.native() {
        match m.opt("indicators") {
            Some(f) => decode_indicators(d, &f),
            None => Vec::new(),
        }
    } else {
        Vec::new()
    };
    let (service_name, service_field) = service?;
    let mut slos = Vec::new();
    if let Some(f) = &slos_field {
        for item in decode::seq(d, f).unwrap_or_default() {
            if let Some(slo) = decode_slo(d, &item, &service_name, flavour) {
                slos.push(slo);
            }
        }
    }
    if slos_field.is_none() {
        d.error(m.loc(), m.path(), "missing required field `slos`");
    }
    Some(Service {
        name: service_name,
        format: flavour.format(),
        source: Source::new(d.file, service_field.loc()),
        labels,
        slos,
        indicators,
        k8s,
    })
}

fn decode_slo(d: &mut Decoder, f: &Field<'_>, service: &str, flavour: Flavour) -> Option<Slo> {
    let mut m = Fields::of(d, f, flavour.camel())?;
    let name = m.req_str(d, "name");
    if let Some((n, nf)) = &name {
        check::name(d, nf, n, "SLO");
    }
    let objective = m.req(d, "objective").and_then(|of| {
        let v = decode::number(d, &of, false)?;
        check::objective_percent(d, &of, v).then_some(v)
    });
    let description = m
        .opt_str(d, "description")
        .map(|(s, _)| s)
        .unwrap_or_default();
    let labels = match m.opt("labels") {
        Some(lf) => {
            let l = decode::string_map(d, &lf);
            check::label_names(d, &lf, l.keys());
            l
        }
        None => BTreeMap::new(),
    };
    let sli = m.req(d, "sli").and_then(|sf| decode_sli(d, &sf, flavour));
    let alerting = match m.opt("alerting") {
        Some(af) => decode_alerting(d, &af, flavour.camel()),
        None => Some(Alerting::default()),
    };
    if let Some(pf) = m.opt("plugins") {
        d.at(&pf, "SLO plugins are not supported by verdict");
    }
    let (period, verdict) = if flavour.native() {
        let period = m.opt_duration(d, "period").and_then(|(p, pf)| {
            if p.is_zero() {
                d.at(&pf, "period must be longer than zero");
                None
            } else {
                Some(p)
            }
        });
        let verdict = match m.opt("verdict") {
            Some(vf) => decode_verdict(d, &vf),
            None => Some(VerdictSpec::default()),
        };
        (period, verdict)
    } else {
        (None, Some(VerdictSpec::default()))
    };
    m.finish(d);
    let (name, name_field) = name?;
    Some(Slo {
        id: format!("{service}-{name}"),
        service: service.to_string(),
        name,
        objective: objective?,
        description,
        labels,
        period,
        sli: sli?,
        alerting: alerting?,
        verdict: verdict?,
        source: Source::at(d.file, name_field.loc(), &name_field.path),
    })
}

fn decode_sli(d: &mut Decoder, f: &Field<'_>, flavour: Flavour) -> Option<Sli> {
    let mut m = Fields::of(d, f, flavour.camel())?;
    let events = m.opt("events");
    let raw = m.opt("raw");
    let latency = if flavour.native() {
        m.opt("latency")
    } else {
        None
    };
    let plugin = m.opt("plugin");
    m.finish(d);
    if let Some(p) = &plugin {
        d.at(
            p,
            "SLI plugins are not supported by verdict: write the SLI as `events` or `raw` queries (plugins run Go code inside Sloth)",
        );
        return None;
    }
    let given: Vec<&Field<'_>> = [&events, &raw, &latency].into_iter().flatten().collect();
    if given.len() > 1 {
        d.at(
            given[1],
            "an SLI has exactly one of `events`, `raw`, `latency`; found more than one",
        );
        return None;
    }
    if let Some(ef) = events {
        let mut e = Fields::of(d, &ef, flavour.camel())?;
        let err = e.req_str(d, "error_query");
        let tot = e.req_str(d, "total_query");
        e.finish(d);
        let (error_query, errf) = err?;
        let (total_query, totf) = tot?;
        let ok1 = check::query(d, &errf, &error_query, true);
        let ok2 = check::query(d, &totf, &total_query, true);
        return (ok1 && ok2).then_some(Sli::Events {
            error_query,
            total_query,
        });
    }
    if let Some(rf) = raw {
        let mut r = Fields::of(d, &rf, flavour.camel())?;
        let q = r.req_str(d, "error_ratio_query");
        r.finish(d);
        let (error_ratio_query, qf) = q?;
        return check::query(d, &qf, &error_ratio_query, true)
            .then_some(Sli::Raw { error_ratio_query });
    }
    if let Some(lf) = latency {
        return decode_latency(d, &lf);
    }
    let expected = if flavour.native() {
        "`events`, `raw` or `latency`"
    } else {
        "`events` or `raw`"
    };
    d.error(f.loc(), &f.path, format!("an SLI needs one of {expected}"));
    None
}

fn decode_latency(d: &mut Decoder, f: &Field<'_>) -> Option<Sli> {
    let mut m = Fields::of(d, f, false)?;
    let histogram = m.req_str(d, "histogram");
    let selector = m.opt_str(d, "selector");
    let threshold = m.req(d, "threshold");
    m.finish(d);
    let (histogram, hf) = histogram?;
    let mut ok = true;
    let base = histogram.trim();
    if let Some(stripped) = ["_bucket", "_count", "_sum"]
        .iter()
        .find_map(|s| base.strip_suffix(s))
    {
        d.at(
            &hf,
            format!("give the histogram's base name without the suffix, e.g. `{stripped}`"),
        );
        ok = false;
    } else if !is_metric_name(base) {
        d.at(&hf, format!("invalid metric name {base:?}"));
        ok = false;
    }
    let selector = match selector {
        Some((s, sf)) => {
            let t = s.trim();
            if !(t.starts_with('{') && t.ends_with('}')) {
                d.at(
                    &sf,
                    "selector must be label matchers in braces, e.g. {service=\"order\"}",
                );
                ok = false;
            } else if let Err(e) = super::promql::validate(&format!("x{t}")) {
                d.at(&sf, format!("invalid label matchers: {}", e.message));
                ok = false;
            }
            t.to_string()
        }
        None => String::new(),
    };
    let threshold = threshold.and_then(|tf| {
        let secs = match &tf.node.value {
            super::yaml::Value::Str(s) => match PromDuration::parse(s) {
                Ok(p) => Some(p.as_secs_f64()),
                Err(e) => {
                    d.at(&tf, e.to_string());
                    None
                }
            },
            _ => decode::number(d, &tf, false),
        }?;
        if secs > 0.0 {
            Some(secs)
        } else {
            d.at(
                &tf,
                "threshold must be greater than zero (seconds, or a duration like 300ms)",
            );
            None
        }
    });
    let threshold = threshold?;
    if !ok {
        return None;
    }
    let sli = Sli::Latency {
        histogram: base.to_string(),
        selector,
        threshold,
    };
    for (_, q) in sli.queries() {
        check::query(d, f, &q, true);
    }
    Some(sli)
}

fn is_metric_name(s: &str) -> bool {
    let mut chars = s.chars();
    matches!(chars.next(), Some(c) if c.is_ascii_alphabetic() || c == '_' || c == ':')
        && chars.all(|c| c.is_ascii_alphanumeric() || c == '_' || c == ':')
}

fn decode_alerting(d: &mut Decoder, f: &Field<'_>, camel: bool) -> Option<Alerting> {
    let mut m = Fields::of(d, f, camel)?;
    let name = m.opt_str(d, "name").map(|(s, _)| s);
    let labels = m.labels(d, "labels");
    let annotations = m.labels(d, "annotations");
    let page = m.opt("page_alert").map(|pf| decode_alert(d, &pf, camel));
    let ticket = m.opt("ticket_alert").map(|tf| decode_alert(d, &tf, camel));
    m.finish(d);
    Some(Alerting {
        name,
        labels,
        annotations,
        page: page.flatten().unwrap_or_default(),
        ticket: ticket.flatten().unwrap_or_default(),
    })
}

fn decode_alert(d: &mut Decoder, f: &Field<'_>, camel: bool) -> Option<AlertSpec> {
    let mut m = Fields::of(d, f, camel)?;
    let disable = m.opt_bool(d, "disable").unwrap_or(false);
    let labels = m.labels(d, "labels");
    let annotations = m.labels(d, "annotations");
    m.finish(d);
    Some(AlertSpec {
        disable,
        labels,
        annotations,
    })
}

/// Reads `max_budget_consumed`: `5%` or a fraction like `0.05`.
fn budget_fraction(d: &mut Decoder, f: &Field<'_>) -> Option<f64> {
    let v = match &f.node.value {
        super::yaml::Value::Str(s) => {
            let Some(num) = s.trim().strip_suffix('%') else {
                d.at(
                    f,
                    format!("expected a percentage like 5% or a fraction like 0.05, found {s:?}"),
                );
                return None;
            };
            match num.trim().parse::<f64>() {
                Ok(x) if x.is_finite() => x / 100.0,
                _ => {
                    d.at(f, format!("expected a percentage like 5%, found {s:?}"));
                    return None;
                }
            }
        }
        _ => {
            let x = decode::number(d, f, false)?;
            if x > 1.0 {
                d.at(
                    f,
                    format!("{x} is more than the whole budget; write a percentage like {x}% or a fraction like 0.05"),
                );
                return None;
            }
            x
        }
    };
    if v <= 0.0 {
        d.at(f, "must be greater than zero");
        return None;
    }
    Some(v)
}

fn positive(d: &mut Decoder, f: &Field<'_>) -> Option<f64> {
    let x = decode::number(d, f, false)?;
    if x > 0.0 {
        Some(x)
    } else {
        d.at(f, format!("must be greater than zero, got {x}"));
        None
    }
}

fn decode_verdict(d: &mut Decoder, f: &Field<'_>) -> Option<VerdictSpec> {
    let mut m = Fields::of(d, f, false)?;
    let mut v = VerdictSpec::default();
    let errors_before = d.errors.len();
    if let Some(x) = m.opt("max_budget_consumed")
        && let Some(b) = budget_fraction(d, &x)
    {
        v.max_budget_consumed = b;
    }
    v.max_time_to_recover = m.opt_duration(d, "max_time_to_recover").map(|(p, _)| p);
    if let Some(x) = m.opt("max_peak_burn_rate") {
        v.max_peak_burn_rate = positive(d, &x);
    }
    if let Some(x) = m.opt("expect_alerts") {
        v.expect_alerts = decode::string_list(d, &x);
    }
    let ttd = m.opt_duration(d, "max_time_to_detect");
    v.max_time_to_detect = ttd.as_ref().map(|(p, _)| *p);
    if let Some(x) = m.opt("min_events")
        && let Some(n) = decode::unsigned(d, &x)
    {
        v.min_events = n;
    }
    if let Some((s, x)) = m.opt_str(d, "on_no_data") {
        match s.as_str() {
            "inconclusive" => v.on_no_data = OnNoData::Inconclusive,
            "fail" => v.on_no_data = OnNoData::Fail,
            "pass" => v.on_no_data = OnNoData::Pass,
            other => d.at(
                &x,
                format!("unknown value {other:?}, expected one of: inconclusive, fail, pass"),
            ),
        }
    }
    if let Some(x) = m.opt("recovery_threshold")
        && let Some(t) = positive(d, &x)
    {
        v.recovery_threshold = t;
    }
    if let Some((p, _)) = m.opt_duration(d, "stable_for") {
        v.stable_for = p;
    }
    if let Some(x) = m.opt("abort_burn_rate")
        && let Some(t) = positive(d, &x)
    {
        v.abort_burn_rate = t;
    }
    if let (Some((_, tf)), true) = (&ttd, v.expect_alerts.is_empty()) {
        d.at(
            tf,
            "max_time_to_detect needs `expect_alerts`: name the alerts whose firing counts as detection",
        );
    }
    m.finish(d);
    (d.errors.len() == errors_before).then_some(v)
}

fn decode_indicators(d: &mut Decoder, f: &Field<'_>) -> Vec<Indicator> {
    let mut out: Vec<Indicator> = Vec::new();
    for item in decode::seq(d, f).unwrap_or_default() {
        let Some(mut m) = Fields::of(d, &item, false) else {
            continue;
        };
        let name = m.req_str(d, "name");
        let query = m.req_str(d, "query");
        let description = m
            .opt_str(d, "description")
            .map(|(s, _)| s)
            .unwrap_or_default();
        let pass = m
            .opt("pass")
            .map(|pf| decode_criteria_lists(d, &pf))
            .unwrap_or_default();
        let warning = m
            .opt("warning")
            .map(|wf| decode_criteria_lists(d, &wf))
            .unwrap_or_default();
        m.finish(d);
        let (Some((name, nf)), Some((query, qf))) = (name, query) else {
            continue;
        };
        check::name(d, &nf, &name, "indicator");
        if out.iter().any(|i| i.name == name) {
            d.at(&nf, format!("duplicate indicator name {name:?}"));
        }
        check::query(d, &qf, &query, false);
        out.push(Indicator {
            name,
            query,
            description,
            pass,
            warning,
            source: Source::new(d.file, item.loc()),
        });
    }
    out
}

/// `pass:`/`warning:` accept a list whose items are a list of criteria, a
/// Keptn-style `{criteria: [...]}` mapping, or a single criterion string.
fn decode_criteria_lists(d: &mut Decoder, f: &Field<'_>) -> Vec<Vec<String>> {
    let mut out = Vec::new();
    for item in decode::seq(d, f).unwrap_or_default() {
        let list_field = match &item.node.value {
            super::yaml::Value::Map(_) => {
                let Some(mut m) = Fields::of(d, &item, false) else {
                    continue;
                };
                let c = m.req(d, "criteria");
                m.finish(d);
                match c {
                    Some(c) => c,
                    None => continue,
                }
            }
            _ => item.clone(),
        };
        let items = match &list_field.node.value {
            super::yaml::Value::Seq(_) => decode::seq(d, &list_field).unwrap_or_default(),
            _ => vec![list_field.clone()],
        };
        let mut list = Vec::new();
        for c in items {
            if let Some(s) = decode::string(d, &c) {
                if let Err(msg) = check::criterion(&s) {
                    d.at(&c, msg);
                } else {
                    list.push(s);
                }
            }
        }
        if list.is_empty() {
            d.at(
                &list_field,
                "a criteria list needs at least one criterion, e.g. \"<=+20%\"",
            );
        } else {
            out.push(list);
        }
    }
    out
}
