//! OpenSLO import: `openslo/v1` (every kind, references across files) and
//! `openslo/v1alpha` (the subset Sloth reads), translated into the internal
//! model. Owns OpenSLO decoding and reference resolution; does not read files
//! or touch the network (the loader hands it parsed YAML objects).
//!
//! What verdict honors, and what it refuses (every refusal is an error naming
//! the field; nothing is dropped silently):
//!
//! - **SLIs.** `ratioMetric` `good`/`total` becomes a good/total SLI, `bad`/`total`
//!   an events SLI, `raw` with `rawType: failure` a raw error-ratio SLI (with
//!   `success`, `1 - (raw)`). `thresholdMetric` is refused: it needs per-sample
//!   threshold evaluation (`op`/`value`), which an occurrence-based error ratio
//!   cannot express.
//! - **Queries.** Only Prometheus metric sources (`type: Prometheus`, given on the
//!   metric source or inferred from the referenced `DataSource`) with a
//!   `spec.query`. A query containing `{{.window}}` is used as written. A query
//!   without it is an instant expression; when the SLI says `counter: true`
//!   (v1alpha: `incremental: true`) and the query is a plain selector or a
//!   `sum` of one, verdict rewrites it through the PromQL syntax tree to
//!   `sum(rate(<selector>[{{.window}}]))`, keeping `by`/`without`. Anything
//!   else is an error asking for `{{.window}}`, because wrapping an arbitrary
//!   expression in `rate()` is not sound. `raw` queries must carry `{{.window}}`.
//!   The placeholder query `Any` of the OpenSLO examples is refused by name.
//!   `DataSource.connectionDetails` are not used: verdict queries the
//!   Prometheus it is configured with.
//! - **Time window.** One rolling window (`isRolling: true`) becomes the SLO
//!   period. Units `m h d w` are exact; `M Q Y` have no fixed length and are
//!   refused (write `30d`, `13w`, `365d`). Calendar-aligned windows
//!   (`calendar`, or `isRolling: false`) are refused. With neither `calendar`
//!   nor `isRolling` the window is taken as rolling, as Sloth does. No window:
//!   the generator's default period.
//! - **Budgeting.** `Occurrences` only; `Timeslices`/`RatioTimeslices` are refused.
//! - **Objectives.** `target` (0–1) or `targetPercent`. One SLO per objective:
//!   a v1 SLO with one objective keeps its name, with several they are named
//!   `<name>-<index>`; v1alpha SLOs are always `<name>-<index>` (Sloth's ids).
//!   `op`/`value` only mean something for threshold metrics and are ignored
//!   for ratios. Composite objectives (an indicator per objective) are refused.
//! - **Alerting.** No `alertPolicies` (and every v1alpha SLO, as in Sloth):
//!   page and ticket alerts disabled. With policies, each resolved burn-rate
//!   condition of a policy with `alertWhenBreaching: true` enables verdict's
//!   multi-window multi-burn-rate **page** alert when its severity is `page` or
//!   `critical`, else the **ticket** alert. The condition's own threshold and
//!   windows are not translated (verdict's alerts use the standard
//!   multi-window burn rates); the policy names are kept in the alert
//!   annotation `openslo_alert_policies` so the origin stays visible.
//!   `alertWhenNoData: true` is refused (verdict generates no no-data alert).
//! - **Descriptive fields** are validated and accepted: `displayName`,
//!   `description`, metadata `labels` (string or list of strings) and
//!   `annotations` (not turned into Prometheus labels), `Service` objects,
//!   notification targets, `alertWhenResolved`.
//! - **References.** `indicatorRef`, `alertPolicyRef` (alias `targetRef`),
//!   `conditionRef`, notification `targetRef` and `metricSourceRef` are looked
//!   up across every collected file. Objects that no SLO uses are only checked
//!   for structure, so a library of SLIs may hold ones verdict cannot use.
//!   An SLO's `service` need not name a `Service` object.
//!
//! SLO ids are `<service>-<name>`; one [`Service`] is returned per service name
//! (and format) that has at least one SLO.

use std::collections::HashMap;
use std::fmt::Write as _;
use std::path::PathBuf;

use promql_parser::parser::{Expr, LabelModifier, VectorSelector};

use super::check;
use super::decode::{Decoder, Field, Fields, boolean, number, seq, string, string_map};
use super::duration::PromDuration;
use super::error::{FieldPath, SpecError};
use super::model::{Alerting, Service, Sli, Slo, Source, SpecFormat, VerdictSpec};
use super::promql::{has_window, validate};
use super::yaml::{Loc, Node, Value};

/// The message for OpenSLO's example placeholder query.
const PLACEHOLDER: &str = "placeholder query `Any` is not PromQL";

/// A location kept past the per-file [`Decoder`], to build errors found while
/// resolving references after every file is read.
#[derive(Debug, Clone, PartialEq)]
struct At {
    file: PathBuf,
    loc: Loc,
    path: String,
}

impl At {
    fn new(d: &Decoder, f: &Field<'_>) -> Self {
        At {
            file: d.file.to_path_buf(),
            loc: f.loc(),
            path: f.path.to_string(),
        }
    }

    fn of_mapping(d: &Decoder, m: &Fields<'_>) -> Self {
        At {
            file: d.file.to_path_buf(),
            loc: m.loc(),
            path: m.path().to_string(),
        }
    }

    fn error(&self, message: impl Into<String>) -> SpecError {
        SpecError {
            file: self.file.clone(),
            loc: self.loc,
            path: self.path.clone(),
            message: message.into(),
        }
    }

    fn field_path(&self) -> FieldPath {
        FieldPath::root().key(&self.path)
    }

    fn source(&self) -> Source {
        Source::new(&self.file, self.loc)
    }

    /// `file:line:col`, for "defined at" hints.
    fn show(&self) -> String {
        format!(
            "{}:{}:{}",
            self.file.display(),
            self.loc.line,
            self.loc.column
        )
    }
}

/// A `metricSource`, with its free-form `spec` kept as YAML until the source
/// type (possibly from a `DataSource` in another file) is known.
#[derive(Debug, Clone)]
struct MetricDef {
    at: At,
    source_ref: Option<(String, At)>,
    kind: Option<(String, At)>,
    spec: (Node, At),
}

#[derive(Debug, Clone)]
enum SliBody {
    Threshold(At),
    Ratio {
        counter: Option<bool>,
        good: bool,
        numerator: Box<MetricDef>,
        total: Box<MetricDef>,
    },
    Raw {
        failure: bool,
        raw: Box<MetricDef>,
    },
}

/// An SLI, standalone or inline; `body` is `None` when it failed to decode
/// (the errors are already recorded).
#[derive(Debug, Clone)]
struct SliDef {
    name: String,
    at: At,
    body: Option<SliBody>,
    /// False when the standalone object had errors: it is then not used.
    ok: bool,
}

#[derive(Debug, Clone)]
enum Use<T> {
    Inline(T),
    Ref(String, At),
}

#[derive(Debug, Clone)]
struct ConditionDef {
    name: String,
    at: At,
    severity: String,
    ok: bool,
}

#[derive(Debug, Clone)]
struct TargetDef {
    name: String,
    at: At,
    ok: bool,
}

#[derive(Debug, Clone)]
struct PolicyDef {
    name: String,
    at: At,
    when_breaching: bool,
    conditions: Vec<Use<ConditionDef>>,
    targets: Vec<Use<TargetDef>>,
    ok: bool,
}

#[derive(Debug, Clone)]
struct DataSourceDef {
    name: String,
    at: At,
    kind: String,
    ok: bool,
}

#[derive(Debug, Clone)]
struct ServiceDef {
    name: String,
    at: At,
    format: SpecFormat,
}

#[derive(Debug, Clone)]
struct SloDef {
    name: String,
    at: At,
    service: String,
    description: String,
    indicator: Option<Use<SliDef>>,
    period: Option<PromDuration>,
    objectives: Vec<f64>,
    policies: Vec<Use<PolicyDef>>,
    /// No error was found while decoding it.
    ok: bool,
}

#[derive(Debug, Clone)]
enum SloEntry {
    V1(Box<SloDef>),
    /// A v1alpha SLO needs no references: translated while collecting.
    Alpha {
        service: String,
        at: At,
        slos: Vec<Slo>,
    },
}

/// OpenSLO objects collected across all files; SLIs, AlertPolicies etc. may be
/// defined in one file and referenced from another.
#[derive(Debug, Default)]
pub struct OpenSloObjects {
    slos: Vec<SloEntry>,
    slis: Vec<SliDef>,
    data_sources: Vec<DataSourceDef>,
    services: Vec<ServiceDef>,
    policies: Vec<PolicyDef>,
    conditions: Vec<ConditionDef>,
    targets: Vec<TargetDef>,
}

const V1_KINDS: &str =
    "SLO, SLI, Service, DataSource, AlertPolicy, AlertCondition, AlertNotificationTarget";

impl OpenSloObjects {
    /// An empty collection; call [`Self::collect`] for every OpenSLO object.
    pub fn new() -> Self {
        Self::default()
    }

    /// Called for each YAML object (a mapping) whose apiVersion starts with
    /// "openslo/". `doc` is the object, with its field path (e.g. "" or "[3]"
    /// for an item of a top-level YAML list). Records decode errors in `d`.
    pub fn collect(&mut self, d: &mut Decoder, doc: &Field<'_>) {
        let before = d.errors.len();
        let counts = self.counts();
        let Some(mut m) = Fields::of(d, doc, false) else {
            return;
        };
        let version = m.req_str(d, "apiVersion");
        let kind = m.req_str(d, "kind");
        let (Some((version, vf)), Some((kind, kf))) = (version, kind) else {
            m.ignore("metadata");
            m.ignore("spec");
            m.finish(d);
            return;
        };
        match (version.as_str(), kind.as_str()) {
            ("openslo/v1", "SLO") => self.slo_v1(d, &mut m),
            ("openslo/v1", "SLI") => self.sli_v1(d, &mut m),
            ("openslo/v1", "Service") => self.service(d, &mut m, SpecFormat::OpenSloV1),
            ("openslo/v1", "DataSource") => self.data_source(d, &mut m),
            ("openslo/v1", "AlertPolicy") => {
                if let Some(p) = named_object(d, &mut m, "alert policy", false, policy_spec) {
                    self.policies.push(p);
                }
            }
            ("openslo/v1", "AlertCondition") => {
                if let Some(c) = named_object(d, &mut m, "alert condition", false, condition_spec) {
                    self.conditions.push(c);
                }
            }
            ("openslo/v1", "AlertNotificationTarget") => {
                if let Some(t) = named_object(d, &mut m, "notification target", false, target_spec)
                {
                    self.targets.push(t);
                }
            }
            ("openslo/v1", other) => {
                d.at(
                    &kf,
                    format!("unknown openslo/v1 kind `{other}`, expected one of: {V1_KINDS}"),
                );
                m.ignore("metadata");
                m.ignore("spec");
            }
            ("openslo/v1alpha", "SLO") => self.slo_v1alpha(d, &mut m),
            ("openslo/v1alpha", "Service") => self.service(d, &mut m, SpecFormat::OpenSloV1Alpha),
            ("openslo/v1alpha", other) => {
                d.at(
                    &kf,
                    format!("unknown openslo/v1alpha kind `{other}`, expected SLO or Service"),
                );
                m.ignore("metadata");
                m.ignore("spec");
            }
            (other, _) => {
                d.at(
                    &vf,
                    format!(
                        "unsupported OpenSLO apiVersion `{other}`: verdict reads openslo/v1 and openslo/v1alpha"
                    ),
                );
                m.ignore("metadata");
                m.ignore("spec");
            }
        }
        m.finish(d);
        if d.errors.len() != before {
            self.invalidate_since(counts);
        }
    }

    fn counts(&self) -> [usize; 6] {
        [
            self.slos.len(),
            self.slis.len(),
            self.data_sources.len(),
            self.policies.len(),
            self.conditions.len(),
            self.targets.len(),
        ]
    }

    /// Marks the objects collected since `counts` as unusable: their errors
    /// are reported, and what refers to them is not loaded.
    fn invalidate_since(&mut self, counts: [usize; 6]) {
        for entry in &mut self.slos[counts[0]..] {
            match entry {
                SloEntry::V1(def) => def.ok = false,
                SloEntry::Alpha { slos, .. } => slos.clear(),
            }
        }
        self.slis[counts[1]..].iter_mut().for_each(|x| x.ok = false);
        self.data_sources[counts[2]..]
            .iter_mut()
            .for_each(|x| x.ok = false);
        self.policies[counts[3]..]
            .iter_mut()
            .for_each(|x| x.ok = false);
        self.conditions[counts[4]..]
            .iter_mut()
            .for_each(|x| x.ok = false);
        self.targets[counts[5]..]
            .iter_mut()
            .for_each(|x| x.ok = false);
    }

