//! Notification routing: an ordered tree of label matchers, like
//! Alertmanager's `route`, deciding which receivers an event reaches.
//!
//! Owns the route configuration (`[route]` in verdict's config), matcher
//! parsing (`=`, `!=`, `=~`, `!~`, regexes anchored like Alertmanager's),
//! and the tree walk with `continue`. Pure: no I/O, no delivery.

use std::collections::BTreeMap;
use std::fmt;

use regex::Regex;
use serde::{Deserialize, Serialize};

/// A label set an event is routed by (verdict, state, severity, service,
/// team, experiment and alert labels).
pub type LabelSet = BTreeMap<String, String>;

/// What a route does with an Alertmanager alert that a running experiment
/// explains.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum DuringExperiment {
    /// Deliver it, marked "during experiment X".
    #[default]
    Annotate,
    /// Do not deliver it (it is recorded all the same).
    Suppress,
    /// Deliver it with raised severity: the experiment hurt more than planned.
    Escalate,
}

/// A route as written in the config file.
#[derive(Debug, Clone, PartialEq, Default, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RouteConfig {
    /// Receiver name; inherited from the parent when absent.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub receiver: Option<String>,
    /// Matchers such as `verdict="fail"` or `service=~"order|inventory"`; all must match.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub matchers: Vec<String>,
    /// Keep looking at the following sibling routes after this one matched.
    #[serde(default, rename = "continue")]
    pub continue_matching: bool,
    /// What to do with alerts explained by a running experiment; inherited.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub during_experiment: Option<DuringExperiment>,
    /// Child routes, tried in order.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub routes: Vec<RouteConfig>,
}

/// Why a route configuration is invalid; `path` names the route
/// (`route.routes[1]`).
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
#[error("{path}: {message}")]
pub struct RouteError {
    pub path: String,
    pub message: String,
}

/// A label matcher.
#[derive(Debug, Clone)]
pub struct Matcher {
    pub name: String,
    pub op: MatchOp,
    pub value: String,
    regex: Option<Regex>,
}

impl PartialEq for Matcher {
    fn eq(&self, other: &Self) -> bool {
        self.name == other.name && self.op == other.op && self.value == other.value
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum MatchOp {
    Equal,
    NotEqual,
    Regex,
    NotRegex,
}

impl MatchOp {
    fn as_str(self) -> &'static str {
        match self {
            MatchOp::Equal => "=",
            MatchOp::NotEqual => "!=",
            MatchOp::Regex => "=~",
            MatchOp::NotRegex => "!~",
        }
    }
}

impl fmt::Display for Matcher {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}{}{:?}", self.name, self.op.as_str(), self.value)
    }
}

impl Matcher {
    /// Parses `name="value"`, `name!="value"`, `name=~"re"`, `name!~"re"`.
    /// The value may be unquoted when it has no spaces or commas.
    pub fn parse(s: &str) -> Result<Matcher, String> {
        let s = s.trim();
        let name_end = s
            .find(|c: char| !(c.is_ascii_alphanumeric() || c == '_'))
            .unwrap_or(s.len());
        let name = &s[..name_end];
        if name.is_empty() || name.starts_with(|c: char| c.is_ascii_digit()) {
            return Err(format!(
                "invalid matcher {s:?}: expected a label name, then =, !=, =~ or !~, then a value"
            ));
        }
        let rest = &s[name_end..];
        let (op, rest) = [
            ("=~", MatchOp::Regex),
            ("!~", MatchOp::NotRegex),
            ("!=", MatchOp::NotEqual),
            ("=", MatchOp::Equal),
        ]
        .iter()
        .find_map(|(tok, op)| rest.strip_prefix(tok).map(|r| (*op, r)))
        .ok_or_else(|| format!("invalid matcher {s:?}: expected =, !=, =~ or !~ after `{name}`"))?;
        let raw = rest.trim();
        let value = if raw.starts_with('"') {
            serde_json::from_str::<String>(raw).map_err(|_| {
                format!("invalid matcher {s:?}: the quoted value is not closed or has a bad escape")
            })?
        } else {
            raw.to_string()
        };
        let regex = match op {
            MatchOp::Regex | MatchOp::NotRegex => Some(
                Regex::new(&format!("^(?:{value})$"))
                    .map_err(|e| format!("invalid matcher {s:?}: bad regex: {e}"))?,
            ),
            _ => None,
        };
        Ok(Matcher {
            name: name.to_string(),
            op,
            value,
            regex,
        })
    }

    /// Whether the label set satisfies this matcher (a missing label is "").
    pub fn matches(&self, labels: &LabelSet) -> bool {
        let v = labels.get(&self.name).map(String::as_str).unwrap_or("");
        match (self.op, &self.regex) {
            (MatchOp::Equal, _) => v == self.value,
            (MatchOp::NotEqual, _) => v != self.value,
            (MatchOp::Regex, Some(re)) => re.is_match(v),
            (MatchOp::NotRegex, Some(re)) => !re.is_match(v),
            _ => false,
        }
    }
}

