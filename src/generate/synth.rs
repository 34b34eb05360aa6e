//! Synthetic input series for rule tests: counters that the SLO's own
//! selectors pick up, so `promtool test rules` evaluates the real SLI.
//!
//! Owns: recognising SLIs whose error ratio is a ratio of two
//! `sum(rate(selector[window]))` (or `increase`) queries, and choosing label
//! values that satisfy (or deliberately violate) their label matchers — for
//! `code=~"(5..|429)"` that is `code="500"`.
//! Must not: guess. A query it cannot reason about is reported with the
//! reason, and no test is generated for that SLO.

use std::collections::BTreeMap;

use promql_parser::label::{MatchOp, Matcher};
use promql_parser::parser::{Expr, LabelModifier};

use crate::spec::model::Sli;
use crate::spec::promql::render_window;

/// Label names and values of one series (`__name__` included).
pub type SeriesLabels = BTreeMap<String, String>;

/// The label matchers of one selector, the metric name as `__name__`.
#[derive(Debug, Clone)]
pub struct Selector {
    pub matchers: Vec<Matcher>,
    /// The selector as written, for messages.
    pub text: String,
}

impl Selector {
    /// Whether a series with these labels is selected (absent labels are "").
    pub fn matches(&self, labels: &SeriesLabels) -> bool {
        self.matchers.iter().all(|m| {
            let v = labels.get(&m.name).map(String::as_str).unwrap_or("");
            m.is_match(v)
        })
    }
}

/// What the ratio of the SLI measures.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum RatioKind {
    /// error ratio = num / den (events, raw `a / b`).
    ErrorsOverTotal,
    /// error ratio = 1 − num / den (OpenSLO good/total, latency).
    GoodOverTotal,
}

/// An SLI reduced to `sum(f(num[w])) / sum(f(den[w]))`.
#[derive(Debug, Clone)]
pub struct Ratio {
    pub kind: RatioKind,
    pub num: Selector,
    pub den: Selector,
}

fn strip_parens(mut e: &Expr) -> &Expr {
    while let Expr::Paren(p) = e {
        e = &p.expr;
    }
    e
}

/// `sum(rate(sel[w]))` or `sum(increase(sel[w]))` → (function, selector).
fn simple_sum(e: &Expr, what: &str) -> Result<(&'static str, Selector), String> {
    let not_simple = || {
        format!(
            "{what} `{e}` is not of the form sum(rate(metric{{...}}[window])) (or increase), so verdict cannot synthesise series for it"
        )
    };
    let Expr::Aggregate(a) = strip_parens(e) else {
        return Err(not_simple());
    };
    if a.op.to_string() != "sum" || a.param.is_some() {
        return Err(not_simple());
    }
    match &a.modifier {
        None => {}
        Some(LabelModifier::Include(l)) if l.labels.is_empty() => {}
        Some(_) => {
            return Err(format!(
                "{what} `{e}` aggregates by or without labels; the alert's labels then depend on the data"
            ));
        }
    }
    let Expr::Call(c) = strip_parens(&a.expr) else {
        return Err(not_simple());
    };
    let func = match c.func.name {
        "rate" => "rate",
        "increase" => "increase",
        _ => return Err(not_simple()),
    };
    if c.args.args.len() != 1 {
        return Err(not_simple());
    }
    let Expr::MatrixSelector(m) = strip_parens(&c.args.args[0]) else {
        return Err(not_simple());
    };
    if m.vs.offset.is_some() || m.vs.at.is_some() {
        return Err(format!(
            "{what} `{e}` uses offset or @, which the synthetic burn does not model"
        ));
    }
    if !m.vs.matchers.or_matchers.is_empty() {
        return Err(format!("{what} `{e}` uses `or` between label matchers"));
    }
    let mut matchers = Vec::with_capacity(m.vs.matchers.matchers.len() + 1);
    if let Some(name) = &m.vs.name {
        matchers.push(Matcher::new(MatchOp::Equal, "__name__", name));
    }
    matchers.extend(m.vs.matchers.matchers.iter().cloned());
    Ok((
        func,
        Selector {
            matchers,
            text: m.vs.to_string(),
        },
    ))
}

