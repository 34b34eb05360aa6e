//! Sloth-compatible recording and alerting rules for one SLO.
//!
//! Owns: the rule model (groups, recording and alerting rules) and the exact
//! expressions Sloth generates: SLI error ratios per window, the optimized
//! period SLI, the metadata rules, and the multi-window multi-burn-rate page
//! and ticket alerts. Label merge order follows Sloth: SLO id labels, then
//! the window, then service and SLO labels, then `--extra-label`s; alert
//! labels are `sloth_severity`, then `alerting.labels`, then the page/ticket
//! labels; annotations likewise over Sloth's `title`/`summary` defaults.
//!
//! Must not: do I/O or talk to Prometheus; it only turns the spec model into
//! rules (and the burn plan rule tests need).

use std::collections::BTreeMap;

use super::gofmt::{go_float, label_filter};
use super::windows::{AlertWindows, Window, go_hours};
use super::{GenerateError, RuleOptions};
use crate::spec::PromDuration;
use crate::spec::model::{AlertSpec, Service, Sli, Slo, SpecFormat};
use crate::spec::promql::{render_window, validate};

/// Label names and values, sorted by name.
pub type Labels = BTreeMap<String, String>;

/// The label naming the window of an SLI recording.
pub const WINDOW_LABEL: &str = "sloth_window";
/// The label naming the alert severity (`page` or `ticket`).
pub const SEVERITY_LABEL: &str = "sloth_severity";

/// One Prometheus rule.
#[derive(Debug, Clone, PartialEq)]
pub enum Rule {
    /// A recording rule.
    Record {
        record: String,
        expr: String,
        labels: Labels,
    },
    /// An alerting rule (no `for`: the windows already debounce, as in Sloth).
    Alert {
        alert: String,
        expr: String,
        labels: Labels,
        annotations: Labels,
    },
}

impl Rule {
    pub fn expr(&self) -> &str {
        match self {
            Rule::Record { expr, .. } | Rule::Alert { expr, .. } => expr,
        }
    }
}

/// A named rule group.
#[derive(Debug, Clone, PartialEq)]
pub struct RuleGroup {
    pub name: String,
    pub rules: Vec<Rule>,
}

/// Alert severity of the multi-window multi-burn-rate alerts.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Severity {
    Page,
    Ticket,
}

impl Severity {
    pub fn as_str(&self) -> &'static str {
        match self {
            Severity::Page => "page",
            Severity::Ticket => "ticket",
        }
    }
}

/// What one generated alert checks: two window pairs and their factors.
#[derive(Debug, Clone, PartialEq)]
pub struct AlertPlan {
    pub name: String,
    pub severity: Severity,
    /// The quick pair (e.g. 5m/1h) and its burn factor (14.4 for 30d).
    pub quick: (Window, f64),
    /// The slow pair (e.g. 30m/6h) and its burn factor (6 for 30d).
    pub slow: (Window, f64),
    /// The alert's own labels (without the series labels).
    pub labels: Labels,
    pub annotations: Labels,
}

/// The numbers behind an SLO's rules, for rule tests and reports.
#[derive(Debug, Clone, PartialEq)]
pub struct BurnPlan {
    pub period: PromDuration,
    pub windows: AlertWindows,
    /// `(100 − objective) / 100`, exactly as printed in the alert expressions.
    pub error_budget: f64,
    /// Labels of every SLI recording except `sloth_window`: what an alert's
    /// series carries before the alert's own labels are added.
    pub series_labels: Labels,
    pub page: Option<AlertPlan>,
    pub ticket: Option<AlertPlan>,
}

/// Everything generated for one SLO.
#[derive(Debug, Clone, PartialEq)]
pub struct SloRules {
    pub slo_id: String,
    /// SLI recordings, metadata recordings, alerts: each only when it has rules.
    pub groups: Vec<RuleGroup>,
    pub plan: BurnPlan,
}

/// `sloth_mode` of `sloth_slo_info`, as Sloth's CLI sets it per input kind.
pub fn sloth_mode(format: SpecFormat) -> &'static str {
    match format {
        SpecFormat::SlothK8s => "cli-gen-k8s",
        SpecFormat::OpenSloV1 | SpecFormat::OpenSloV1Alpha => "cli-gen-openslo",
        SpecFormat::Sloth | SpecFormat::Native | SpecFormat::Pyrra => "cli-gen-prom",
    }
}