/// A validated route tree.
#[derive(Debug, Clone, PartialEq)]
pub struct Route {
    /// Position in the config, e.g. `route.routes[0]`.
    pub path: String,
    pub receiver: String,
    pub matchers: Vec<Matcher>,
    pub continue_matching: bool,
    pub during_experiment: DuringExperiment,
    pub routes: Vec<Route>,
}

/// Where a label set ends up.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct RouteMatch {
    pub receiver: String,
    /// The route that chose the receiver.
    pub route: String,
    pub during_experiment: DuringExperiment,
}

impl Route {
    /// Validates a route tree. The root must name a receiver (the default);
    /// every receiver must be one of `known_receivers` when that is given.
    pub fn build(
        config: &RouteConfig,
        known_receivers: Option<&[String]>,
    ) -> Result<Route, Vec<RouteError>> {
        let mut errors = Vec::new();
        if config.receiver.is_none() {
            errors.push(RouteError {
                path: "route".into(),
                message: "the root route needs a `receiver` (the default for everything no child route matches)".into(),
            });
        }
        if !config.matchers.is_empty() {
            errors.push(RouteError {
                path: "route.matchers".into(),
                message: "the root route matches everything; put matchers on child routes".into(),
            });
        }
        let root = build_node(
            config,
            "route",
            config.receiver.clone().unwrap_or_default(),
            config.during_experiment.unwrap_or_default(),
            known_receivers,
            &mut errors,
        );
        if errors.is_empty() {
            Ok(root)
        } else {
            Err(errors)
        }
    }

    /// Every receiver the label set reaches, in route order, without
    /// duplicates (like `amtool config routes test`).
    pub fn route(&self, labels: &LabelSet) -> Vec<RouteMatch> {
        let mut out = Vec::new();
        self.walk(labels, &mut out);
        let mut seen = std::collections::BTreeSet::new();
        out.retain(|m| seen.insert(m.receiver.clone()));
        out
    }

    fn walk(&self, labels: &LabelSet, out: &mut Vec<RouteMatch>) {
        let mut matched_child = false;
        for child in &self.routes {
            if child.matchers.iter().all(|m| m.matches(labels)) {
                matched_child = true;
                child.walk(labels, out);
                if !child.continue_matching {
                    break;
                }
            }
        }
        if !matched_child {
            out.push(RouteMatch {
                receiver: self.receiver.clone(),
                route: self.path.clone(),
                during_experiment: self.during_experiment,
            });
        }
    }

    /// All receivers named anywhere in the tree.
    pub fn receivers(&self) -> Vec<String> {
        let mut out = vec![self.receiver.clone()];
        for r in &self.routes {
            out.extend(r.receivers());
        }
        out.sort();
        out.dedup();
        out
    }
}

fn build_node(
    config: &RouteConfig,
    path: &str,
    receiver: String,
    during: DuringExperiment,
    known: Option<&[String]>,
    errors: &mut Vec<RouteError>,
) -> Route {
    let receiver = config.receiver.clone().unwrap_or(receiver);
    if let Some(known) = known
        && !receiver.is_empty()
        && !known.contains(&receiver)
    {
        errors.push(RouteError {
            path: path.to_string(),
            message: format!(
                "unknown receiver {receiver:?}; configured receivers: {}",
                if known.is_empty() {
                    "(none)".to_string()
                } else {
                    known.join(", ")
                }
            ),
        });
    }
    let during = config.during_experiment.unwrap_or(during);
    let mut matchers = Vec::new();
    for (i, m) in config.matchers.iter().enumerate() {
        match Matcher::parse(m) {
            Ok(m) => matchers.push(m),
            Err(message) => errors.push(RouteError {
                path: format!("{path}.matchers[{i}]"),
                message,
            }),
        }
    }
    let routes = config
        .routes
        .iter()
        .enumerate()
        .map(|(i, c)| {
            build_node(
                c,
                &format!("{path}.routes[{i}]"),
                receiver.clone(),
                during,
                known,
                errors,
            )
        })
        .collect();
    Route {
        path: path.to_string(),
        receiver,
        matchers,
        continue_matching: config.continue_matching,
        during_experiment: during,
        routes,
    }
}