fn parse(query: &str, what: &str) -> Result<Expr, String> {
    promql_parser::parser::parse(&render_window(query, "5m"))
        .map_err(|e| format!("{what} does not parse: {e}"))
}

fn ratio_of(
    kind: RatioKind,
    num: &Expr,
    den: &Expr,
    num_what: &str,
    den_what: &str,
) -> Result<Ratio, String> {
    let (f1, num) = simple_sum(num, num_what)?;
    let (f2, den) = simple_sum(den, den_what)?;
    if f1 != f2 {
        return Err(format!(
            "{num_what} uses {f1}() but {den_what} uses {f2}(): their ratio is not an error ratio"
        ));
    }
    Ok(Ratio { kind, num, den })
}

/// Reduces an SLI to a ratio of two simple selectors, or says why not.
pub fn analyse(sli: &Sli) -> Result<Ratio, String> {
    match sli {
        Sli::Events {
            error_query,
            total_query,
        } => ratio_of(
            RatioKind::ErrorsOverTotal,
            &parse(error_query, "error_query")?,
            &parse(total_query, "total_query")?,
            "error_query",
            "total_query",
        ),
        Sli::GoodTotal {
            good_query,
            total_query,
        } => ratio_of(
            RatioKind::GoodOverTotal,
            &parse(good_query, "good_query")?,
            &parse(total_query, "total_query")?,
            "good_query",
            "total_query",
        ),
        Sli::Latency { .. } => {
            let (good, total) = sli.latency_queries().unwrap_or_default();
            ratio_of(
                RatioKind::GoodOverTotal,
                &parse(&good, "the histogram bucket query")?,
                &parse(&total, "the histogram count query")?,
                "the bucket query",
                "the count query",
            )
        }
        Sli::Raw { error_ratio_query } => {
            let e = parse(error_ratio_query, "error_ratio_query")?;
            let unsupported = || {
                format!(
                    "error_ratio_query `{}` is neither `sum(rate(a)) / sum(rate(b))` nor `1 - (sum(rate(good)) / sum(rate(total)))`",
                    error_ratio_query.trim()
                )
            };
            let Expr::Binary(b) = strip_parens(&e) else {
                return Err(unsupported());
            };
            if b.modifier
                .as_ref()
                .is_some_and(|m| m.return_bool || m.matching.is_some())
            {
                return Err(unsupported());
            }
            match b.op.to_string().as_str() {
                "/" => ratio_of(
                    RatioKind::ErrorsOverTotal,
                    &b.lhs,
                    &b.rhs,
                    "the dividend of error_ratio_query",
                    "the divisor of error_ratio_query",
                ),
                "-" => {
                    let one =
                        matches!(strip_parens(&b.lhs), Expr::NumberLiteral(n) if n.val == 1.0);
                    let Expr::Binary(inner) = strip_parens(&b.rhs) else {
                        return Err(unsupported());
                    };
                    if !one || inner.op.to_string() != "/" || inner.modifier.is_some() {
                        return Err(unsupported());
                    }
                    ratio_of(
                        RatioKind::GoodOverTotal,
                        &inner.lhs,
                        &inner.rhs,
                        "the good part of error_ratio_query",
                        "the total part of error_ratio_query",
                    )
                }
                _ => Err(unsupported()),
            }
        }
    }
}

/// One synthetic counter: its labels and increase per minute before and
/// after the burn starts.
#[derive(Debug, Clone, PartialEq)]
pub struct SeriesPlan {
    pub labels: SeriesLabels,
    pub before: u64,
    pub after: u64,
}