/// `sloth_spec` of `sloth_slo_info`: the input's spec version.
pub fn sloth_spec(format: SpecFormat) -> &'static str {
    match format {
        SpecFormat::Sloth => "prometheus/v1",
        SpecFormat::SlothK8s => "sloth.slok.dev/v1",
        SpecFormat::Native => "verdict/v1",
        SpecFormat::OpenSloV1 => "openslo/v1",
        SpecFormat::OpenSloV1Alpha => "openslo/v1alpha",
        SpecFormat::Pyrra => "pyrra.dev/v1alpha1",
    }
}

/// The alert name used when `alerting.name` is absent: the SLO id in
/// UpperCamelCase plus `ErrorBudgetBurn` (`order-availability` →
/// `OrderAvailabilityErrorBudgetBurn`). Sloth requires a name; verdict
/// derives one so every SLO gets its alerts. Page and ticket share it and
/// differ by `sloth_severity`, as in Sloth.
pub fn derived_alert_name(slo_id: &str) -> String {
    let mut name = String::with_capacity(slo_id.len() + 16);
    for part in slo_id.split(|c: char| !c.is_ascii_alphanumeric()) {
        let mut chars = part.chars();
        if let Some(first) = chars.next() {
            name.push(first.to_ascii_uppercase());
            name.push_str(chars.as_str());
        }
    }
    if name.starts_with(|c: char| c.is_ascii_digit()) || name.is_empty() {
        name.insert_str(0, "Slo");
    }
    name.push_str("ErrorBudgetBurn");
    name
}

/// `14d (2w)`: whole days as written in specs, with Prometheus's rendering
/// when it differs.
fn describe_period(p: PromDuration) -> String {
    let days = days_or_duration(p);
    let prom = p.to_string();
    if days == prom {
        prom
    } else {
        format!("{days} ({prom})")
    }
}

fn days_or_duration(p: PromDuration) -> String {
    const DAY_MS: u64 = 86_400_000;
    if p.as_millis().is_multiple_of(DAY_MS) {
        format!("{}d", p.as_millis() / DAY_MS)
    } else {
        p.to_string()
    }
}

/// The SLI recording name for a window: `slo:sli_error:ratio_rate5m`.
pub fn sli_metric(window: PromDuration) -> String {
    format!("slo:sli_error:ratio_rate{window}")
}

/// The field path of an SLO (`slos[1]`) from where its name was defined.
pub(crate) fn slo_path(slo: &Slo) -> String {
    let p = slo.source.path.as_str();
    p.strip_suffix(".name").unwrap_or(p).to_string()
}

fn slo_error(slo: &Slo, field: &str, message: String) -> GenerateError {
    let base = slo_path(slo);
    let field = match (base.is_empty(), field.is_empty()) {
        (true, _) => field.to_string(),
        (false, true) => base,
        (false, false) => format!("{base}.{field}"),
    };
    GenerateError::Slo {
        file: slo.source.file.clone(),
        line: slo.source.line,
        column: slo.source.column,
        field,
        message,
    }
}

/// The SLI error-ratio expression with `{{.window}}` in place, in Sloth's
/// layout: events `(error)\n/\n(total)\n`, raw `(query)`, good/total (OpenSLO,
/// latency) `1 - ((good) / (total))` indented as Sloth's OpenSLO output.
pub fn sli_template(sli: &Sli) -> String {
    match sli {
        Sli::Events {
            error_query,
            total_query,
        } => format!("({error_query})\n/\n({total_query})\n"),
        Sli::Raw { error_ratio_query } => format!("({error_ratio_query})"),
        Sli::GoodTotal {
            good_query,
            total_query,
        } => good_total_template(good_query, total_query),
        Sli::Latency { .. } => {
            let (good, total) = sli.latency_queries().unwrap_or_default();
            good_total_template(&good, &total)
        }
    }
}

fn good_total_template(good: &str, total: &str) -> String {
    format!(
        "(\n  1 - (\n    (\n      {}\n    )\n    /\n    (\n      {}\n    )\n  )\n)",
        good.trim(),
        total.trim()
    )
}

/// The template's text split around every `{{.window}}`.
struct WindowTemplate {
    parts: Vec<String>,
}

impl WindowTemplate {
    fn new(template: &str) -> Self {
        const MARK: &str = "\u{1}window\u{1}";
        let marked = render_window(template, MARK);
        WindowTemplate {
            parts: marked.split(MARK).map(str::to_string).collect(),
        }
    }
    fn render(&self, window: &str) -> String {
        let len: usize =
            self.parts.iter().map(String::len).sum::<usize>() + window.len() * self.parts.len();
        let mut out = String::with_capacity(len);
        for (i, p) in self.parts.iter().enumerate() {
            if i > 0 {
                out.push_str(window);
            }
            out.push_str(p);
        }
        out
    }
}