/// Parses `key=value` arguments (as given to `verdict routes test`).
pub fn parse_label_args(args: &[String]) -> Result<LabelSet, String> {
    let mut out = LabelSet::new();
    for a in args {
        let Some((k, v)) = a.split_once('=') else {
            return Err(format!("invalid label {a:?}: expected name=value"));
        };
        if k.is_empty() {
            return Err(format!("invalid label {a:?}: empty name"));
        }
        out.insert(k.to_string(), v.trim_matches('"').to_string());
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn labels(pairs: &[(&str, &str)]) -> LabelSet {
        pairs
            .iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect()
    }

    fn tree() -> Route {
        let config: RouteConfig = toml::from_str(
            r#"
receiver = "slack-default"
[[routes]]
matchers = ['verdict=~"fail|inconclusive"', 'team="shop"']
receiver = "pagerduty-shop"
continue = true
[[routes.routes]]
matchers = ['service="order"']
receiver = "pagerduty-order"
[[routes]]
matchers = ['team="shop"']
receiver = "slack-shop"
during_experiment = "suppress"
[[routes]]
matchers = ['severity!~"page|critical"']
receiver = "email-ops"
"#,
        )
        .unwrap();
        Route::build(&config, None).unwrap()
    }

    fn receivers(route: &Route, l: &[(&str, &str)]) -> Vec<String> {
        route
            .route(&labels(l))
            .into_iter()
            .map(|m| m.receiver)
            .collect()
    }

    #[test]
    fn the_first_matching_route_wins_unless_it_continues() {
        let t = tree();
        // fail + shop: pagerduty-shop (continue) then slack-shop
        assert_eq!(
            receivers(
                &t,
                &[("verdict", "fail"), ("team", "shop"), ("service", "cart")]
            ),
            ["pagerduty-shop", "slack-shop"]
        );
        // the nested route refines the receiver
        assert_eq!(
            receivers(
                &t,
                &[("verdict", "fail"), ("team", "shop"), ("service", "order")]
            ),
            ["pagerduty-order", "slack-shop"]
        );
        // pass + shop: only slack-shop
        assert_eq!(
            receivers(&t, &[("verdict", "pass"), ("team", "shop")]),
            ["slack-shop"]
        );
    }

    #[test]
    fn nothing_matching_falls_back_to_the_root_receiver() {
        let t = tree();
        assert_eq!(
            receivers(&t, &[("team", "payments"), ("severity", "page")]),
            ["slack-default"]
        );
    }

    #[test]
    fn a_missing_label_is_the_empty_string() {
        let t = tree();
        // severity absent: "" does not match page|critical → email-ops
        assert_eq!(receivers(&t, &[("team", "payments")]), ["email-ops"]);
    }

    #[test]
    fn regexes_are_anchored_like_alertmanager() {
        let m = Matcher::parse(r#"service=~"order""#).unwrap();
        assert!(m.matches(&labels(&[("service", "order")])));
        assert!(!m.matches(&labels(&[("service", "order-api")])));
    }

    #[test]
    fn during_experiment_is_inherited_and_reported() {
        let t = tree();
        let m = t.route(&labels(&[("team", "shop"), ("verdict", "pass")]));
        assert_eq!(m[0].during_experiment, DuringExperiment::Suppress);
        assert_eq!(m[0].route, "route.routes[1]");
        let root = t.route(&labels(&[("team", "x"), ("severity", "page")]));
        assert_eq!(root[0].during_experiment, DuringExperiment::Annotate);
    }

    #[test]
    fn invalid_configs_name_the_route() {
        let config: RouteConfig = toml::from_str(
            r#"
[[routes]]
matchers = ['service~"x"', 'team=~"("']
receiver = "nowhere"
"#,
        )
        .unwrap();
        let errors = Route::build(&config, Some(&["slack".to_string()])).unwrap_err();
        let msgs: Vec<String> = errors.iter().map(|e| e.to_string()).collect();
        assert_eq!(
            msgs[0],
            "route: the root route needs a `receiver` (the default for everything no child route matches)"
        );
        assert_eq!(
            msgs[1],
            "route.routes[0]: unknown receiver \"nowhere\"; configured receivers: slack"
        );
        assert_eq!(
            msgs[2],
            "route.routes[0].matchers[0]: invalid matcher \"service~\\\"x\\\"\": expected =, !=, =~ or !~ after `service`"
        );
        assert!(
            msgs[3].starts_with(
                "route.routes[0].matchers[1]: invalid matcher \"team=~\\\"(\\\"\": bad regex"
            ),
            "{}",
            msgs[3]
        );
        assert_eq!(msgs.len(), 4);
    }

    #[test]
    fn unknown_route_fields_are_rejected() {
        let e = toml::from_str::<RouteConfig>("receiver = \"a\"\ncontinu = true\n").unwrap_err();
        assert!(e.to_string().contains("unknown field `continu`"), "{e}");
    }

    #[test]
    fn label_arguments_parse() {
        assert_eq!(
            parse_label_args(&["verdict=fail".into(), "team=\"shop\"".into()]).unwrap(),
            labels(&[("verdict", "fail"), ("team", "shop")])
        );
        assert!(parse_label_args(&["oops".into()]).is_err());
    }
}