impl SeriesPlan {
    /// The series in promtool notation: `name{a="1",b="2"}`.
    pub fn series(&self) -> String {
        let name = self.labels.get("__name__").cloned().unwrap_or_default();
        let rest: Vec<String> = self
            .labels
            .iter()
            .filter(|(k, _)| k.as_str() != "__name__")
            .map(|(k, v)| format!("{k}={}", super::gofmt::go_quote(v)))
            .collect();
        format!("{name}{{{}}}", rest.join(","))
    }
}

/// Counters whose SLI error ratio is 0 before the burn and exactly
/// `bad / total` per minute after it.
pub fn plan_series(ratio: &Ratio, total: u64, bad: u64) -> Result<Vec<SeriesPlan>, String> {
    let (num_before, num_after) = match ratio.kind {
        RatioKind::ErrorsOverTotal => (0, bad),
        RatioKind::GoodOverTotal => (total, total - bad),
    };
    // Prefer a numerator series the denominator also counts (errors are
    // requests too); otherwise separate series.
    let (num, shared) = match solve(&[&ratio.num, &ratio.den], &[]) {
        Some(l) => (l, true),
        None => match solve(&[&ratio.num], &[&ratio.den]) {
            Some(l) => (l, false),
            None => {
                return Err(format!(
                    "no label values satisfy the matchers of {}",
                    ratio.num.text
                ));
            }
        },
    };
    let Some(rest) = solve(&[&ratio.den], &[&ratio.num]) else {
        return Err(format!(
            "every series selected by {} is also selected by {}, so their ratio cannot vary",
            ratio.den.text, ratio.num.text
        ));
    };
    let (rest_before, rest_after) = if shared {
        (total - num_before, total - num_after)
    } else {
        (total, total)
    };
    Ok(vec![
        SeriesPlan {
            labels: num,
            before: num_before,
            after: num_after,
        },
        SeriesPlan {
            labels: rest,
            before: rest_before,
            after: rest_after,
        },
    ])
}

/// Label values that every `must` selector selects and no `must_not`
/// selector does (each `must_not` is defeated by violating one matcher).
pub fn solve(must: &[&Selector], must_not: &[&Selector]) -> Option<SeriesLabels> {
    let mut choices: Vec<Vec<(&Matcher, bool)>> = vec![Vec::new()];
    for sel in must_not {
        let mut next = Vec::new();
        for c in &choices {
            for m in &sel.matchers {
                let mut c2 = c.clone();
                c2.push((m, false));
                next.push(c2);
            }
        }
        choices = next;
    }
    'choice: for negated in choices {
        let mut constraints: BTreeMap<&str, Vec<(&Matcher, bool)>> = BTreeMap::new();
        for sel in must {
            for m in &sel.matchers {
                constraints
                    .entry(m.name.as_str())
                    .or_default()
                    .push((m, true));
            }
        }
        for (m, want) in &negated {
            constraints
                .entry(m.name.as_str())
                .or_default()
                .push((m, *want));
        }
        let mut labels = SeriesLabels::new();
        for (name, cs) in &constraints {
            let candidates = candidates(name, must, must_not);
            let found = candidates.into_iter().find(|v| {
                (!v.is_empty() || *name != "__name__")
                    && cs.iter().all(|(m, want)| m.is_match(v) == *want)
            });
            match found {
                Some(v) if v.is_empty() => {}
                Some(v) => {
                    labels.insert(name.to_string(), v);
                }
                None => continue 'choice,
            }
        }
        if must.iter().all(|s| s.matches(&labels)) && !must_not.iter().any(|s| s.matches(&labels)) {
            return Some(labels);
        }
    }
    None
}