    /// Resolves references (SLO.indicatorRef → SLI, alertPolicies refs,
    /// Service) and returns one Service per OpenSLO service name with its
    /// SLOs. Resolution errors (missing reference, unsupported feature) are
    /// pushed to `errors` with the file/line/column/path of the referencing
    /// field.
    pub fn resolve(self, errors: &mut Vec<SpecError>) -> Vec<Service> {
        let start = errors.len();
        let services = self.resolve_services(errors);
        // An object shared by several SLOs reports each problem once.
        let found: Vec<SpecError> = errors.drain(start..).collect();
        for e in found {
            if !errors[start..].contains(&e) {
                errors.push(e);
            }
        }
        services
    }

    fn resolve_services(&self, errors: &mut Vec<SpecError>) -> Vec<Service> {
        let mut produced: Vec<(SpecFormat, String, At, Slo)> = Vec::new();
        let mut by_ref: HashMap<usize, Option<Sli>> = HashMap::new();
        for entry in &self.slos {
            match entry {
                SloEntry::Alpha { service, at, slos } => {
                    for slo in slos {
                        produced.push((
                            SpecFormat::OpenSloV1Alpha,
                            service.clone(),
                            at.clone(),
                            slo.clone(),
                        ));
                    }
                }
                SloEntry::V1(def) => {
                    let sli = match &def.indicator {
                        Some(Use::Inline(sli)) => self.translate_sli(sli, None, errors),
                        Some(Use::Ref(name, at)) => {
                            match find(&self.slis, |s| (&s.name, &s.at), name, "SLI", at, errors) {
                                Some(i) => {
                                    if let Some(done) = by_ref.get(&i) {
                                        done.clone()
                                    } else {
                                        let sli =
                                            self.translate_sli(&self.slis[i], Some(def), errors);
                                        by_ref.insert(i, sli.clone());
                                        sli
                                    }
                                }
                                None => None,
                            }
                        }
                        None => None,
                    };
                    let alerting = self.alerting(def, errors);
                    let (Some(sli), Some(alerting), true) = (sli, alerting, def.ok) else {
                        continue;
                    };
                    let many = def.objectives.len() > 1;
                    for (i, objective) in def.objectives.iter().enumerate() {
                        let name = if many {
                            format!("{}-{i}", def.name)
                        } else {
                            def.name.clone()
                        };
                        produced.push((
                            SpecFormat::OpenSloV1,
                            def.service.clone(),
                            def.at.clone(),
                            Slo {
                                id: format!("{}-{name}", def.service),
                                service: def.service.clone(),
                                name,
                                objective: *objective,
                                description: def.description.clone(),
                                labels: Default::default(),
                                period: def.period,
                                sli: sli.clone(),
                                alerting: alerting.clone(),
                                verdict: VerdictSpec::default(),
                                source: def.at.source(),
                            },
                        ));
                    }
                }
            }
        }

        let mut seen: HashMap<String, At> = HashMap::new();
        let mut services: Vec<Service> = Vec::new();
        for (format, service, at, slo) in produced {
            if let Some(first) = seen.get(&slo.id) {
                errors.push(at.error(format!(
                    "duplicate SLO id `{}` (also defined at {})",
                    slo.id,
                    first.show()
                )));
                continue;
            }
            seen.insert(slo.id.clone(), at.clone());
            if let Some(s) = services
                .iter_mut()
                .find(|s| s.name == service && s.format == format)
            {
                s.slos.push(slo);
                continue;
            }
            let source = self
                .services
                .iter()
                .find(|s| s.name == service && s.format == format)
                .map(|s| s.at.source())
                .unwrap_or_else(|| at.source());
            services.push(Service {
                name: service,
                format,
                source,
                labels: Default::default(),
                slos: vec![slo],
                indicators: Vec::new(),
                k8s: None,
            });
        }
        services
    }

    // ---- decoding (collect time) ----

    fn slo_v1(&mut self, d: &mut Decoder, m: &mut Fields<'_>) {
        let before = d.errors.len();
        let at = At::of_mapping(d, m);
        let name = metadata(d, m, "SLO", false).unwrap_or_default();
        let Some(spec) = m.req(d, "spec") else {
            return;
        };
        let Some(mut s) = Fields::of(d, &spec, false) else {
            return;
        };
        let description = s.opt_str(d, "description").map(|v| v.0).unwrap_or_default();
        let service = match s.req_str(d, "service") {
            Some((v, f)) => {
                check::name(d, &f, &v, "service");
                v
            }
            None => String::new(),
        };
        let inline = s.opt("indicator");
        let reference = s.opt_str(d, "indicatorRef");
        let composite = objectives_have_indicator(&spec);
        let indicator = match (inline, reference) {
            (Some(f), None) => inline_indicator(d, &f).map(Use::Inline),
            (None, Some((n, f))) => Some(Use::Ref(n, At::new(d, &f))),
            (Some(_), Some((_, f))) => {
                d.at(&f, "only one of `indicator` and `indicatorRef` can be set");
                None
            }
            (None, None) => {
                if !composite {
                    d.error(
                        s.loc(),
                        s.path(),
                        "one of `indicator` or `indicatorRef` must be set",
                    );
                }
                None
            }
        };
        let period = s.opt("timeWindow").and_then(|f| time_window_v1(d, &f));
        let budgeting = s.req(d, "budgetingMethod").and_then(|f| budgeting(d, &f));
        let objectives = match s.req(d, "objectives") {
            Some(f) => objectives_v1(d, &f, budgeting),
            None => Vec::new(),
        };
        let policies = match s.opt("alertPolicies") {
            Some(f) => seq(d, &f)
                .unwrap_or_default()
                .iter()
                .filter_map(|item| {
                    use_of(d, item, &["alertPolicyRef", "targetRef"], |d, m| {
                        inline_object(d, m, "AlertPolicy", "alert policy", policy_spec)
                    })
                })
                .collect(),
            None => Vec::new(),
        };
        s.finish(d);
        let ok = d.errors.len() == before;
        self.slos.push(SloEntry::V1(Box::new(SloDef {
            name,
            at,
            service,
            description,
            indicator,
            period,
            objectives,
            policies,
            ok,
        })));
    }

    fn sli_v1(&mut self, d: &mut Decoder, m: &mut Fields<'_>) {
        let at = At::of_mapping(d, m);
        let name = metadata(d, m, "SLI", false);
        let body = m.req(d, "spec").and_then(|f| sli_spec(d, &f));
        if let Some(name) = name {
            self.slis.push(SliDef {
                name,
                at,
                body,
                ok: true,
            });
        }
    }

    fn service(&mut self, d: &mut Decoder, m: &mut Fields<'_>, format: SpecFormat) {
        let at = At::of_mapping(d, m);
        let alpha = format == SpecFormat::OpenSloV1Alpha;
        let name = metadata(d, m, "service", alpha);
        if let Some(f) = m.opt("spec")
            && let Some(mut s) = Fields::of(d, &f, false)
        {
            s.opt_str(d, "description");
            s.finish(d);
        }
        if let Some(name) = name {
            self.services.push(ServiceDef { name, at, format });
        }
    }

    fn data_source(&mut self, d: &mut Decoder, m: &mut Fields<'_>) {
        let at = At::of_mapping(d, m);
        let name = metadata(d, m, "data source", false);
        let Some(f) = m.req(d, "spec") else {
            return;
        };
        let Some(mut s) = Fields::of(d, &f, false) else {
            return;
        };
        s.opt_str(d, "description");
        let kind = s.req_str(d, "type");
        // Connection details are the data source's business: verdict queries
        // the Prometheus it is configured with, and never prints these values.
        s.req(d, "connectionDetails");
        s.finish(d);
        if let (Some(name), Some((kind, _))) = (name, kind) {
            self.data_sources.push(DataSourceDef {
                name,
                at,
                kind,
                ok: true,
            });
        }
    }

    fn slo_v1alpha(&mut self, d: &mut Decoder, m: &mut Fields<'_>) {
        let before = d.errors.len();
        let at = At::of_mapping(d, m);
        let name = metadata(d, m, "SLO", true).unwrap_or_default();
        let Some(spec) = m.req(d, "spec") else {
            return;
        };
        let Some(mut s) = Fields::of(d, &spec, false) else {
            return;
        };
        let description = s.opt_str(d, "description").map(|v| v.0).unwrap_or_default();
        let service = match s.req_str(d, "service") {
            Some((v, f)) => {
                check::name(d, &f, &v, "service");
                v
            }
            None => String::new(),
        };
        let budgeting = s.opt("budgetingMethod").and_then(|f| budgeting(d, &f));
        let has_indicator = match s.opt("indicator") {
            Some(f) => {
                if let Some(mut i) = Fields::of(d, &f, false) {
                    if let Some(t) = i.req(d, "thresholdMetric") {
                        alpha_source_fields(d, &t);
                        d.at(&t, threshold_unsupported());
                    }
                    i.finish(d);
                }
                true
            }
            None => false,
        };
        let period = s.opt("timeWindows").and_then(|f| time_windows_alpha(d, &f));
        let mut slis = Vec::new();
        if let Some(f) = s.req(d, "objectives") {
            let items = seq(d, &f).unwrap_or_default();
            if items.is_empty() && matches!(f.node.value, Value::Seq(_)) {
                d.at(&f, "at least one objective is required");
            }
            for item in items {
                slis.push(objective_alpha(d, &item, budgeting, has_indicator));
            }
        }
        s.finish(d);
        if d.errors.len() != before {
            return;
        }
        let slos = slis
            .into_iter()
            .enumerate()
            .filter_map(|(i, o)| {
                let (objective, sli) = o?;
                let name = format!("{name}-{i}");
                Some(Slo {
                    id: format!("{service}-{name}"),
                    service: service.clone(),
                    name,
                    objective,
                    description: description.clone(),
                    labels: Default::default(),
                    period,
                    sli,
                    alerting: alerts_disabled(),
                    verdict: VerdictSpec::default(),
                    source: at.source(),
                })
            })
            .collect();
        self.slos.push(SloEntry::Alpha { service, at, slos });
    }

    // ---- resolution ----

    /// Translates an SLI; `used_by` names the SLO that referenced it, so the
    /// errors (which point into the SLI) say why it was needed.
    fn translate_sli(
        &self,
        def: &SliDef,
        used_by: Option<&SloDef>,
        errors: &mut Vec<SpecError>,
    ) -> Option<Sli> {
        let suffix = match used_by {
            Some(slo) => format!(
                " (SLI `{}` is used by SLO `{}` at {})",
                def.name,
                slo.name,
                slo.at.show()
            ),
            None => String::new(),
        };
        let start = errors.len();
        let sli = match def.body.as_ref()? {
            SliBody::Threshold(at) => {
                errors.push(at.error(threshold_unsupported()));
                None
            }
            SliBody::Ratio {
                counter,
                good,
                numerator,
                total,
            } => {
                let n = self.metric_query(numerator, *counter, false, errors);
                let t = self.metric_query(total, *counter, false, errors);
                match (n, t, good) {
                    (Some(good_query), Some(total_query), true) => Some(Sli::GoodTotal {
                        good_query,
                        total_query,
                    }),
                    (Some(error_query), Some(total_query), false) => Some(Sli::Events {
                        error_query,
                        total_query,
                    }),
                    _ => None,
                }
            }
            SliBody::Raw { failure, raw } => {
                self.metric_query(raw, None, true, errors)
                    .map(|q| Sli::Raw {
                        error_ratio_query: if *failure { q } else { format!("1 - ({q})") },
                    })
            }
        };
        for e in &mut errors[start..] {
            e.message.push_str(&suffix);
        }
        // A standalone SLI with decode errors is checked but never used.
        sli.filter(|_| def.ok)
    }

    /// The PromQL of one metric source, with `{{.window}}`.
    fn metric_query(
        &self,
        m: &MetricDef,
        counter: Option<bool>,
        raw: bool,
        errors: &mut Vec<SpecError>,
    ) -> Option<String> {
        let mut d = Decoder::new(&m.at.file);
        let (node, spec_at) = &m.spec;
        let spec = Field::new(node, spec_at.field_path());
        // The examples' placeholder is reported whatever the source type.
        let placeholder = node
            .get("query")
            .filter(|q| q.as_str().map(str::trim) == Some("Any"));
        if let Some(q) = placeholder {
            d.at(&Field::new(q, spec.path.key("query")), PLACEHOLDER);
        }
        let kind = self.source_type(m, errors);
        let query = match kind {
            Some((kind, _)) if kind.eq_ignore_ascii_case("prometheus") => {
                let mut s = Fields::of(&mut d, &spec, false);
                let q = s.as_mut().and_then(|s| s.req_str(&mut d, "query"));
                if let Some(s) = s {
                    s.finish(&mut d);
                }
                match q {
                    Some((q, qf)) if placeholder.is_none() => {
                        if check::query(&mut d, &qf, &q, false) {
                            windowed_query(&mut d, &qf, &q, counter, "counter", raw)
                        } else {
                            None
                        }
                    }
                    _ => None,
                }
            }
            Some((kind, at)) => {
                let how = match &m.kind {
                    Some(_) => String::new(),
                    None => format!(
                        " (the type of DataSource `{}`)",
                        m.source_ref.as_ref().map(|r| r.0.as_str()).unwrap_or("")
                    ),
                };
                d.error(
                    at.loc,
                    &at.field_path(),
                    format!(
                        "metric source type `{kind}`{how} is not supported: verdict reads Prometheus queries only (type: Prometheus)"
                    ),
                );
                None
            }
            None => None,
        };
        errors.extend(d.errors);
        query
    }