/// Checks that the SLI renders to valid PromQL; on failure names the query
/// field that breaks it (a `#` comment in a query comments out the rest of
/// the combined expression, for example).
///
/// The queries themselves were validated when the spec was loaded (regexes
/// included), so the combined expression is parsed with `=~`/`!~` turned
/// into `= `/`!=`: same length and syntax, no regex compilation (half the
/// cost of generating rules otherwise). A failure is then reported from the
/// expression as written.
fn check_sli(
    slo: &Slo,
    format: SpecFormat,
    expr: &str,
    window: PromDuration,
) -> Result<(), GenerateError> {
    if validate(&without_regex_matchers(expr)).is_ok() {
        return Ok(());
    }
    let Err(e) = validate(expr) else {
        return Ok(());
    };
    let camel = format == SpecFormat::SlothK8s;
    let kind = match &slo.sli {
        Sli::Events { .. } => "sli.events",
        Sli::Raw { .. } => "sli.raw",
        Sli::GoodTotal { .. } => "sli",
        Sli::Latency { .. } => "sli.latency",
    };
    let mut field = kind.to_string();
    let mut hint = String::new();
    for (name, q) in slo.sli.queries() {
        let rendered = render_window(&q, &window.to_string());
        if validate(&format!("({rendered})")).is_err() {
            let name = if camel {
                crate::spec::decode::snake_to_camel(name)
            } else {
                name.to_string()
            };
            field = format!("{kind}.{name}");
            if rendered.contains('#') {
                hint = " (a `#` in the query starts a comment that swallows the rest of the combined expression)".into();
            }
            break;
        }
    }
    Err(slo_error(
        slo,
        &field,
        format!(
            "the SLI recording rule for window {window} is not valid PromQL: {e}{hint}\n  expression: {}",
            expr.trim().replace('\n', " ")
        ),
    ))
}

/// Replaces the regex match operators `=~` and `!~` outside string literals
/// and comments by `= ` and `!=`, keeping every other character in place.
fn without_regex_matchers(expr: &str) -> String {
    let mut out = String::with_capacity(expr.len());
    let mut chars = expr.chars().peekable();
    let mut quote: Option<char> = None;
    let mut comment = false;
    while let Some(c) = chars.next() {
        if comment {
            comment = c != '\n';
            out.push(c);
            continue;
        }
        if let Some(q) = quote {
            out.push(c);
            if c == '\\' && q != '`' {
                if let Some(n) = chars.next() {
                    out.push(n);
                }
            } else if c == q {
                quote = None;
            }
            continue;
        }
        match (c, chars.peek()) {
            ('"' | '\'' | '`', _) => {
                quote = Some(c);
                out.push(c);
            }
            ('#', _) => {
                comment = true;
                out.push(c);
            }
            ('=', Some('~')) => {
                chars.next();
                out.push_str("= ");
            }
            ('!', Some('~')) => {
                chars.next();
                out.push_str("!=");
            }
            _ => out.push(c),
        }
    }
    out
}