fn candidates(name: &str, a: &[&Selector], b: &[&Selector]) -> Vec<String> {
    let mut eq = Vec::new();
    let mut re = Vec::new();
    for sel in a.iter().chain(b) {
        for m in sel.matchers.iter().filter(|m| m.name == name) {
            match &m.op {
                MatchOp::Equal | MatchOp::NotEqual => eq.push(m.value.clone()),
                MatchOp::Re(_) | MatchOp::NotRe(_) => re.extend(regex_samples(&m.value)),
            }
        }
    }
    let mut out: Vec<String> = Vec::new();
    for v in eq
        .into_iter()
        .chain(re)
        .chain([""; 1].iter().map(|s| s.to_string()))
        .chain(
            ["x", "0", "1", "200", "500", "ok", "a", "other"]
                .iter()
                .map(|s| s.to_string()),
        )
    {
        if !out.contains(&v) {
            out.push(v);
        }
    }
    out
}

const MAX_SAMPLES: usize = 16;

/// Strings a regular expression (RE2 syntax, as PromQL uses) matches: one or
/// more per alternative, shortest repetitions first. A heuristic; callers
/// check every sample with the real matcher. Empty when the syntax is not
/// understood.
pub fn regex_samples(pattern: &str) -> Vec<String> {
    let chars: Vec<char> = pattern.chars().collect();
    let mut p = ReParser { c: &chars, i: 0 };
    match p.alt() {
        Some(v) if p.i == chars.len() => v,
        _ => Vec::new(),
    }
}

struct ReParser<'a> {
    c: &'a [char],
    i: usize,
}

fn push_limited(out: &mut Vec<String>, v: String) {
    if out.len() < MAX_SAMPLES && !out.contains(&v) {
        out.push(v);
    }
}

