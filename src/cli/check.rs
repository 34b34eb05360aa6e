//! `verdict check`: validate spec files and summarise them.

use std::io::Write;
use std::path::PathBuf;

use clap::Args;

use super::exit;
use crate::spec::{self, SpecSet};

#[derive(Debug, Args)]
pub struct CheckArgs {
    /// Spec files or directories (searched recursively for *.yaml and *.yml).
    #[arg(default_value = "slos")]
    pub paths: Vec<PathBuf>,
    /// Print only errors and the final line.
    #[arg(short, long)]
    pub quiet: bool,
}

pub fn run(args: &CheckArgs) -> i32 {
    let stdout = std::io::stdout();
    let stderr = std::io::stderr();
    run_with(args, &mut stdout.lock(), &mut stderr.lock())
}

/// Runs the check writing to the given streams; returns the exit code.
pub fn run_with(args: &CheckArgs, out: &mut dyn Write, err: &mut dyn Write) -> i32 {
    match spec::load_paths(&args.paths) {
        Ok(set) => {
            let _ = write_summary(&set, args.quiet, out);
            exit::OK
        }
        Err(errors) => {
            for e in &errors.0 {
                let _ = writeln!(err, "{e}");
            }
            let mut files: Vec<_> = errors.0.iter().map(|e| &e.file).collect();
            files.sort();
            files.dedup();
            let _ = writeln!(
                err,
                "{} error{} in {} file{}",
                errors.0.len(),
                plural(errors.0.len()),
                files.len(),
                plural(files.len())
            );
            exit::INVALID
        }
    }
}

fn plural(n: usize) -> &'static str {
    if n == 1 { "" } else { "s" }
}

fn write_summary(set: &SpecSet, quiet: bool, out: &mut dyn Write) -> std::io::Result<()> {
    if !quiet {
        for svc in &set.services {
            writeln!(
                out,
                "{}: service {} ({}), {} SLO{}",
                svc.source.file.display(),
                svc.name,
                svc.format.name(),
                svc.slos.len(),
                plural(svc.slos.len())
            )?;
            for slo in &svc.slos {
                let period = slo.period.map(|p| format!(" over {p}")).unwrap_or_default();
                writeln!(
                    out,
                    "  {:<40} {}% {}{}",
                    slo.id,
                    slo.objective,
                    slo.sli.kind(),
                    period
                )?;
            }
            for ind in &svc.indicators {
                writeln!(out, "  indicator {}", ind.name)?;
            }
        }
        for (src, what) in &set.skipped {
            writeln!(out, "{src}: skipped {what}")?;
        }
    }
    let slos = set.slos().count();
    writeln!(
        out,
        "OK: {} service{}, {} SLO{} in {} file{}",
        set.services.len(),
        plural(set.services.len()),
        slos,
        plural(slos),
        set.files.len(),
        plural(set.files.len())
    )
}