    /// The metric source type, from `type` or the referenced DataSource.
    fn source_type(&self, m: &MetricDef, errors: &mut Vec<SpecError>) -> Option<(String, At)> {
        let Some((name, ref_at)) = &m.source_ref else {
            return match &m.kind {
                Some(k) => Some(k.clone()),
                None => {
                    errors.push(m.at.error(
                        "metricSource has neither `type` nor `metricSourceRef`: verdict reads Prometheus queries only; set `type: Prometheus`",
                    ));
                    None
                }
            };
        };
        let found: Vec<&DataSourceDef> = self
            .data_sources
            .iter()
            .filter(|ds| &ds.name == name)
            .collect();
        match (found.as_slice(), &m.kind) {
            // The explicit type is enough; the DataSource itself is not needed.
            ([], Some(k)) => Some(k.clone()),
            ([], None) => {
                errors.push(ref_at.error(format!(
                    "no DataSource named `{name}` in the loaded files, and no `type` is set: verdict cannot tell which metric source this is"
                )));
                None
            }
            ([ds], Some((k, k_at))) => {
                if !ds.ok {
                    None
                } else if k.eq_ignore_ascii_case(&ds.kind) {
                    Some((k.clone(), k_at.clone()))
                } else {
                    errors.push(k_at.error(format!(
                        "type `{k}` contradicts DataSource `{name}` (type `{}`, defined at {})",
                        ds.kind,
                        ds.at.show()
                    )));
                    None
                }
            }
            // A DataSource with decode errors is not relied upon.
            ([ds], None) if !ds.ok => None,
            ([ds], None) => Some((ds.kind.clone(), ref_at.clone())),
            (many, _) => {
                errors.push(ref_at.error(ambiguous(
                    "DataSource",
                    name,
                    many.iter().map(|ds| &ds.at),
                )));
                None
            }
        }
    }

    /// The alerting options of an SLO from its alert policies.
    fn alerting(&self, slo: &SloDef, errors: &mut Vec<SpecError>) -> Option<Alerting> {
        if slo.policies.is_empty() {
            return Some(alerts_disabled());
        }
        let start = errors.len();
        let mut broken = false;
        let (mut page, mut ticket) = (false, false);
        let mut names = Vec::new();
        for policy in &slo.policies {
            let policy = match policy {
                Use::Inline(p) => p,
                Use::Ref(name, at) => {
                    match find(
                        &self.policies,
                        |p| (&p.name, &p.at),
                        name,
                        "AlertPolicy",
                        at,
                        errors,
                    ) {
                        Some(i) => &self.policies[i],
                        None => continue,
                    }
                }
            };
            broken |= !policy.ok;
            names.push(policy.name.clone());
            for target in &policy.targets {
                if let Use::Ref(name, at) = target {
                    let i = find(
                        &self.targets,
                        |t| (&t.name, &t.at),
                        name,
                        "AlertNotificationTarget",
                        at,
                        errors,
                    );
                    broken |= i.is_some_and(|i| !self.targets[i].ok);
                }
            }
            for condition in &policy.conditions {
                let condition = match condition {
                    Use::Inline(c) => c,
                    Use::Ref(name, at) => match find(
                        &self.conditions,
                        |c| (&c.name, &c.at),
                        name,
                        "AlertCondition",
                        at,
                        errors,
                    ) {
                        Some(i) => &self.conditions[i],
                        None => continue,
                    },
                };
                broken |= !condition.ok;
                if policy.when_breaching {
                    let severity = condition.severity.to_ascii_lowercase();
                    if severity == "page" || severity == "critical" {
                        page = true;
                    } else {
                        ticket = true;
                    }
                }
            }
        }
        if errors.len() != start || broken {
            return None;
        }
        let mut alerting = Alerting::default();
        alerting.page.disable = !page;
        alerting.ticket.disable = !ticket;
        alerting
            .annotations
            .insert("openslo_alert_policies".to_string(), names.join(","));
        Some(alerting)
    }
}

fn alerts_disabled() -> Alerting {
    let mut a = Alerting::default();
    a.page.disable = true;
    a.ticket.disable = true;
    a
}

fn threshold_unsupported() -> &'static str {
    "thresholdMetric is not supported: it needs per-sample threshold evaluation (`op`/`value`), and verdict computes an occurrence-based error ratio from event counts; use ratioMetric"
}

fn ambiguous<'a>(what: &str, name: &str, ats: impl Iterator<Item = &'a At>) -> String {
    let places: Vec<String> = ats.map(At::show).collect();
    format!(
        "{what} `{name}` is defined more than once (at {}), so the reference is ambiguous",
        places.join(", ")
    )
}

/// Finds the one object named `name`; reports a missing or ambiguous
/// reference at `at`.
fn find<T>(
    items: &[T],
    key: impl Fn(&T) -> (&String, &At),
    name: &str,
    what: &str,
    at: &At,
    errors: &mut Vec<SpecError>,
) -> Option<usize> {
    let found: Vec<usize> = (0..items.len())
        .filter(|&i| key(&items[i]).0 == name)
        .collect();
    match found.as_slice() {
        [i] => Some(*i),
        [] => {
            errors.push(at.error(format!("no {what} named `{name}` in the loaded files")));
            None
        }
        many => {
            errors.push(at.error(ambiguous(
                what,
                name,
                many.iter().map(|&i| key(&items[i]).1),
            )));
            None
        }
    }
}

// ---- shared decoding helpers ----

/// Reads `metadata` and returns the name. v1alpha metadata has only
/// `name` and `displayName`; v1 adds `labels` and `annotations`.
fn metadata(d: &mut Decoder, m: &mut Fields<'_>, what: &str, alpha: bool) -> Option<String> {
    let f = m.req(d, "metadata")?;
    let mut mm = Fields::of(d, &f, false)?;
    let name = mm.req_str(d, "name");
    mm.opt_str(d, "displayName");
    if !alpha {
        if let Some(l) = mm.opt("labels") {
            openslo_labels(d, &l);
        }
        if let Some(a) = mm.opt("annotations") {
            string_map(d, &a);
        }
    }
    mm.finish(d);
    let (name, nf) = name?;
    check::name(d, &nf, &name, what).then_some(name)
}

/// OpenSLO labels: each value is a string or a list of strings.
fn openslo_labels(d: &mut Decoder, f: &Field<'_>) {
    let Value::Map(entries) = &f.node.value else {
        d.at(
            f,
            format!(
                "expected a mapping of names to strings or lists of strings, found {}",
                f.node.value.kind()
            ),
        );
        return;
    };
    for (k, v) in entries {
        let Value::Str(name) = &k.value else {
            d.error(k.loc, &f.path, "label names must be strings");
            continue;
        };
        let field = Field::new(v, f.path.key(name));
        match &v.value {
            Value::Str(_) => {}
            Value::Seq(_) => {
                for item in seq(d, &field).unwrap_or_default() {
                    string(d, &item);
                }
            }
            other => d.at(
                &field,
                format!(
                    "expected a string or a list of strings, found {}",
                    other.kind()
                ),
            ),
        }
    }
}

/// Reads an item that is either a reference (`{<ref_key>: name}`) or an
/// inline object.
fn use_of<'n, T>(
    d: &mut Decoder,
    item: &Field<'n>,
    ref_keys: &[&str],
    inline: impl FnOnce(&mut Decoder, &mut Fields<'n>) -> Option<T>,
) -> Option<Use<T>> {
    let mut m = Fields::of(d, item, false)?;
    let out = if let Some(key) = ref_keys.iter().find(|k| m.has(k)) {
        let r = m.req_str(d, key).map(|(n, f)| Use::Ref(n, At::new(d, &f)));
        if let Some(other) = ref_keys.iter().find(|k| *k != key && m.has(k))
            && let Some(f) = m.opt(other)
        {
            d.at(&f, format!("only one of `{key}` and `{other}` can be set"));
        }
        r
    } else {
        inline(d, &mut m).map(Use::Inline)
    };
    m.finish(d);
    out
}

