//! `verdict routes test`: which receivers a label set reaches (like
//! `amtool config routes test`).

use std::io::Write;
use std::path::PathBuf;

use clap::{Args, Subcommand};

use super::exit;
use crate::notify::route::{Route, RouteConfig, parse_label_args};

#[derive(Debug, Args)]
pub struct RoutesArgs {
    #[command(subcommand)]
    pub command: RoutesCommand,
}

#[derive(Debug, Subcommand)]
pub enum RoutesCommand {
    /// Print the receivers that a set of labels reaches through the `[route]`
    /// tree of the config, in order, with the route that chose each.
    ///
    /// Example: `verdict routes test --config verdict.toml verdict=fail team=shop service=order`
    Test(RoutesTestArgs),
}

#[derive(Debug, Args)]
pub struct RoutesTestArgs {
    /// verdict's config file (TOML) with a `[route]` table.
    #[arg(long, default_value = "verdict.toml")]
    pub config: PathBuf,
    /// Labels as name=value (verdict, state, severity, service, team, …).
    #[arg(required = true)]
    pub labels: Vec<String>,
}

pub fn run(args: &RoutesArgs) -> i32 {
    let RoutesCommand::Test(t) = &args.command;
    let stdout = std::io::stdout();
    let stderr = std::io::stderr();
    run_test(t, &mut stdout.lock(), &mut stderr.lock())
}

/// Loads the `[route]` table of a TOML config and the names of its
/// `[receivers.*]` tables (when there are any).
pub fn load_routes(path: &std::path::Path) -> Result<Route, String> {
    let text = std::fs::read_to_string(path)
        .map_err(|e| format!("{}: cannot read: {e}", path.display()))?;
    let doc: toml::Table = text.parse().map_err(|e: toml::de::Error| {
        format!("{}: invalid TOML: {}", path.display(), e.message())
    })?;
    let route = doc
        .get("route")
        .ok_or_else(|| format!("{}: no [route] table", path.display()))?;
    let config: RouteConfig = route
        .clone()
        .try_into()
        .map_err(|e: toml::de::Error| format!("{}: route: {}", path.display(), e.message()))?;
    let receivers: Option<Vec<String>> = doc
        .get("receivers")
        .and_then(|r| r.as_table())
        .map(|t| t.keys().cloned().collect());
    Route::build(&config, receivers.as_deref()).map_err(|errors| {
        errors
            .iter()
            .map(|e| format!("{}: {e}", path.display()))
            .collect::<Vec<_>>()
            .join("\n")
    })
}

pub fn run_test(args: &RoutesTestArgs, out: &mut dyn Write, err: &mut dyn Write) -> i32 {
    let labels = match parse_label_args(&args.labels) {
        Ok(l) => l,
        Err(e) => {
            let _ = writeln!(err, "{e}");
            return exit::INVALID;
        }
    };
    let route = match load_routes(&args.config) {
        Ok(r) => r,
        Err(e) => {
            let _ = writeln!(err, "{e}");
            return exit::INVALID;
        }
    };
    for m in route.route(&labels) {
        let _ = writeln!(
            out,
            "{}\t(via {}, during_experiment: {:?})",
            m.receiver, m.route, m.during_experiment
        );
    }
    exit::OK
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn prints_receivers_in_order_and_rejects_bad_labels() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("verdict.toml");
        std::fs::write(
            &path,
            r#"
[route]
receiver = "slack"
[[route.routes]]
matchers = ['verdict="fail"']
receiver = "pagerduty"
continue = true
[receivers.slack]
[receivers.pagerduty]
"#,
        )
        .unwrap();
        let args = RoutesTestArgs {
            config: path.clone(),
            labels: vec!["verdict=fail".into()],
        };
        let (mut out, mut err) = (Vec::new(), Vec::new());
        assert_eq!(run_test(&args, &mut out, &mut err), exit::OK);
        assert_eq!(
            String::from_utf8(out).unwrap(),
            "pagerduty\t(via route.routes[0], during_experiment: Annotate)\n"
        );
        let bad = RoutesTestArgs {
            config: path,
            labels: vec!["verdict".into()],
        };
        let (mut out, mut err) = (Vec::new(), Vec::new());
        assert_eq!(run_test(&bad, &mut out, &mut err), exit::INVALID);
        assert_eq!(
            String::from_utf8(err).unwrap(),
            "invalid label \"verdict\": expected name=value\n"
        );
    }
}