/// Generates the rules of one SLO of `service`.
pub fn slo_rules(
    service: &Service,
    slo: &Slo,
    opts: &RuleOptions,
) -> Result<SloRules, GenerateError> {
    let period = slo.period.unwrap_or(opts.default_period);
    let Some(windows) = opts.windows.get(period) else {
        let known: Vec<String> = opts
            .windows
            .periods()
            .into_iter()
            .map(describe_period)
            .collect();
        let (field, from) = if slo.period.is_some() {
            ("period", "this SLO's period".to_string())
        } else {
            ("", "the default period (--period)".to_string())
        };
        return Err(slo_error(
            slo,
            field,
            format!(
                "no alert windows for {from} {} of SLO `{}`: verdict has windows for {}; pass --windows with a Sloth AlertWindows spec whose spec.sloPeriod is {}",
                describe_period(period),
                slo.id,
                if known.is_empty() {
                    "no period".to_string()
                } else {
                    known.join(", ")
                },
                days_or_duration(period)
            ),
        ));
    };

    let id_labels: [(&str, &str); 3] = [
        ("sloth_id", &slo.id),
        ("sloth_service", &slo.service),
        ("sloth_slo", &slo.name),
    ];
    let filter = label_filter(&id_labels.iter().copied().collect());

    // Service labels, SLO labels, then --extra-label (Sloth's order).
    let mut slo_labels: Labels = service.labels.clone();
    slo_labels.extend(slo.labels.iter().map(|(k, v)| (k.clone(), v.clone())));
    slo_labels.extend(
        opts.extra_labels
            .iter()
            .map(|(k, v)| (k.clone(), v.clone())),
    );

    let mut meta_labels: Labels = id_labels
        .iter()
        .map(|(k, v)| (k.to_string(), v.to_string()))
        .collect();
    meta_labels.extend(slo_labels.iter().map(|(k, v)| (k.clone(), v.clone())));

    let mut rec_windows = windows.recording_windows();
    if !rec_windows.contains(&period) {
        rec_windows.push(period);
    }
    let short = windows.page_quick.short;

    let template = sli_template(&slo.sli);
    let tpl = WindowTemplate::new(&template);
    let first = rec_windows[0];
    check_sli(slo, service.format, &tpl.render(&first.to_string()), first)?;

    let mut groups = Vec::with_capacity(3);
    if !opts.disable_recordings {
        let mut sli_rules = Vec::with_capacity(rec_windows.len());
        for &w in &rec_windows {
            let ws = w.to_string();
            let expr = if w == period && w != short {
                let m = sli_metric(short);
                format!(
                    "sum_over_time({m}{filter}[{ws}])\n/ ignoring ({WINDOW_LABEL})\ncount_over_time({m}{filter}[{ws}])\n"
                )
            } else {
                tpl.render(&ws)
            };
            let mut labels: Labels = id_labels
                .iter()
                .map(|(k, v)| (k.to_string(), v.to_string()))
                .collect();
            labels.insert(WINDOW_LABEL.to_string(), ws);
            labels.extend(slo_labels.iter().map(|(k, v)| (k.clone(), v.clone())));
            sli_rules.push(Rule::Record {
                record: sli_metric(w),
                expr,
                labels,
            });
        }
        groups.push(RuleGroup {
            name: format!("sloth-slo-sli-recordings-{}", slo.id),
            rules: sli_rules,
        });
        groups.push(RuleGroup {
            name: format!("sloth-slo-meta-recordings-{}", slo.id),
            rules: meta_rules(
                slo,
                service.format,
                period,
                short,
                &filter,
                &meta_labels,
                opts,
            ),
        });
    }

    let error_budget = (100.0 - slo.objective) / 100.0;
    // openslo/v1alpha has no alerting; Sloth generates no alerts for it.
    let sloth_openslo = service.format == SpecFormat::OpenSloV1Alpha && slo.alerting.name.is_none();
    let alerts_on = !opts.disable_alerts && !sloth_openslo;
    let name = slo
        .alerting
        .name
        .clone()
        .unwrap_or_else(|| derived_alert_name(&slo.id));
    let plan_for = |severity: Severity, spec: &AlertSpec, quick: Window, slow: Window| {
        (alerts_on && !spec.disable).then(|| {
            let mut labels = Labels::new();
            labels.insert(SEVERITY_LABEL.to_string(), severity.as_str().to_string());
            labels.extend(slo.alerting.labels.iter().map(|(k, v)| (k.clone(), v.clone())));
            labels.extend(spec.labels.iter().map(|(k, v)| (k.clone(), v.clone())));
            let mut annotations = Labels::new();
            annotations.insert(
                "title".to_string(),
                format!(
                    "({}) {{{{$labels.sloth_service}}}} {{{{$labels.sloth_slo}}}} SLO error budget burn rate is too fast.",
                    severity.as_str()
                ),
            );
            annotations.insert(
                "summary".to_string(),
                "{{$labels.sloth_service}} {{$labels.sloth_slo}} SLO error budget burn rate is over expected.".to_string(),
            );
            annotations.extend(slo.alerting.annotations.iter().map(|(k, v)| (k.clone(), v.clone())));
            annotations.extend(spec.annotations.iter().map(|(k, v)| (k.clone(), v.clone())));
            AlertPlan {
                name: name.clone(),
                severity,
                quick: (quick, quick.burn_factor(period)),
                slow: (slow, slow.burn_factor(period)),
                labels,
                annotations,
            }
        })
    };
    let page = plan_for(
        Severity::Page,
        &slo.alerting.page,
        windows.page_quick,
        windows.page_slow,
    );
    let ticket = plan_for(
        Severity::Ticket,
        &slo.alerting.ticket,
        windows.ticket_quick,
        windows.ticket_slow,
    );
    let alert_rules: Vec<Rule> = [&page, &ticket]
        .into_iter()
        .flatten()
        .map(|a| Rule::Alert {
            alert: a.name.clone(),
            expr: alert_expr(a, &filter, error_budget),
            labels: a.labels.clone(),
            annotations: a.annotations.clone(),
        })
        .collect();
    if !alert_rules.is_empty() {
        groups.push(RuleGroup {
            name: format!("sloth-slo-alerts-{}", slo.id),
            rules: alert_rules,
        });
    }

    let mut series_labels = meta_labels;
    series_labels.remove(WINDOW_LABEL);
    Ok(SloRules {
        slo_id: slo.id.clone(),
        groups,
        plan: BurnPlan {
            period,
            windows: windows.clone(),
            error_budget,
            series_labels,
            page,
            ticket,
        },
    })
}