/// A standalone object's metadata and spec (the caller already read
/// `apiVersion` and `kind`).
fn named_object<T>(
    d: &mut Decoder,
    m: &mut Fields<'_>,
    what: &str,
    alpha: bool,
    spec: impl FnOnce(&mut Decoder, &Field<'_>, String, At) -> Option<T>,
) -> Option<T> {
    let at = At::of_mapping(d, m);
    let name = metadata(d, m, what, alpha);
    let f = m.req(d, "spec")?;
    // The spec is checked even when the name is wrong, to report everything.
    let out = spec(d, &f, name.clone().unwrap_or_default(), at);
    name.and(out)
}

/// An inline object: `{kind, metadata, spec}`.
fn inline_object<T>(
    d: &mut Decoder,
    m: &mut Fields<'_>,
    kind: &str,
    what: &str,
    spec: impl FnOnce(&mut Decoder, &Field<'_>, String, At) -> Option<T>,
) -> Option<T> {
    if let Some((k, kf)) = m.req_str(d, "kind")
        && k != kind
    {
        d.at(&kf, format!("expected `kind: {kind}`, found `{k}`"));
    }
    named_object(d, m, what, false, spec)
}

fn policy_spec(d: &mut Decoder, f: &Field<'_>, name: String, at: At) -> Option<PolicyDef> {
    let mut s = Fields::of(d, f, false)?;
    s.opt_str(d, "description");
    if let Some(nf) = s.opt("alertWhenNoData")
        && boolean(d, &nf) == Some(true)
    {
        d.at(
                &nf,
                "alertWhenNoData is not supported: verdict generates no no-data alert (its verdicts report missing data through `on_no_data`)",
            );
    }
    let when_breaching = s.opt_bool(d, "alertWhenBreaching").unwrap_or(false);
    // Whether resolution is notified is the receiver's setting (Alertmanager
    // `send_resolved`), not the SLO's.
    s.opt_bool(d, "alertWhenResolved");
    let mut conditions = Vec::new();
    if let Some(cf) = s.req(d, "conditions") {
        let items = seq(d, &cf).unwrap_or_default();
        if items.len() != 1 && matches!(cf.node.value, Value::Seq(_)) {
            d.at(
                &cf,
                format!(
                    "an alert policy has exactly one condition, found {}",
                    items.len()
                ),
            );
        }
        for item in &items {
            if let Some(c) = use_of(d, item, &["conditionRef"], |d, m| {
                inline_object(d, m, "AlertCondition", "alert condition", condition_spec)
            }) {
                conditions.push(c);
            }
        }
    }
    let mut targets = Vec::new();
    if let Some(tf) = s.opt("notificationTargets") {
        for item in &seq(d, &tf).unwrap_or_default() {
            if let Some(t) = use_of(d, item, &["targetRef"], |d, m| {
                inline_object(
                    d,
                    m,
                    "AlertNotificationTarget",
                    "notification target",
                    target_spec,
                )
            }) {
                targets.push(t);
            }
        }
    }
    s.finish(d);
    Some(PolicyDef {
        name,
        at,
        when_breaching,
        conditions,
        targets,
        ok: true,
    })
}

fn condition_spec(d: &mut Decoder, f: &Field<'_>, name: String, at: At) -> Option<ConditionDef> {
    let mut s = Fields::of(d, f, false)?;
    s.opt_str(d, "description");
    let severity = s.req_str(d, "severity");
    if let Some(cf) = s.req(d, "condition")
        && let Some(mut c) = Fields::of(d, &cf, false)
    {
        if let Some((kind, kf)) = c.opt_str(d, "kind")
            && kind != "burnrate"
        {
            d.at(
                &kf,
                format!("unknown alert condition kind `{kind}`, expected `burnrate`"),
            );
        }
        if let Some((op, of)) = c.opt_str(d, "op") {
            operator(d, &of, &op);
        }
        if let Some(tf) = c.req(d, "threshold") {
            number(d, &tf, false);
        }
        if let Some(lf) = c.req(d, "lookbackWindow") {
            shorthand(d, &lf);
        }
        if let Some(af) = c.opt("alertAfter") {
            shorthand(d, &af);
        }
        c.finish(d);
    }
    s.finish(d);
    Some(ConditionDef {
        name,
        at,
        severity: severity?.0,
        ok: true,
    })
}

fn target_spec(d: &mut Decoder, f: &Field<'_>, name: String, at: At) -> Option<TargetDef> {
    let mut s = Fields::of(d, f, false)?;
    s.opt_str(d, "description");
    let target = s.req_str(d, "target");
    s.finish(d);
    target.map(|_| TargetDef { name, at, ok: true })
}

fn operator(d: &mut Decoder, f: &Field<'_>, op: &str) -> bool {
    let ok = matches!(op, "lt" | "lte" | "gt" | "gte");
    if !ok {
        d.at(
            f,
            format!("unknown operator `{op}`, expected one of: lt, lte, gt, gte"),
        );
    }
    ok
}

/// Whether any objective has its own indicator (a composite SLO).
fn objectives_have_indicator(spec: &Field<'_>) -> bool {
    match spec.node.get("objectives").map(|n| &n.value) {
        Some(Value::Seq(items)) => items
            .iter()
            .any(|o| o.get("indicator").is_some() || o.get("indicatorRef").is_some()),
        _ => false,
    }
}

/// An SLO's inline `indicator: {metadata, spec}`.
fn inline_indicator(d: &mut Decoder, f: &Field<'_>) -> Option<SliDef> {
    let mut m = Fields::of(d, f, false)?;
    let at = At::new(d, f);
    let name = metadata(d, &mut m, "SLI", false);
    let body = m.req(d, "spec").and_then(|s| sli_spec(d, &s));
    m.finish(d);
    Some(SliDef {
        name: name?,
        at,
        body,
        ok: true,
    })
}

fn sli_spec(d: &mut Decoder, f: &Field<'_>) -> Option<SliBody> {
    let mut m = Fields::of(d, f, false)?;
    m.opt_str(d, "description");
    let threshold = m.opt("thresholdMetric");
    let ratio = m.opt("ratioMetric");
    let body = match (threshold, ratio) {
        (Some(t), None) => {
            metric_spec(d, &t);
            Some(SliBody::Threshold(At::new(d, &t)))
        }
        (None, Some(r)) => ratio_metric(d, &r),
        (Some(_), Some(r)) => {
            d.at(
                &r,
                "only one of `thresholdMetric` and `ratioMetric` can be set",
            );
            None
        }
        (None, None) => {
            d.error(
                m.loc(),
                m.path(),
                "one of `thresholdMetric` or `ratioMetric` must be set",
            );
            None
        }
    };
    m.finish(d);
    body
}

fn ratio_metric(d: &mut Decoder, f: &Field<'_>) -> Option<SliBody> {
    let mut m = Fields::of(d, f, false)?;
    let counter = m.opt_bool(d, "counter");
    let good = m.opt("good");
    let bad = m.opt("bad");
    let total = m.opt("total");
    let raw_type = m.opt_str(d, "rawType");
    let raw = m.opt("raw");
    let (loc, path) = (m.loc(), m.path().clone());
    m.finish(d);
    if let Some(rf) = raw {
        if let Some(other) = good.as_ref().or(bad.as_ref()).or(total.as_ref()) {
            d.at(
                other,
                "`raw` cannot be combined with `good`, `bad` or `total`",
            );
        }
        let failure = match raw_type {
            Some((t, _)) if t == "failure" => Some(true),
            Some((t, _)) if t == "success" => Some(false),
            Some((t, tf)) => {
                d.at(
                    &tf,
                    format!("unknown rawType `{t}`, expected `success` or `failure`"),
                );
                None
            }
            None => {
                d.error(
                    loc,
                    &path,
                    "`rawType` (success or failure) is required with `raw`",
                );
                None
            }
        };
        let raw = metric_spec(d, &rf);
        return Some(SliBody::Raw {
            failure: failure?,
            raw: Box::new(raw?),
        });
    }
    if let Some((_, tf)) = &raw_type {
        d.at(tf, "`rawType` applies only to `raw`");
    }
    let numerator = match (good, bad) {
        (Some(g), None) => Some((true, g)),
        (None, Some(b)) => Some((false, b)),
        (Some(_), Some(b)) => {
            d.at(&b, "only one of `good` and `bad` can be set");
            None
        }
        (None, None) => {
            d.error(
                loc,
                &path,
                "one of `good` or `bad` must be set (with `total`), or `raw`",
            );
            None
        }
    };
    let Some(total) = total else {
        d.error(loc, &path, "missing required field `total` (or use `raw`)");
        return None;
    };
    let (good, nf) = numerator?;
    let numerator = metric_spec(d, &nf);
    let total = metric_spec(d, &total);
    Some(SliBody::Ratio {
        counter,
        good,
        numerator: Box::new(numerator?),
        total: Box::new(total?),
    })
}

/// `{metricSource: {metricSourceRef, type, spec}}`.
fn metric_spec(d: &mut Decoder, f: &Field<'_>) -> Option<MetricDef> {
    let mut m = Fields::of(d, f, false)?;
    let src = m.req(d, "metricSource");
    m.finish(d);
    let src = src?;
    let mut s = Fields::of(d, &src, false)?;
    let source_ref = s
        .opt_str(d, "metricSourceRef")
        .map(|(v, f)| (v, At::new(d, &f)));
    let kind = s.opt_str(d, "type").map(|(v, f)| (v, At::new(d, &f)));
    let spec = s.req(d, "spec");
    s.finish(d);
    let spec = spec?;
    if !matches!(spec.node.value, Value::Map(_)) {
        d.at(
            &spec,
            format!("expected a mapping, found {}", spec.node.value.kind()),
        );
        return None;
    }
    Some(MetricDef {
        at: At::new(d, &src),
        source_ref,
        kind,
        spec: (spec.node.clone(), At::new(d, &spec)),
    })
}

/// A duration shorthand: a positive integer and one of `m h d w M Q Y`.
fn shorthand(d: &mut Decoder, f: &Field<'_>) -> Option<(u64, char)> {
    let s = string(d, f)?;
    let unit = s.chars().last().filter(|c| "mhdwMQY".contains(*c));
    let digits = &s[..s.len() - unit.map_or(0, char::len_utf8)];
    match (unit, digits.parse::<u64>()) {
        (Some(u), Ok(n)) if !digits.is_empty() && digits.bytes().all(|b| b.is_ascii_digit()) => {
            Some((n, u))
        }
        _ => {
            d.at(
                f,
                format!(
                    "invalid duration {s:?}: expected a whole number and one of the units m, h, d, w, M, Q, Y, e.g. 28d"
                ),
            );
            None
        }
    }
}

/// A rolling period from a duration shorthand.
fn period(d: &mut Decoder, f: &Field<'_>) -> Option<PromDuration> {
    let (n, unit) = shorthand(d, f)?;
    let secs = match unit {
        'm' => 60,
        'h' => 3600,
        'd' => 86_400,
        'w' => 7 * 86_400,
        _ => {
            d.at(
                f,
                format!(
                    "time window unit `{unit}` (months, quarters, years) has no fixed length, so verdict cannot use it as a rolling period; use days or weeks, e.g. 30d, 13w or 365d"
                ),
            );
            return None;
        }
    };
    positive_period(d, f, n, secs)
}

fn positive_period(d: &mut Decoder, f: &Field<'_>, n: u64, secs: u64) -> Option<PromDuration> {
    if n == 0 {
        d.at(f, "the time window must be longer than zero");
        return None;
    }
    match n.checked_mul(secs).and_then(|s| s.checked_mul(1000)) {
        Some(ms) => Some(PromDuration::from_millis(ms)),
        None => {
            d.at(f, "the time window is too long");
            None
        }
    }
}

/// Refuses calendar-aligned windows (`calendar`, or `isRolling: false`).
fn rolling_only(d: &mut Decoder, w: &mut Fields<'_>) -> bool {
    let rolling = w.opt("isRolling");
    let rolling_value = rolling.as_ref().and_then(|f| boolean(d, f));
    if let Some(cf) = w.opt("calendar") {
        if let Some(mut c) = Fields::of(d, &cf, false) {
            if let Some(sf) = c.req(d, "startTime") {
                super::decode::scalar_string(d, &sf);
            }
            c.req_str(d, "timeZone");
            c.finish(d);
        }
        d.at(
            &cf,
            "calendar-aligned time windows are not supported: verdict's SLO period is a rolling window; use `isRolling: true` without `calendar`",
        );
        return false;
    }
    if let (Some(f), Some(false)) = (&rolling, rolling_value) {
        d.at(
            f,
            "calendar-aligned time windows (`isRolling: false`) are not supported: verdict's SLO period is a rolling window; set `isRolling: true`",
        );
        return false;
    }
    true
}

fn single_window<'n>(d: &mut Decoder, f: &Field<'n>) -> Option<Field<'n>> {
    let items = seq(d, f)?;
    if items.len() != 1 {
        d.at(
            f,
            format!("exactly one time window is required, found {}", items.len()),
        );
        return None;
    }
    items.into_iter().next()
}

fn time_window_v1(d: &mut Decoder, f: &Field<'_>) -> Option<PromDuration> {
    let item = single_window(d, f)?;
    let mut w = Fields::of(d, &item, false)?;
    let duration = w.req(d, "duration").and_then(|f| period(d, &f));
    let rolling = rolling_only(d, &mut w);
    w.finish(d);
    duration.filter(|_| rolling)
}

fn time_windows_alpha(d: &mut Decoder, f: &Field<'_>) -> Option<PromDuration> {
    let item = single_window(d, f)?;
    let mut w = Fields::of(d, &item, false)?;
    let count = w.req(d, "count").and_then(|f| {
        let n = super::decode::unsigned(d, &f);
        n.map(|n| (n, f))
    });
    let unit = w.req_str(d, "unit");
    let rolling = rolling_only(d, &mut w);
    w.finish(d);
    let (n, cf) = count?;
    let (unit, uf) = unit?;
    let secs = match unit.as_str() {
        "Second" => 1,
        "Day" => 86_400,
        "Week" => 7 * 86_400,
        "Month" | "Quarter" | "Year" => {
            d.at(
                &uf,
                format!(
                    "time window unit `{unit}` has no fixed length, so verdict cannot use it as a rolling period; use Day or Week"
                ),
            );
            return None;
        }
        other => {
            d.at(
                &uf,
                format!("unknown time window unit `{other}`, expected Second, Day or Week"),
            );
            return None;
        }
    };
    let p = positive_period(d, &cf, n, secs)?;
    rolling.then_some(p)
}

#[derive(Debug, Clone, Copy, PartialEq)]
enum Budgeting {
    Occurrences,
    Timeslices,
}

fn budgeting(d: &mut Decoder, f: &Field<'_>) -> Option<Budgeting> {
    let v = string(d, f)?;
    match v.as_str() {
        "Occurrences" => Some(Budgeting::Occurrences),
        "Timeslices" | "RatioTimeslices" => {
            d.at(
                f,
                format!(
                    "budgetingMethod {v} is not supported: verdict computes occurrence-based error ratios"
                ),
            );
            Some(Budgeting::Timeslices)
        }
        other => {
            d.at(
                f,
                format!(
                    "unknown budgetingMethod `{other}`, expected Occurrences, Timeslices or RatioTimeslices"
                ),
            );
            None
        }
    }
}

/// `target` (a ratio in (0, 1)) as a percent.
fn target_ratio(d: &mut Decoder, f: &Field<'_>) -> Option<f64> {
    let t = number(d, f, false)?;
    if t > 0.0 && t < 1.0 {
        Some(t * 100.0)
    } else {
        d.at(
            f,
            format!("target must be between 0 and 1 (exclusive), got {t}"),
        );
        None
    }
}

/// Time-slice fields, meaningless under Occurrences.
fn time_slice_fields(d: &mut Decoder, o: &mut Fields<'_>, budgeting: Option<Budgeting>) {
    if let Some(f) = o.opt("timeSliceTarget") {
        number(d, &f, false);
        if budgeting == Some(Budgeting::Occurrences) {
            d.at(
                &f,
                "timeSliceTarget applies only to budgetingMethod Timeslices",
            );
        }
    }
    if let Some(f) = o.opt("timeSliceWindow") {
        if !matches!(f.node.value, Value::Int(_)) {
            shorthand(d, &f);
        }
        if budgeting == Some(Budgeting::Occurrences) {
            d.at(
                &f,
                "timeSliceWindow applies only to budgetingMethod Timeslices",
            );
        }
    }
}

fn objectives_v1(d: &mut Decoder, f: &Field<'_>, budgeting: Option<Budgeting>) -> Vec<f64> {
    let items = seq(d, f).unwrap_or_default();
    if items.is_empty() && matches!(f.node.value, Value::Seq(_)) {
        d.at(f, "at least one objective is required");
    }
    let mut out = Vec::new();
    for item in &items {
        let Some(mut o) = Fields::of(d, item, false) else {
            continue;
        };
        o.opt_str(d, "displayName");
        if let Some((op, of)) = o.opt_str(d, "op") {
            operator(d, &of, &op);
        }
        if let Some(vf) = o.opt("value") {
            number(d, &vf, false);
        }
        let percent = match (o.opt("target"), o.opt("targetPercent")) {
            (Some(t), None) => target_ratio(d, &t),
            (None, Some(p)) => number(d, &p, false).filter(|v| check::objective_percent(d, &p, *v)),
            (Some(_), Some(p)) => {
                d.at(&p, "only one of `target` and `targetPercent` can be set");
                None
            }
            (None, None) => {
                d.error(
                    o.loc(),
                    o.path(),
                    "one of `target` or `targetPercent` must be set",
                );
                None
            }
        };
        time_slice_fields(d, &mut o, budgeting);
        for key in ["indicator", "indicatorRef", "compositeWeight"] {
            if let Some(cf) = o.opt(key) {
                d.at(
                    &cf,
                    "composite SLOs (an indicator per objective) are not supported: verdict judges one SLI per SLO; give the SLO a single `indicator` or `indicatorRef`",
                );
            }
        }
        o.finish(d);
        if let Some(p) = percent {
            out.push(p);
        }
    }
    out
}