impl ReParser<'_> {
    fn peek(&self) -> Option<char> {
        self.c.get(self.i).copied()
    }
    fn next(&mut self) -> Option<char> {
        let c = self.peek()?;
        self.i += 1;
        Some(c)
    }

    fn alt(&mut self) -> Option<Vec<String>> {
        let mut out = Vec::new();
        for s in self.concat()? {
            push_limited(&mut out, s);
        }
        while self.peek() == Some('|') {
            self.i += 1;
            for s in self.concat()? {
                push_limited(&mut out, s);
            }
        }
        Some(out)
    }

    fn concat(&mut self) -> Option<Vec<String>> {
        let mut acc = vec![String::new()];
        while let Some(c) = self.peek() {
            if c == '|' || c == ')' {
                break;
            }
            let piece = self.repeat()?;
            let mut next = Vec::new();
            for a in &acc {
                for p in &piece {
                    push_limited(&mut next, format!("{a}{p}"));
                }
            }
            acc = next;
        }
        Some(acc)
    }

    fn repeat(&mut self) -> Option<Vec<String>> {
        let atom = self.atom()?;
        let min = match self.peek() {
            Some('*') | Some('?') => {
                self.i += 1;
                Some(0)
            }
            Some('+') => {
                self.i += 1;
                Some(1)
            }
            Some('{') => self.counted(),
            _ => None,
        };
        let Some(min) = min else {
            return Some(atom);
        };
        if self.peek() == Some('?') {
            self.i += 1; // lazy
        }
        let mut out = Vec::new();
        if min == 0 {
            push_limited(&mut out, String::new());
        }
        for a in &atom {
            push_limited(&mut out, a.repeat(min.max(1)));
        }
        Some(out)
    }

    /// `{n}`, `{n,}` or `{n,m}`; anything else leaves `{` as a literal.
    fn counted(&mut self) -> Option<usize> {
        let start = self.i;
        let rest: String = self.c[start..].iter().collect();
        let end = rest.find('}')?;
        let body = &rest[1..end];
        let min = body.split(',').next().and_then(|n| n.parse::<usize>().ok());
        let valid = min.is_some()
            && body.split(',').count() <= 2
            && body
                .split(',')
                .skip(1)
                .all(|m| m.is_empty() || m.parse::<usize>().is_ok());
        if valid {
            self.i = start + rest[..=end].chars().count();
            min.map(|m| m.min(8))
        } else {
            None
        }
    }

    fn atom(&mut self) -> Option<Vec<String>> {
        match self.next()? {
            '(' => {
                if self.peek() == Some('?') {
                    self.i += 1;
                    match self.peek()? {
                        ':' => self.i += 1,
                        'P' | '<' => while self.next()? != '>' {},
                        _ => {
                            // Flags: `(?i)` or `(?i:...)`.
                            loop {
                                match self.next()? {
                                    ')' => return Some(vec![String::new()]),
                                    ':' => break,
                                    c if c.is_ascii_alphabetic() || c == '-' => {}
                                    _ => return None,
                                }
                            }
                        }
                    }
                }
                let inner = self.alt()?;
                (self.next()? == ')').then_some(inner)
            }
            '[' => self.class().map(|c| vec![c.to_string()]),
            '.' => Some(vec!["0".into()]),
            '^' | '$' => Some(vec![String::new()]),
            '\\' => match self.next()? {
                'd' => Some(vec!["0".into()]),
                'D' | 'w' | 'S' => Some(vec!["a".into()]),
                'W' => Some(vec!["-".into()]),
                's' => Some(vec![" ".into()]),
                'b' | 'B' | 'A' | 'z' => Some(vec![String::new()]),
                'p' | 'P' | 'x' | 'Q' | 'E' => None,
                c if c.is_ascii_alphanumeric() => None,
                c => Some(vec![c.to_string()]),
            },
            '*' | '+' | '?' | ')' | '|' => None,
            c => Some(vec![c.to_string()]),
        }
    }

    /// A bracket expression: its first member, or for `[^...]` a common
    /// character outside it.
    fn class(&mut self) -> Option<char> {
        let negated = self.peek() == Some('^');
        if negated {
            self.i += 1;
        }
        let mut ranges: Vec<(char, char)> = Vec::new();
        let mut first = true;
        loop {
            let c = self.next()?;
            if c == ']' && !first {
                break;
            }
            first = false;
            let lo = match c {
                '\\' => match self.next()? {
                    'd' => {
                        ranges.push(('0', '9'));
                        continue;
                    }
                    'w' => {
                        ranges.extend([('a', 'z'), ('A', 'Z'), ('0', '9'), ('_', '_')]);
                        continue;
                    }
                    's' => {
                        ranges.extend([(' ', ' '), ('\t', '\t')]);
                        continue;
                    }
                    e if e.is_ascii_alphanumeric() => return None,
                    e => e,
                },
                '[' if self.peek() == Some(':') => {
                    let rest: String = self.c[self.i..].iter().collect();
                    let end = rest.find(":]")?;
                    let class = &rest[1..end];
                    self.i += rest[..end + 2].chars().count();
                    ranges.extend(match class {
                        "digit" => vec![('0', '9')],
                        "alpha" => vec![('a', 'z'), ('A', 'Z')],
                        "alnum" => vec![('a', 'z'), ('A', 'Z'), ('0', '9')],
                        "lower" => vec![('a', 'z')],
                        "upper" => vec![('A', 'Z')],
                        "space" => vec![(' ', ' ')],
                        "word" => vec![('a', 'z'), ('A', 'Z'), ('0', '9'), ('_', '_')],
                        "xdigit" => vec![('0', '9'), ('a', 'f')],
                        _ => return None,
                    });
                    continue;
                }
                c => c,
            };
            if self.peek() == Some('-') && self.c.get(self.i + 1).is_some_and(|n| *n != ']') {
                self.i += 1;
                let hi = self.next()?;
                ranges.push((lo, hi));
            } else {
                ranges.push((lo, lo));
            }
        }
        let inside = |c: char| ranges.iter().any(|(lo, hi)| *lo <= c && c <= *hi);
        if negated {
            ['a', '0', 'x', 'Z', '_', '-', '.']
                .into_iter()
                .find(|c| !inside(*c))
        } else {
            ranges.first().map(|(lo, _)| *lo)
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn matches(pattern: &str, s: &str) -> bool {
        regex::Regex::new(&format!("^(?:{pattern})$"))
            .unwrap()
            .is_match(s)
    }

    #[test]
    fn regex_samples_match_their_regex() {
        let cases = [
            ("5..", "500"),
            ("(5..|429)", "500"),
            ("2..|3..", "200"),
            ("[45]\\d\\d", "400"),
            ("order-.*", "order-"),
            ("a+b?", "a"),
            ("x{3}", "xxx"),
            ("(?i)get", "get"),
            ("[^5].*", "a"),
            ("\\.well", ".well"),
        ];
        for (pattern, first) in cases {
            let samples = regex_samples(pattern);
            assert_eq!(
                samples.first().map(String::as_str),
                Some(first),
                "{pattern}: {samples:?}"
            );
            for s in &samples {
                assert!(matches(pattern, s), "{pattern} should match {s:?}");
            }
        }
        assert_eq!(regex_samples("(5..|429)"), ["500", "429"]);
    }

    fn sel(q: &str) -> Selector {
        let e = promql_parser::parser::parse(&format!("sum(rate({q}[5m]))")).unwrap();
        simple_sum(&e, "q").unwrap().1
    }

    #[test]
    fn error_series_satisfy_the_error_selector_and_the_rest_do_not() {
        let err = sel(r#"http_requests_total{service="order",code=~"5.."}"#);
        let tot = sel(r#"http_requests_total{service="order"}"#);
        let bad = solve(&[&err, &tot], &[]).unwrap();
        assert_eq!(
            bad.into_iter().collect::<Vec<_>>(),
            [
                ("__name__".to_string(), "http_requests_total".to_string()),
                ("code".to_string(), "500".to_string()),
                ("service".to_string(), "order".to_string())
            ]
        );
        let good = solve(&[&tot], &[&err]).unwrap();
        assert_eq!(good.get("code"), None);
        assert_eq!(good.get("service").map(String::as_str), Some("order"));
    }

    #[test]
    fn negative_matchers_are_handled() {
        let good = sel(r#"x{job="a",code!~"(5..|429)"}"#);
        let tot = sel(r#"x{job="a"}"#);
        let ratio = Ratio {
            kind: RatioKind::GoodOverTotal,
            num: good,
            den: tot,
        };
        let plan = plan_series(&ratio, 100, 4).unwrap();
        assert_eq!(plan[0].series(), r#"x{job="a"}"#);
        assert_eq!((plan[0].before, plan[0].after), (100, 96));
        assert_eq!(plan[1].series(), r#"x{code="500",job="a"}"#);
        assert_eq!((plan[1].before, plan[1].after), (0, 4));
    }

    #[test]
    fn latency_slis_use_bucket_and_count_series() {
        let sli = Sli::Latency {
            histogram: "h".into(),
            selector: r#"{service="order"}"#.into(),
            threshold: 0.3,
        };
        let ratio = analyse(&sli).unwrap();
        let plan = plan_series(&ratio, 1000, 40).unwrap();
        assert_eq!(plan[0].series(), r#"h_bucket{le="0.3",service="order"}"#);
        assert_eq!((plan[0].before, plan[0].after), (1000, 960));
        assert_eq!(plan[1].series(), r#"h_count{service="order"}"#);
        assert_eq!((plan[1].before, plan[1].after), (1000, 1000));
    }

    #[test]
    fn complex_queries_are_refused_with_a_reason() {
        let sli = Sli::Events {
            error_query: "sum by (code) (rate(x[{{.window}}]))".into(),
            total_query: "sum(rate(x[{{.window}}]))".into(),
        };
        let e = analyse(&sli).unwrap_err();
        assert!(e.contains("aggregates by or without labels"), "{e}");
        let sli = Sli::Raw {
            error_ratio_query: "max(x[{{.window}}])".into(),
        };
        assert!(analyse(&sli).is_err());
    }
}