fn meta_rules(
    slo: &Slo,
    format: SpecFormat,
    period: PromDuration,
    short: PromDuration,
    filter: &str,
    labels: &Labels,
    opts: &RuleOptions,
) -> Vec<Rule> {
    let objective = go_float(slo.objective / 100.0);
    let burn_rate = |metric: &str| {
        format!(
            "{metric}{filter}\n/ on(sloth_id, sloth_slo, sloth_service) group_left\nslo:error_budget:ratio{filter}\n"
        )
    };
    let rec = |record: &str, expr: String| Rule::Record {
        record: record.to_string(),
        expr,
        labels: labels.clone(),
    };
    let mut info = labels.clone();
    info.insert("sloth_version".into(), opts.version.clone());
    info.insert("sloth_mode".into(), sloth_mode(format).into());
    info.insert("sloth_spec".into(), sloth_spec(format).into());
    info.insert("sloth_objective".into(), format!("{}", slo.objective));
    vec![
        rec("slo:objective:ratio", format!("vector({objective})")),
        rec("slo:error_budget:ratio", format!("vector(1-{objective})")),
        rec(
            "slo:time_period:days",
            format!("vector({})", go_float(go_hours(period) / 24.0)),
        ),
        rec("slo:current_burn_rate:ratio", burn_rate(&sli_metric(short))),
        rec("slo:period_burn_rate:ratio", burn_rate(&sli_metric(period))),
        rec(
            "slo:period_error_budget_remaining:ratio",
            format!("1 - slo:period_burn_rate:ratio{filter}"),
        ),
        Rule::Record {
            record: "sloth_slo_info".into(),
            expr: "vector(1)".into(),
            labels: info,
        },
    ]
}

/// `(quick short AND quick long) OR (slow short AND slow long)`, each window
/// compared with `factor × budget`, as in Sloth.
fn alert_expr(a: &AlertPlan, filter: &str, error_budget: f64) -> String {
    let b = go_float(error_budget);
    let cond = |w: PromDuration, factor: f64| {
        format!(
            "max({}{filter} > ({} * {b})) without ({WINDOW_LABEL})",
            sli_metric(w),
            go_float(factor)
        )
    };
    let (q, qf) = a.quick;
    let (s, sf) = a.slow;
    format!(
        "(\n    {}\n    and\n    {}\n)\nor\n(\n    {}\n    and\n    {}\n)\n",
        cond(q.short, qf),
        cond(q.long, qf),
        cond(s.short, sf),
        cond(s.long, sf)
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn derived_alert_names_are_upper_camel_case_identifiers() {
        assert_eq!(
            derived_alert_name("order-availability"),
            "OrderAvailabilityErrorBudgetBurn"
        );
        assert_eq!(
            derived_alert_name("svc01-slo_02.x"),
            "Svc01Slo02XErrorBudgetBurn"
        );
        assert_eq!(derived_alert_name("9svc-a"), "Slo9svcAErrorBudgetBurn");
    }

    #[test]
    fn regex_matchers_are_neutralised_outside_strings_only() {
        assert_eq!(
            without_regex_matchers(r#"sum(x{a=~"5..",b!~'=~',c="\"=~"}) # =~"#),
            r#"sum(x{a= "5..",b!='=~',c="\"=~"}) # =~"#
        );
    }

    #[test]
    fn templates_follow_sloths_layout() {
        let events = Sli::Events {
            error_query: "sum(rate(e[{{.window}}]))".into(),
            total_query: "sum(rate(t[{{.window}}]))".into(),
        };
        assert_eq!(
            WindowTemplate::new(&sli_template(&events)).render("5m"),
            "(sum(rate(e[5m])))\n/\n(sum(rate(t[5m])))\n"
        );
        let raw = Sli::Raw {
            error_ratio_query: "a[{{ .window }}]\n".into(),
        };
        assert_eq!(
            WindowTemplate::new(&sli_template(&raw)).render("1h"),
            "(a[1h]\n)"
        );
    }
}