/// One v1alpha objective: its objective percent and SLI.
fn objective_alpha(
    d: &mut Decoder,
    item: &Field<'_>,
    budgeting: Option<Budgeting>,
    has_indicator: bool,
) -> Option<(f64, Sli)> {
    let mut o = Fields::of(d, item, false)?;
    o.opt_str(d, "displayName");
    if let Some((op, of)) = o.opt_str(d, "op") {
        operator(d, &of, &op);
    }
    if let Some(vf) = o.opt("value") {
        number(d, &vf, false);
    }
    let percent = o.req(d, "target").and_then(|t| target_ratio(d, &t));
    time_slice_fields(d, &mut o, budgeting);
    let sli = match o.opt("ratioMetrics") {
        Some(rf) => ratio_metrics_alpha(d, &rf),
        None => {
            if !has_indicator {
                d.error(
                    o.loc(),
                    o.path(),
                    "missing required field `ratioMetrics` (verdict reads ratio objectives)",
                );
            }
            None
        }
    };
    o.finish(d);
    Some((percent?, sli?))
}

fn ratio_metrics_alpha(d: &mut Decoder, f: &Field<'_>) -> Option<Sli> {
    let mut m = Fields::of(d, f, false)?;
    let incremental = m.opt_bool(d, "incremental");
    let good = m.req(d, "good");
    let total = m.req(d, "total");
    m.finish(d);
    let good = good.and_then(|g| alpha_source(d, &g, incremental));
    let total = total.and_then(|t| alpha_source(d, &t, incremental));
    Some(Sli::GoodTotal {
        good_query: good?,
        total_query: total?,
    })
}

/// The fields of a v1alpha `{source, queryType, query}`, structure only
/// (for a threshold metric, which is refused whatever it queries).
fn alpha_source_fields(d: &mut Decoder, f: &Field<'_>) {
    if let Some(mut m) = Fields::of(d, f, false) {
        for key in ["source", "queryType", "query"] {
            m.req_str(d, key);
        }
        m.finish(d);
    }
}

/// A v1alpha `{source, queryType, query}` as a windowed Prometheus query.
fn alpha_source(d: &mut Decoder, f: &Field<'_>, incremental: Option<bool>) -> Option<String> {
    let mut m = Fields::of(d, f, false)?;
    let source = m.req_str(d, "source");
    let query_type = m.req_str(d, "queryType");
    let query = m.req_str(d, "query");
    m.finish(d);
    let mut ok = true;
    if let Some((s, sf)) = &source
        && !(s.eq_ignore_ascii_case("prometheus") || s == "sloth")
    {
        d.at(
                sf,
                format!(
                    "metric source `{s}` is not supported: verdict reads Prometheus queries only (source: prometheus)"
                ),
            );
        ok = false;
    }
    if let Some((t, tf)) = &query_type
        && !t.eq_ignore_ascii_case("promql")
    {
        d.at(
            tf,
            format!("queryType `{t}` is not supported: verdict reads PromQL (queryType: promql)"),
        );
        ok = false;
    }
    let (q, qf) = query?;
    if q.trim() == "Any" {
        d.at(&qf, PLACEHOLDER);
        return None;
    }
    if !ok || source.is_none() || query_type.is_none() {
        return None;
    }
    if !check::query(d, &qf, &q, false) {
        return None;
    }
    windowed_query(d, &qf, &q, incremental, "incremental", false)
}

/// The query with `{{.window}}`: as written when it has the placeholder,
/// else derived for a counter selector (see the module docs).
fn windowed_query(
    d: &mut Decoder,
    f: &Field<'_>,
    q: &str,
    counter: Option<bool>,
    counter_field: &str,
    raw: bool,
) -> Option<String> {
    if has_window(q) {
        return Some(q.trim().to_string());
    }
    if raw {
        d.at(
            f,
            "a raw ratio query needs `{{.window}}`: verdict evaluates the error ratio over windows of its choosing, and a precomputed ratio cannot be re-windowed",
        );
        return None;
    }
    if counter != Some(true) {
        d.at(
            f,
            format!(
                "cannot derive a windowed rate from this query: it has no `{{{{.window}}}}` and `{counter_field}` is not true, so it may not be a counter; write the windowed query, e.g. sum(rate(x[{{{{.window}}}}]))"
            ),
        );
        return None;
    }
    match validate(q).ok().as_ref().and_then(rate_of_counter) {
        Some(derived) => Some(derived),
        None => {
            d.at(
                f,
                "cannot derive a windowed rate from this query; add `{{.window}}` (verdict wraps only a plain selector, or a sum of one, in rate())",
            );
            None
        }
    }
}

/// `sum(rate(<selector>[{{.window}}]))` for a plain selector or a `sum` of
/// one (keeping `by`/`without`); `None` for anything else.
fn rate_of_counter(expr: &Expr) -> Option<String> {
    match expr {
        Expr::Paren(p) => rate_of_counter(&p.expr),
        Expr::VectorSelector(vs) => Some(sum_rate(vs, Grouping::None)),
        Expr::Aggregate(a) if a.op.to_string() == "sum" && a.param.is_none() => {
            let mut inner = a.expr.as_ref();
            while let Expr::Paren(p) = inner {
                inner = &p.expr;
            }
            let Expr::VectorSelector(vs) = inner else {
                return None;
            };
            let grouping = match &a.modifier {
                Some(LabelModifier::Include(ls)) if !ls.labels.is_empty() => {
                    Grouping::By(&ls.labels)
                }
                Some(LabelModifier::Exclude(ls)) => Grouping::Without(&ls.labels),
                _ => Grouping::None,
            };
            Some(sum_rate(vs, grouping))
        }
        _ => None,
    }
}

/// How a derived `sum` groups its result.
pub(crate) enum Grouping<'a> {
    None,
    By(&'a [String]),
    Without(&'a [String]),
}

/// `sum [by|without (...)] (rate(<selector>[{{.window}}]))`, the selector
/// printed by promql-parser (matchers sorted), offset and `@` kept.
pub(crate) fn sum_rate(vs: &VectorSelector, grouping: Grouping<'_>) -> String {
    let mut sel = String::new();
    if let Some(name) = &vs.name {
        sel.push_str(name);
    }
    let matchers = vs.matchers.to_string();
    if !matchers.is_empty() {
        let _ = write!(sel, "{{{matchers}}}");
    }
    sel.push_str("[{{.window}}]");
    if let Some(at) = &vs.at {
        let _ = write!(sel, " {at}");
    }
    if let Some(offset) = &vs.offset {
        let _ = write!(sel, " offset {offset}");
    }
    match grouping {
        Grouping::By(ls) => format!("sum by ({}) (rate({sel}))", ls.join(", ")),
        Grouping::Without(ls) => format!("sum without ({}) (rate({sel}))", ls.join(", ")),
        Grouping::None => format!("sum(rate({sel}))"),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::spec::yaml::parse_documents;
    use std::path::Path;

    fn conformance() -> PathBuf {
        Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/conformance")
    }

    /// Loads files like the loader does: every OpenSLO object of every
    /// document (top-level lists included). `files` are (name shown in errors, text).
    fn load_texts(files: &[(&str, String)]) -> (Vec<Service>, Vec<String>) {
        let mut objects = OpenSloObjects::new();
        let mut errors = Vec::new();
        for (name, text) in files {
            let path = Path::new(name);
            let mut d = Decoder::new(path);
            for doc in parse_documents(text).expect("fixture is YAML") {
                let items: Vec<Field<'_>> = match &doc.value {
                    Value::Seq(items) => items
                        .iter()
                        .enumerate()
                        .map(|(i, n)| Field::new(n, FieldPath::root().index(i)))
                        .collect(),
                    _ => vec![Field::new(&doc, FieldPath::root())],
                };
                for item in items {
                    let v = item.node.get("apiVersion").and_then(Node::as_str);
                    if v.is_some_and(|v| v.starts_with("openslo/")) {
                        objects.collect(&mut d, &item);
                    }
                }
            }
            errors.extend(d.errors);
        }
        let services = objects.resolve(&mut errors);
        (services, errors.iter().map(|e| e.to_string()).collect())
    }

    fn load(files: &[&str]) -> (Vec<Service>, Vec<String>) {
        let texts: Vec<(&str, String)> = files
            .iter()
            .map(|f| {
                let text = std::fs::read_to_string(conformance().join(f)).expect("fixture");
                (*f, text)
            })
            .collect();
        load_texts(&texts)
    }

    fn set(dir: &str, names: &[&str]) -> Vec<String> {
        names.iter().map(|n| format!("openslo/{dir}/{n}")).collect()
    }

    fn go_sdk_v1() -> Vec<String> {
        set(
            "go-sdk-v1",
            &[
                "alert_conditions.yaml",
                "alert_notification_targets.yaml",
                "alert_policies.yaml",
                "data_sources.yaml",
                "services.yaml",
                "slis.yaml",
                "slos.yaml",
            ],
        )
    }

    fn strs(v: &[String]) -> Vec<&str> {
        v.iter().map(String::as_str).collect()
    }

    fn read(f: &str) -> String {
        std::fs::read_to_string(conformance().join(f)).expect("fixture")
    }

    /// Rewrites an OpenSLO file into the subset verdict supports, keeping
    /// its structure and references: rolling windows, Occurrences, and a
    /// Prometheus counter ratio instead of a threshold metric.
    fn supported_variant(text: &str) -> String {
        let indent = |l: &str| l.len() - l.trim_start().len();
        let drop = [
            "calendar:",
            "startTime:",
            "timeZone:",
            "timeSliceTarget:",
            "timeSliceWindow:",
        ];
        let mut out: Vec<String> = Vec::new();
        let mut dash: Option<usize> = None;
        let mut skip_deeper_than: Option<usize> = None;
        for line in text.lines() {
            let ind = indent(line);
            let t = line.trim_start();
            if let Some(n) = skip_deeper_than {
                if ind > n {
                    continue;
                }
                skip_deeper_than = None;
            }
            let key = t.trim_start_matches("- ");
            if drop.iter().any(|k| key.starts_with(k)) {
                if t.starts_with("- ") {
                    dash = Some(ind);
                }
                continue;
            }
            if t.starts_with("thresholdMetric:") {
                let pad = " ".repeat(ind);
                let metric = |q: &str| {
                    [
                        "    metricSource:".to_string(),
                        "      metricSourceRef: my-prometheus".to_string(),
                        "      type: Prometheus".to_string(),
                        "      spec:".to_string(),
                        format!("        query: {q}"),
                    ]
                };
                out.push(format!("{pad}ratioMetric:"));
                out.push(format!("{pad}  counter: true"));
                out.push(format!("{pad}  good:"));
                for l in metric(r#"sum(http_requests_total{code!~"5.."})"#) {
                    out.push(format!("{pad}{l}"));
                }
                out.push(format!("{pad}  total:"));
                for l in metric("sum(http_requests_total)") {
                    out.push(format!("{pad}{l}"));
                }
                skip_deeper_than = Some(ind);
                continue;
            }
            let mut line = line.replace("isRolling: false", "isRolling: true").replace(
                "budgetingMethod: Timeslices",
                "budgetingMethod: Occurrences",
            );
            if let Some(n) = dash {
                if ind == n + 2 {
                    line = format!("{}- {}", " ".repeat(n), line.trim_start());
                }
                dash = None;
            }
            out.push(line);
        }
        out.join("\n") + "\n"
    }

    fn without_sources(services: &[Service]) -> Vec<Slo> {
        services
            .iter()
            .flat_map(|s| s.slos.iter().cloned())
            .map(|mut s| {
                s.source = Source::new(Path::new(""), Loc::default());
                s
            })
            .collect()
    }

    #[test]
    fn go_sdk_v1_examples_load_as_one_set_and_fail_only_on_the_calendar_timeslices_slo() {
        let (services, errors) = load(&strs(&go_sdk_v1()));
        assert_eq!(
            errors,
            vec![
                "openslo/go-sdk-v1/slos.yaml:35:11: [0].spec.timeWindow[0].calendar: calendar-aligned time windows are not supported: verdict's SLO period is a rolling window; use `isRolling: true` without `calendar`",
                "openslo/go-sdk-v1/slos.yaml:37:22: [0].spec.budgetingMethod: budgetingMethod Timeslices is not supported: verdict computes occurrence-based error ratios",
            ]
        );
        assert!(services.is_empty());
    }

    #[test]
    fn go_sdk_v1_slo_with_a_rolling_occurrences_window_loads_with_derived_rate_queries() {
        let mut files: Vec<(&str, String)> = Vec::new();
        let names = go_sdk_v1();
        for f in &names {
            let text = read(f);
            let text = if f.ends_with("slos.yaml") {
                supported_variant(&text)
            } else {
                text
            };
            files.push((f.as_str(), text));
        }
        let (services, errors) = load_texts(&files);
        assert_eq!(errors, Vec::<String>::new());
        assert_eq!(services.len(), 1);
        let s = &services[0];
        assert_eq!((s.name.as_str(), s.format), ("web", SpecFormat::OpenSloV1));
        assert_eq!(s.slos.len(), 1);
        let slo = &s.slos[0];
        assert_eq!(slo.id, "web-web-availability");
        assert_eq!(slo.name, "web-availability");
        assert_eq!(slo.objective, 99.5);
        assert_eq!(slo.description, "X% of search requests are successful");
        assert_eq!(slo.period, Some(PromDuration::from_secs(7 * 86_400)));
        assert_eq!(
            slo.sli,
            Sli::GoodTotal {
                good_query: r#"sum(rate(http_requests{code=~"2xx|4xx",component="web",k8s_cluster="prod"}[{{.window}}]))"#.into(),
                total_query: r#"sum(rate(http_requests{component="web",k8s_cluster="prod"}[{{.window}}]))"#.into(),
            }
        );
        assert!(slo.alerting.page.disable && slo.alerting.ticket.disable);
        assert_eq!(
            (slo.source.line, slo.source.column),
            (1, 3),
            "the SLO points at its list item"
        );
    }

    #[test]
    fn spec_repo_examples_fail_on_timeslices_calendars_and_placeholders() {
        let cases: [(&str, &[&str]); 4] = [
            (
                "budgeting-method__occurences-slo.yaml",
                &[
                    ":16:9: spec.indicator.spec.thresholdMetric: thresholdMetric is not supported: it needs per-sample threshold evaluation (`op`/`value`), and verdict computes an occurrence-based error ratio from event counts; use ratioMetric",
                ],
            ),
            (
                "budgeting-method__ratio-timeslices.yaml",
                &[
                    ":29:20: spec.budgetingMethod: budgetingMethod RatioTimeslices is not supported: verdict computes occurrence-based error ratios",
                    ":20:22: spec.indicator.spec.ratioMetric.good.metricSource.spec.query: placeholder query `Any` is not PromQL",
                    ":18:19: spec.indicator.spec.ratioMetric.good.metricSource.type: metric source type `Any` is not supported: verdict reads Prometheus queries only (type: Prometheus)",
                    ":25:22: spec.indicator.spec.ratioMetric.total.metricSource.spec.query: placeholder query `Any` is not PromQL",
                    ":23:19: spec.indicator.spec.ratioMetric.total.metricSource.type: metric source type `Any` is not supported: verdict reads Prometheus queries only (type: Prometheus)",
                ],
            ),
            (
                "budgeting-method__timeslices-slo.yaml",
                &[
                    ":30:9: spec.timeWindow[0].calendar: calendar-aligned time windows are not supported: verdict's SLO period is a rolling window; use `isRolling: true` without `calendar`",
                    ":32:20: spec.budgetingMethod: budgetingMethod Timeslices is not supported: verdict computes occurrence-based error ratios",
                    ":20:22: spec.indicator.spec.ratioMetric.good.metricSource.spec.query: placeholder query `Any` is not PromQL",
                    ":18:19: spec.indicator.spec.ratioMetric.good.metricSource.type: metric source type `Any` is not supported: verdict reads Prometheus queries only (type: Prometheus)",
                    ":25:22: spec.indicator.spec.ratioMetric.total.metricSource.spec.query: placeholder query `Any` is not PromQL",
                    ":23:19: spec.indicator.spec.ratioMetric.total.metricSource.type: metric source type `Any` is not supported: verdict reads Prometheus queries only (type: Prometheus)",
                ],
            ),
            (
                "treat-low-traffic-as-equally-important__timeslices-slo.yaml",
                &[
                    ":28:9: spec.timeWindow[0].calendar: calendar-aligned time windows are not supported: verdict's SLO period is a rolling window; use `isRolling: true` without `calendar`",
                    ":30:20: spec.budgetingMethod: budgetingMethod Timeslices is not supported: verdict computes occurrence-based error ratios",
                    ":18:22: spec.indicator.spec.ratioMetric.good.metricSource.spec.query: placeholder query `Any` is not PromQL",
                    ":16:19: spec.indicator.spec.ratioMetric.good.metricSource.type: metric source type `Any` is not supported: verdict reads Prometheus queries only (type: Prometheus)",
                    ":23:22: spec.indicator.spec.ratioMetric.total.metricSource.spec.query: placeholder query `Any` is not PromQL",
                    ":21:19: spec.indicator.spec.ratioMetric.total.metricSource.type: metric source type `Any` is not supported: verdict reads Prometheus queries only (type: Prometheus)",
                ],
            ),
        ];
        for (file, expected) in cases {
            let path = format!("openslo/spec-repo/{file}");
            let (services, errors) = load(&[&path]);
            let expected: Vec<String> = expected.iter().map(|e| format!("{path}{e}")).collect();
            assert_eq!(errors, expected, "{file}");
            assert!(services.is_empty(), "{file}");
        }
    }

    #[test]
    fn inline_refs_input_reports_the_same_problems_as_its_inlined_form() {
        let input = "openslo/go-sdk-inline-refs/input.yaml";
        let inlined = "openslo/go-sdk-inline-refs/expected_inlined.yaml";
        let calendar = "calendar-aligned time windows are not supported: verdict's SLO period is a rolling window; use `isRolling: true` without `calendar`";
        let timeslices = "budgetingMethod Timeslices is not supported: verdict computes occurrence-based error ratios";
        let threshold = "thresholdMetric is not supported: it needs per-sample threshold evaluation (`op`/`value`), and verdict computes an occurrence-based error ratio from event counts; use ratioMetric";
        let (s1, e1) = load(&[input]);
        assert_eq!(
            e1,
            vec![
                format!("{input}:22:11: [0].spec.timeWindow[0].calendar: {calendar}"),
                format!("{input}:24:22: [0].spec.budgetingMethod: {timeslices}"),
                format!("{input}:43:11: [1].spec.timeWindow[0].calendar: {calendar}"),
                format!("{input}:45:22: [1].spec.budgetingMethod: {timeslices}"),
                format!("{input}:12:11: [0].spec.indicator.spec.thresholdMetric: {threshold}"),
                format!(
                    "{input}:92:7: [2].spec.thresholdMetric: {threshold} (SLI `my-sli` is used by SLO `my-slo-2` at {input}:32:3)"
                ),
            ]
        );
        let (s2, e2) = load(&[inlined]);
        assert_eq!(
            e2,
            vec![
                format!("{inlined}:28:9: [0].spec.timeWindow[0].calendar: {calendar}"),
                format!("{inlined}:6:22: [0].spec.budgetingMethod: {timeslices}"),
                format!("{inlined}:106:9: [1].spec.timeWindow[0].calendar: {calendar}"),
                format!("{inlined}:84:22: [1].spec.budgetingMethod: {timeslices}"),
                format!("{inlined}:12:11: [0].spec.indicator.spec.thresholdMetric: {threshold}"),
                format!("{inlined}:90:11: [1].spec.indicator.spec.thresholdMetric: {threshold}"),
            ]
        );
        assert!(s1.is_empty() && s2.is_empty());
    }

    #[test]
    fn inline_refs_input_resolves_to_the_same_slos_as_expected_inlined() {
        let input = supported_variant(&read("openslo/go-sdk-inline-refs/input.yaml"));
        let inlined = supported_variant(&read("openslo/go-sdk-inline-refs/expected_inlined.yaml"));
        let (s1, e1) = load_texts(&[("input.yaml", input)]);
        let (s2, e2) = load_texts(&[("expected_inlined.yaml", inlined)]);
        assert_eq!(e1, Vec::<String>::new());
        assert_eq!(e2, Vec::<String>::new());
        let (slos, inlined_slos) = (without_sources(&s1), without_sources(&s2));
        assert_eq!(slos, inlined_slos);
        let ids: Vec<&str> = slos.iter().map(|s| s.id.as_str()).collect();
        assert_eq!(ids, ["web-my-slo-1", "web-my-slo-2"]);
        let sli = Sli::GoodTotal {
            good_query: r#"sum(rate(http_requests_total{code!~"5.."}[{{.window}}]))"#.into(),
            total_query: "sum(rate(http_requests_total[{{.window}}]))".into(),
        };
        assert_eq!(slos[0].sli, sli);
        assert_eq!(slos[1].sli, sli);
        // my-slo-1 has no alert policy; my-slo-2's conditions are both `page`.
        assert!(slos[0].alerting.page.disable && slos[0].alerting.ticket.disable);
        assert!(!slos[1].alerting.page.disable && slos[1].alerting.ticket.disable);
        assert_eq!(
            slos[1]
                .alerting
                .annotations
                .get("openslo_alert_policies")
                .map(String::as_str),
            Some("single-referenced-object,mix-of-referenced-and-inlined-objects")
        );
        assert_eq!(slos[0].period, Some(PromDuration::from_secs(7 * 86_400)));
        assert_eq!(slos[0].objective, 99.5);
    }

    #[test]
    fn sloth_v1alpha_example_loads_as_sloths_single_slo() {
        let (services, errors) = load(&["sloth/05-openslo-v1alpha/in.yaml"]);
        assert_eq!(errors, Vec::<String>::new());
        assert_eq!(services.len(), 1);
        let s = &services[0];
        assert_eq!(
            (s.name.as_str(), s.format),
            ("svc01", SpecFormat::OpenSloV1Alpha)
        );
        let slos: Vec<&str> = s.slos.iter().map(|s| s.id.as_str()).collect();
        assert_eq!(slos, ["svc01-slo1-0"]);
        let slo = &s.slos[0];
        assert_eq!(slo.name, "slo1-0");
        assert_eq!(slo.objective, 99.9);
        assert_eq!(slo.description, "this is SLO1.");
        assert_eq!(slo.period, Some(PromDuration::from_secs(30 * 86_400)));
        assert_eq!(
            slo.sli,
            Sli::GoodTotal {
                good_query: r#"sum(rate(http_request_duration_seconds_count{job="myservice",code!~"(5..|429)"}[{{.window}}]))"#.into(),
                total_query: r#"sum(rate(http_request_duration_seconds_count{job="myservice"}[{{.window}}]))"#.into(),
            }
        );
        // Sloth generates no alerts for OpenSLO specs (no alert group in its output).
        assert!(slo.alerting.page.disable && slo.alerting.ticket.disable);
        assert_eq!(
            slo.sli.error_ratio_template().replace("{{.window}}", "5m"),
            "1 - (\n(sum(rate(http_request_duration_seconds_count{job=\"myservice\",code!~\"(5..|429)\"}[5m])))\n/\n(sum(rate(http_request_duration_seconds_count{job=\"myservice\"}[5m])))\n)"
        );
    }

    #[test]
    fn go_sdk_v1alpha_examples_fail_with_named_reasons() {
        let files = set("go-sdk-v1alpha", &["services.yaml", "slos.yaml"]);
        let (services, errors) = load(&strs(&files));
        let f = "openslo/go-sdk-v1alpha/slos.yaml";
        let calendar = "calendar-aligned time windows are not supported: verdict's SLO period is a rolling window; use `isRolling: true` without `calendar`";
        assert_eq!(
            errors,
            vec![
                format!(
                    "{f}:11:9: [0].spec.indicator.thresholdMetric: thresholdMetric is not supported: it needs per-sample threshold evaluation (`op`/`value`), and verdict computes an occurrence-based error ratio from event counts; use ratioMetric"
                ),
                format!("{f}:19:11: [0].spec.timeWindows[0].calendar: {calendar}"),
                format!(
                    "{f}:42:22: [1].spec.budgetingMethod: budgetingMethod Timeslices is not supported: verdict computes occurrence-based error ratios"
                ),
                format!("{f}:40:11: [1].spec.timeWindows[0].calendar: {calendar}"),
                format!(
                    "{f}:51:21: [1].spec.objectives[0].ratioMetrics.good.source: metric source `datadog` is not supported: verdict reads Prometheus queries only (source: prometheus)"
                ),
                format!(
                    "{f}:52:24: [1].spec.objectives[0].ratioMetrics.good.queryType: queryType `query` is not supported: verdict reads PromQL (queryType: promql)"
                ),
                format!(
                    "{f}:55:21: [1].spec.objectives[0].ratioMetrics.total.source: metric source `datadog` is not supported: verdict reads Prometheus queries only (source: prometheus)"
                ),
                format!(
                    "{f}:56:24: [1].spec.objectives[0].ratioMetrics.total.queryType: queryType `query` is not supported: verdict reads PromQL (queryType: promql)"
                ),
            ]
        );
        assert!(services.is_empty());
    }

    fn one(text: &str) -> (Vec<Service>, Vec<String>) {
        load_texts(&[("t.yaml", text.to_string())])
    }

    const SLO: &str = "apiVersion: openslo/v1
kind: SLO
metadata:
  name: checkout
spec:
  service: shop
  indicatorRef: checkout-ok
  timeWindow:
    - duration: 4w
      isRolling: true
  budgetingMethod: Occurrences
  objectives:
    - target: 0.999
";

    /// An SLI named checkout-ok whose ratioMetric body is `body` (indented 4).
    fn sli(body: &str) -> String {
        format!(
            "apiVersion: openslo/v1\nkind: SLI\nmetadata:\n  name: checkout-ok\nspec:\n  ratioMetric:\n{body}"
        )
    }

    fn prom(role: &str, query: &str) -> String {
        format!(
            "    {role}:\n      metricSource:\n        type: Prometheus\n        spec:\n          query: '{query}'\n"
        )
    }

    fn the_sli(services: &[Service]) -> &Sli {
        &services[0].slos[0].sli
    }

    #[test]
    fn counter_selectors_without_window_are_wrapped_in_rate_through_the_syntax_tree() {
        let cases = [
            (
                r#"sum(x{b="2",a="1"})"#,
                r#"sum(rate(x{a="1",b="2"}[{{.window}}]))"#,
            ),
            ("x", "sum(rate(x[{{.window}}]))"),
            ("(sum((x)))", "sum(rate(x[{{.window}}]))"),
            (
                "sum by (code, method) (x)",
                "sum by (code, method) (rate(x[{{.window}}]))",
            ),
            (
                "sum without (pod) (x offset 5m)",
                "sum without (pod) (rate(x[{{.window}}] offset 5m))",
            ),
        ];
        for (query, expected) in cases {
            let expr = validate(query).expect("valid");
            let derived = rate_of_counter(&expr);
            assert_eq!(derived.as_deref(), Some(expected), "{query}");
            let rendered = crate::spec::promql::render_window(expected, "5m");
            assert!(validate(&rendered).is_ok(), "{rendered}");
        }
        for refused in [
            "rate(x[5m])",
            "sum(x) / 2",
            "max(x)",
            "sum(rate(x[5m]))",
            "topk(1, x)",
        ] {
            let expr = validate(refused).expect("valid");
            assert_eq!(rate_of_counter(&expr), None, "{refused}");
        }
    }

    #[test]
    fn a_bad_total_ratio_is_an_events_sli_with_queries_as_written() {
        let body = format!(
            "    counter: true\n{}{}",
            prom(
                "bad",
                r#"sum(rate(http_requests_total{code=~"5.."}[{{.window}}]))"#
            ),
            prom("total", "sum(rate(http_requests_total[{{ .window }}]))")
        );
        let (services, errors) = one(&format!("{SLO}---\n{}", sli(&body)));
        assert_eq!(errors, Vec::<String>::new());
        assert_eq!(
            the_sli(&services),
            &Sli::Events {
                error_query: r#"sum(rate(http_requests_total{code=~"5.."}[{{.window}}]))"#.into(),
                total_query: "sum(rate(http_requests_total[{{ .window }}]))".into(),
            }
        );
        let slo = &services[0].slos[0];
        assert_eq!(slo.id, "shop-checkout");
        assert_eq!(slo.objective, 99.9);
        assert_eq!(slo.period, Some(PromDuration::from_secs(28 * 86_400)));
    }

    #[test]
    fn raw_ratios_need_the_window_and_success_ratios_are_inverted() {
        let raw = |ty: &str, q: &str| {
            format!(
                "    rawType: {ty}\n    raw:\n      metricSource:\n        type: Prometheus\n        spec:\n          query: '{q}'\n"
            )
        };
        let q = "avg_over_time(ok_ratio[{{.window}}])";
        let (s, e) = one(&format!("{SLO}---\n{}", sli(&raw("success", q))));
        assert_eq!(e, Vec::<String>::new());
        assert_eq!(
            the_sli(&s),
            &Sli::Raw {
                error_ratio_query: format!("1 - ({q})")
            }
        );
        let (s, e) = one(&format!("{SLO}---\n{}", sli(&raw("failure", q))));
        assert_eq!(e, Vec::<String>::new());
        assert_eq!(
            the_sli(&s),
            &Sli::Raw {
                error_ratio_query: q.into()
            }
        );
        let (s, e) = one(&format!(
            "{SLO}---\n{}",
            sli(&raw("failure", "error_ratio"))
        ));
        assert_eq!(
            e,
            [
                "t.yaml:26:18: spec.ratioMetric.raw.metricSource.spec.query: a raw ratio query needs `{{.window}}`: verdict evaluates the error ratio over windows of its choosing, and a precomputed ratio cannot be re-windowed (SLI `checkout-ok` is used by SLO `checkout` at t.yaml:1:1)"
            ]
        );
        assert!(s.is_empty());
    }

    #[test]
    fn queries_without_window_are_refused_unless_a_counter_selector() {
        let used = " (SLI `checkout-ok` is used by SLO `checkout` at t.yaml:1:1)";
        let gauge = format!(
            "    counter: false\n{}{}",
            prom("good", "sum(up)"),
            prom("total", "sum(rate(x[{{.window}}]))")
        );
        let (s, e) = one(&format!("{SLO}---\n{}", sli(&gauge)));
        assert_eq!(
            e,
            [format!(
                "t.yaml:26:18: spec.ratioMetric.good.metricSource.spec.query: cannot derive a windowed rate from this query: it has no `{{{{.window}}}}` and `counter` is not true, so it may not be a counter; write the windowed query, e.g. sum(rate(x[{{{{.window}}}}])){used}"
            )]
        );
        assert!(s.is_empty());
        let complex = format!(
            "    counter: true\n{}{}",
            prom("good", "sum(rate(x[5m])) * 60"),
            prom("total", "sum(y)")
        );
        let (s, e) = one(&format!("{SLO}---\n{}", sli(&complex)));
        assert_eq!(
            e,
            [format!(
                "t.yaml:26:18: spec.ratioMetric.good.metricSource.spec.query: cannot derive a windowed rate from this query; add `{{{{.window}}}}` (verdict wraps only a plain selector, or a sum of one, in rate()){used}"
            )]
        );
        assert!(s.is_empty());
        let broken = format!(
            "    counter: true\n{}{}",
            prom("good", "sum(x"),
            prom("total", "sum(y)")
        );
        let (_, e) = one(&format!("{SLO}---\n{}", sli(&broken)));
        assert_eq!(
            e,
            [format!(
                "t.yaml:26:18: spec.ratioMetric.good.metricSource.spec.query: invalid PromQL at position 4: unclosed left parenthesis (near `(x`){used}"
            )]
        );
    }

    #[test]
    fn the_data_source_reference_supplies_the_metric_source_type() {
        let ds = |name: &str, ty: &str| {
            format!(
                "apiVersion: openslo/v1\nkind: DataSource\nmetadata:\n  name: {name}\nspec:\n  type: {ty}\n  connectionDetails:\n    url: http://127.0.0.1:9090\n"
            )
        };
        let by_ref = |r: &str, ty: Option<&str>| {
            let ty = ty
                .map(|t| format!("        type: {t}\n"))
                .unwrap_or_default();
            format!(
                "    counter: true\n    good:\n      metricSource:\n        metricSourceRef: {r}\n{ty}        spec:\n          query: sum(ok_total)\n{}",
                prom("total", "sum(all_total)")
            )
        };
        let files = |sli_body: String| {
            load_texts(&[
                ("slo.yaml", SLO.to_string()),
                ("sli.yaml", sli(&sli_body)),
                (
                    "ds.yaml",
                    format!("{}---\n{}", ds("prom", "Prometheus"), ds("dd", "Datadog")),
                ),
            ])
        };
        let (s, e) = files(by_ref("prom", None));
        assert_eq!(e, Vec::<String>::new());
        assert_eq!(
            the_sli(&s),
            &Sli::GoodTotal {
                good_query: "sum(rate(ok_total[{{.window}}]))".into(),
                total_query: "sum(rate(all_total[{{.window}}]))".into(),
            }
        );
        let used = " (SLI `checkout-ok` is used by SLO `checkout` at slo.yaml:1:1)";
        let (_, e) = files(by_ref("dd", None));
        assert_eq!(
            e,
            [format!(
                "sli.yaml:10:26: spec.ratioMetric.good.metricSource.metricSourceRef: metric source type `Datadog` (the type of DataSource `dd`) is not supported: verdict reads Prometheus queries only (type: Prometheus){used}"
            )]
        );
        let (_, e) = files(by_ref("dd", Some("Prometheus")));
        assert_eq!(
            e,
            [format!(
                "sli.yaml:11:15: spec.ratioMetric.good.metricSource.type: type `Prometheus` contradicts DataSource `dd` (type `Datadog`, defined at ds.yaml:10:1){used}"
            )]
        );
        let (_, e) = files(by_ref("nowhere", None));
        assert_eq!(
            e,
            [format!(
                "sli.yaml:10:26: spec.ratioMetric.good.metricSource.metricSourceRef: no DataSource named `nowhere` in the loaded files, and no `type` is set: verdict cannot tell which metric source this is{used}"
            )]
        );
        // An explicit type is enough: the DataSource itself is not needed.
        let (s, e) = files(by_ref("nowhere", Some("prometheus")));
        assert_eq!(e, Vec::<String>::new());
        assert_eq!(s.len(), 1);
    }

    #[test]
    fn missing_and_ambiguous_references_are_reported_at_the_reference() {
        let policies = "  alertPolicies:
    - alertPolicyRef: pager
    - kind: AlertPolicy
      metadata:
        name: inline
      spec:
        alertWhenBreaching: true
        conditions:
          - conditionRef: nowhere
        notificationTargets:
          - targetRef: nobody
";
        let (s, e) = one(&format!("{SLO}{policies}"));
        assert_eq!(
            e,
            [
                "t.yaml:7:17: spec.indicatorRef: no SLI named `checkout-ok` in the loaded files",
                "t.yaml:15:23: spec.alertPolicies[0].alertPolicyRef: no AlertPolicy named `pager` in the loaded files",
                "t.yaml:24:24: spec.alertPolicies[1].spec.notificationTargets[0].targetRef: no AlertNotificationTarget named `nobody` in the loaded files",
                "t.yaml:22:27: spec.alertPolicies[1].spec.conditions[0].conditionRef: no AlertCondition named `nowhere` in the loaded files",
            ]
        );
        assert!(s.is_empty());
        let body = format!(
            "    counter: true\n{}{}",
            prom("good", "sum(ok_total)"),
            prom("total", "sum(all_total)")
        );
        let (s, e) = load_texts(&[
            ("slo.yaml", SLO.to_string()),
            ("a.yaml", sli(&body)),
            ("b.yaml", sli(&body)),
        ]);
        assert_eq!(
            e,
            [
                "slo.yaml:7:17: spec.indicatorRef: SLI `checkout-ok` is defined more than once (at a.yaml:1:1, b.yaml:1:1), so the reference is ambiguous"
            ]
        );
        assert!(s.is_empty());
    }

    #[test]
    fn rolling_windows_use_exact_units_and_calendar_units_are_refused() {
        let with_window =
            |w: &str| one(&SLO.replace("    - duration: 4w\n      isRolling: true\n", w));
        // No SLI is loaded here, so only window errors and the missing SLI show.
        let missing =
            "t.yaml:7:17: spec.indicatorRef: no SLI named `checkout-ok` in the loaded files";
        let (_, e) = with_window("    - duration: 1M\n      isRolling: true\n");
        assert_eq!(
            e,
            [
                "t.yaml:9:17: spec.timeWindow[0].duration: time window unit `M` (months, quarters, years) has no fixed length, so verdict cannot use it as a rolling period; use days or weeks, e.g. 30d, 13w or 365d",
                missing,
            ]
        );
        let (_, e) = with_window("    - duration: 30\n      isRolling: true\n");
        assert_eq!(
            e,
            [
                "t.yaml:9:17: spec.timeWindow[0].duration: expected a string, found an integer",
                missing,
            ]
        );
        let (_, e) = with_window("    - duration: 2s\n      isRolling: true\n");
        assert_eq!(
            e,
            [
                "t.yaml:9:17: spec.timeWindow[0].duration: invalid duration \"2s\": expected a whole number and one of the units m, h, d, w, M, Q, Y, e.g. 28d",
                missing,
            ]
        );
        let (_, e) = with_window("    - duration: 0d\n      isRolling: true\n");
        assert_eq!(
            e,
            [
                "t.yaml:9:17: spec.timeWindow[0].duration: the time window must be longer than zero",
                missing,
            ]
        );
        let (_, e) = with_window("    - duration: 7d\n      isRolling: false\n");
        assert_eq!(
            e,
            [
                "t.yaml:10:18: spec.timeWindow[0].isRolling: calendar-aligned time windows (`isRolling: false`) are not supported: verdict's SLO period is a rolling window; set `isRolling: true`",
                missing,
            ]
        );
        let (_, e) = with_window("    - duration: 7d\n    - duration: 28d\n");
        assert_eq!(
            e,
            [
                "t.yaml:9:5: spec.timeWindow: exactly one time window is required, found 2",
                missing,
            ]
        );
        // With a loadable SLI, each exact unit gives its period.
        let body = format!(
            "    counter: true\n{}{}",
            prom("good", "sum(ok_total)"),
            prom("total", "sum(all_total)")
        );
        let sli_doc = sli(&body);
        let load_window = |w: &str| {
            let text = format!(
                "{}---\n{sli_doc}",
                SLO.replace("    - duration: 4w\n      isRolling: true\n", w)
            );
            let (s, e) = one(&text);
            assert_eq!(e, Vec::<String>::new(), "{w}");
            s[0].slos[0].period
        };
        assert_eq!(
            load_window("    - duration: 90m\n      isRolling: true\n"),
            Some(PromDuration::from_secs(90 * 60))
        );
        assert_eq!(
            load_window("    - duration: 36h\n"),
            Some(PromDuration::from_secs(36 * 3600)),
            "no isRolling and no calendar: rolling, as Sloth reads it"
        );
        assert_eq!(
            load_window("    - duration: 30d\n      isRolling: true\n"),
            Some(PromDuration::from_secs(30 * 86_400))
        );
        assert_eq!(
            load_window("    - duration: 2w\n      isRolling: true\n"),
            Some(PromDuration::from_secs(14 * 86_400))
        );
        let no_window = format!(
            "{}---\n{sli_doc}",
            SLO.replace(
                "  timeWindow:\n    - duration: 4w\n      isRolling: true\n",
                ""
            )
        );
        let (s, e) = one(&no_window);
        assert_eq!(e, Vec::<String>::new());
        assert_eq!(s[0].slos[0].period, None, "the generator's default applies");
    }

    fn loadable_sli() -> String {
        sli(&format!(
            "    counter: true\n{}{}",
            prom("good", "sum(ok_total)"),
            prom("total", "sum(all_total)")
        ))
    }

    #[test]
    fn each_objective_becomes_an_slo_named_with_its_index() {
        let slo = SLO.replace(
            "    - target: 0.999\n",
            "    - displayName: strict\n      targetPercent: 99.95\n    - displayName: loose\n      target: 0.99\n",
        );
        let (s, e) = one(&format!("{slo}---\n{}", loadable_sli()));
        assert_eq!(e, Vec::<String>::new());
        let got: Vec<(&str, &str, f64)> = s[0]
            .slos
            .iter()
            .map(|s| (s.id.as_str(), s.name.as_str(), s.objective))
            .collect();
        assert_eq!(
            got,
            [
                ("shop-checkout-0", "checkout-0", 99.95),
                ("shop-checkout-1", "checkout-1", 99.0)
            ]
        );
    }

    #[test]
    fn objective_targets_are_checked() {
        let cases = [
            (
                "    - target: 99.9\n",
                "t.yaml:13:15: spec.objectives[0].target: target must be between 0 and 1 (exclusive), got 99.9",
            ),
            (
                "    - targetPercent: 100\n",
                "t.yaml:13:22: spec.objectives[0].targetPercent: objective must be between 0 and 100 (exclusive), got 100",
            ),
            (
                "    - target: 0.9\n      targetPercent: 90\n",
                "t.yaml:14:22: spec.objectives[0].targetPercent: only one of `target` and `targetPercent` can be set",
            ),
            (
                "    - displayName: none\n",
                "t.yaml:13:7: spec.objectives[0]: one of `target` or `targetPercent` must be set",
            ),
            (
                "    - target: 0.9\n      timeSliceTarget: 0.9\n",
                "t.yaml:14:24: spec.objectives[0].timeSliceTarget: timeSliceTarget applies only to budgetingMethod Timeslices",
            ),
            (
                "    - target: 0.9\n      indicatorRef: other\n",
                "t.yaml:14:21: spec.objectives[0].indicatorRef: composite SLOs (an indicator per objective) are not supported: verdict judges one SLI per SLO; give the SLO a single `indicator` or `indicatorRef`",
            ),
        ];
        for (objective, expected) in cases {
            let slo = SLO.replace("    - target: 0.999\n", objective);
            let (s, e) = one(&format!("{slo}---\n{}", loadable_sli()));
            assert_eq!(e, [expected], "{objective}");
            assert!(s.is_empty());
        }
    }

    #[test]
    fn alert_condition_severity_enables_verdicts_page_or_ticket_alert() {
        let docs = |severity: &str, breaching: bool| {
            format!(
                "{SLO}  alertPolicies:\n    - alertPolicyRef: notify\n---\n{}---\napiVersion: openslo/v1\nkind: AlertPolicy\nmetadata:\n  name: notify\nspec:\n  alertWhenBreaching: {breaching}\n  alertWhenResolved: true\n  conditions:\n    - conditionRef: fast-burn\n  notificationTargets:\n    - kind: AlertNotificationTarget\n      metadata:\n        name: mail\n      spec:\n        target: email\n---\napiVersion: openslo/v1\nkind: AlertCondition\nmetadata:\n  name: fast-burn\nspec:\n  severity: {severity}\n  condition:\n    kind: burnrate\n    op: gt\n    threshold: 14.4\n    lookbackWindow: 1h\n    alertAfter: 5m\n",
                loadable_sli()
            )
        };
        let alerts = |severity: &str, breaching: bool| {
            let (s, e) = one(&docs(severity, breaching));
            assert_eq!(e, Vec::<String>::new());
            let a = &s[0].slos[0].alerting;
            assert_eq!(
                a.annotations
                    .get("openslo_alert_policies")
                    .map(String::as_str),
                Some("notify")
            );
            (!a.page.disable, !a.ticket.disable)
        };
        assert_eq!(alerts("page", true), (true, false));
        assert_eq!(alerts("Critical", true), (true, false));
        assert_eq!(alerts("warning", true), (false, true));
        assert_eq!(alerts("page", false), (false, false));
        let no_data =
            docs("page", true).replace("  alertWhenResolved: true\n", "  alertWhenNoData: true\n");
        let (s, e) = one(&no_data);
        assert_eq!(
            e,
            [
                "t.yaml:41:20: spec.alertWhenNoData: alertWhenNoData is not supported: verdict generates no no-data alert (its verdicts report missing data through `on_no_data`)"
            ]
        );
        // The policy object is broken, so the reference to it finds nothing.
        assert_eq!(s.len(), 0);
    }

    #[test]
    fn unknown_fields_are_errors_and_labels_may_be_lists() {
        let slo = SLO.replace(
            "  name: checkout\n",
            "  name: checkout\n  labels:\n    team: [a, b]\n    tier: one\n  annotations:\n    openslo.com/owner: me\n",
        );
        let (s, e) = one(&format!("{slo}---\n{}", loadable_sli()));
        assert_eq!(e, Vec::<String>::new());
        assert!(
            s[0].slos[0].labels.is_empty(),
            "metadata labels stay descriptive"
        );
        let typo = SLO.replace("budgetingMethod", "budgetMethod");
        let (s, e) = one(&format!("{typo}---\n{}", loadable_sli()));
        assert_eq!(
            e,
            [
                "t.yaml:6:3: spec: missing required field `budgetingMethod`",
                "t.yaml:11:3: spec.budgetMethod: unknown field `budgetMethod`, did you mean `budgetingMethod`?",
            ]
        );
        assert!(s.is_empty());
        let (_, e) =
            one("apiVersion: openslo/v1\nkind: Dashboard\nmetadata:\n  name: x\nspec: {}\n");
        assert_eq!(
            e,
            [
                "t.yaml:2:7: kind: unknown openslo/v1 kind `Dashboard`, expected one of: SLO, SLI, Service, DataSource, AlertPolicy, AlertCondition, AlertNotificationTarget"
            ]
        );
        let (_, e) =
            one("apiVersion: openslo/v2alpha\nkind: SLO\nmetadata:\n  name: x\nspec: {}\n");
        assert_eq!(
            e,
            [
                "t.yaml:1:13: apiVersion: unsupported OpenSLO apiVersion `openslo/v2alpha`: verdict reads openslo/v1 and openslo/v1alpha"
            ]
        );
    }

    #[test]
    fn slos_of_one_service_share_it_and_duplicate_ids_are_errors() {
        let second = SLO.replace("name: checkout\n", "name: search\n");
        let (s, e) = one(&format!("{SLO}---\n{second}---\n{}", loadable_sli()));
        assert_eq!(e, Vec::<String>::new());
        assert_eq!(s.len(), 1);
        let ids: Vec<&str> = s[0].slos.iter().map(|s| s.id.as_str()).collect();
        assert_eq!(ids, ["shop-checkout", "shop-search"]);
        let (s, e) = one(&format!("{SLO}---\n{SLO}---\n{}", loadable_sli()));
        assert_eq!(
            e,
            ["t.yaml:15:1: duplicate SLO id `shop-checkout` (also defined at t.yaml:1:1)"]
        );
        assert_eq!(s[0].slos.len(), 1);
    }

    #[test]
    fn a_service_object_gives_the_service_its_location() {
        let service = "apiVersion: openslo/v1\nkind: Service\nmetadata:\n  name: shop\nspec:\n  description: The shop\n";
        let (s, e) = one(&format!("{SLO}---\n{}---\n{service}", loadable_sli()));
        assert_eq!(e, Vec::<String>::new());
        assert_eq!((s[0].source.line, s[0].source.column), (33, 1));
        assert_eq!(
            (s[0].slos[0].source.line, s[0].slos[0].source.column),
            (1, 1)
        );
    }

    #[test]
    fn objects_with_errors_are_reported_once_and_not_used() {
        let broken =
            loadable_sli().replace("    counter: true\n", "    counter: true\n    kounter: 1\n");
        let (s, e) = one(&format!("{SLO}---\n{broken}"));
        assert_eq!(
            e,
            [
                "t.yaml:22:5: spec.ratioMetric.kounter: unknown field `kounter`, did you mean `counter`?"
            ]
        );
        assert!(s.is_empty(), "the SLO using a broken SLI is not loaded");
    }

    #[test]
    fn v1alpha_incremental_selectors_are_derived_and_units_must_be_exact() {
        let doc = |unit: &str| {
            format!(
                "apiVersion: openslo/v1alpha
kind: SLO
metadata:
  name: api
spec:
  service: shop
  budgetingMethod: Occurrences
  objectives:
    - target: 0.99
      ratioMetrics:
        incremental: true
        good:
          source: prometheus
          queryType: promql
          query: sum(http_requests_total{{code!~\"5..\"}})
        total:
          source: prometheus
          queryType: promql
          query: http_requests_total
  timeWindows:
    - count: 4
      unit: {unit}
      isRolling: true
"
            )
        };
        let (s, e) = one(&doc("Week"));
        assert_eq!(e, Vec::<String>::new());
        let slo = &s[0].slos[0];
        assert_eq!(slo.id, "shop-api-0");
        assert_eq!(slo.period, Some(PromDuration::from_secs(28 * 86_400)));
        assert_eq!(
            slo.sli,
            Sli::GoodTotal {
                good_query: r#"sum(rate(http_requests_total{code!~"5.."}[{{.window}}]))"#.into(),
                total_query: "sum(rate(http_requests_total[{{.window}}]))".into(),
            }
        );
        let (s, e) = one(&doc("Month"));
        assert_eq!(
            e,
            [
                "t.yaml:22:13: spec.timeWindows[0].unit: time window unit `Month` has no fixed length, so verdict cannot use it as a rolling period; use Day or Week"
            ]
        );
        assert!(s.is_empty());
        let (s, e) = one(&doc("Week").replace("incremental: true", "incremental: false"));
        assert_eq!(
            e,
            [
                "t.yaml:15:18: spec.objectives[0].ratioMetrics.good.query: cannot derive a windowed rate from this query: it has no `{{.window}}` and `incremental` is not true, so it may not be a counter; write the windowed query, e.g. sum(rate(x[{{.window}}]))",
                "t.yaml:19:18: spec.objectives[0].ratioMetrics.total.query: cannot derive a windowed rate from this query: it has no `{{.window}}` and `incremental` is not true, so it may not be a counter; write the windowed query, e.g. sum(rate(x[{{.window}}]))"
            ]
        );
        assert!(s.is_empty());
    }

    #[test]
    fn a_policy_shared_by_two_slos_reports_its_dangling_reference_once() {
        let policy = "apiVersion: openslo/v1
kind: AlertPolicy
metadata:
  name: notify
spec:
  alertWhenBreaching: true
  conditions:
    - conditionRef: nowhere
";
        let refs = "  alertPolicies:\n    - alertPolicyRef: notify\n";
        let second = SLO.replace("name: checkout\n", "name: search\n");
        let text = format!(
            "{SLO}{refs}---\n{second}{refs}---\n{policy}---\n{}",
            loadable_sli()
        );
        let (s, e) = one(&text);
        assert_eq!(
            e,
            [
                "t.yaml:40:21: spec.conditions[0].conditionRef: no AlertCondition named `nowhere` in the loaded files"
            ]
        );
        assert!(s.is_empty());
    }
}
