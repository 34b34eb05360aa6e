//! `verdict demo --quick` end to end, with the real binary, a real
//! Prometheus and a real Alertmanager: the scenarios end in the verdicts
//! they are built to produce, the reports are written, and every process
//! the demo started is gone afterwards.
//!
//! A test binary of its own: cargo runs test binaries one after another, so
//! the demo's timings do not compete with the parallel integration tests.

use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use serde_json::Value;

/// Processes whose command line mentions `needle` (our work directories
/// are unique, so these are the demo's children).
fn processes_mentioning(needle: &str) -> Vec<(u32, String)> {
    let mut found = Vec::new();
    for entry in std::fs::read_dir("/proc").expect("/proc") {
        let Ok(entry) = entry else { continue };
        let Some(pid) = entry
            .file_name()
            .to_str()
            .and_then(|s| s.parse::<u32>().ok())
        else {
            continue;
        };
        let Ok(raw) = std::fs::read(entry.path().join("cmdline")) else {
            continue;
        };
        let cmdline = String::from_utf8_lossy(&raw).replace('\0', " ");
        if cmdline.contains(needle) && !cmdline.contains("verdict demo") {
            found.push((pid, cmdline));
        }
    }
    found
}

struct Run {
    dir: PathBuf,
    work: PathBuf,
    child: std::process::Child,
}

fn start(dir: &Path, scenario: &str) -> Run {
    let work = dir.join("work");
    let slos = Path::new(env!("CARGO_MANIFEST_DIR")).join("slos");
    let child = Command::new(env!("CARGO_BIN_EXE_verdict"))
        .current_dir(dir)
        .args(["demo", "--quick", "--scenario", scenario, "--slos"])
        .arg(&slos)
        .arg("--work-dir")
        .arg(&work)
        .stdout(std::fs::File::create(dir.join("stdout.txt")).expect("stdout file"))
        .stderr(std::fs::File::create(dir.join("stderr.txt")).expect("stderr file"))
        .stdin(Stdio::null())
        .spawn()
        .expect("start verdict demo");
    Run {
        dir: dir.to_path_buf(),
        work,
        child,
    }
}

/// Waits for every run (bounded), checking meanwhile that each one's
/// Prometheus and Alertmanager did run under its work directory; returns
/// the exit codes in order.
fn finish_all(runs: &mut [&mut Run], limit: Duration) -> Vec<i32> {
    let deadline = Instant::now() + limit;
    let mut seen = vec![std::collections::BTreeSet::new(); runs.len()];
    let mut codes: Vec<Option<i32>> = vec![None; runs.len()];
    while codes.iter().any(Option::is_none) {
        for (i, run) in runs.iter_mut().enumerate() {
            if codes[i].is_some() {
                continue;
            }
            for (_, cmd) in processes_mentioning(&run.work.to_string_lossy()) {
                if cmd.contains("alertmanager") {
                    seen[i].insert("alertmanager");
                } else if cmd.contains("prometheus") {
                    seen[i].insert("prometheus");
                }
            }
            if let Some(status) = run.child.try_wait().expect("wait for the demo") {
                assert_eq!(
                    seen[i].iter().copied().collect::<Vec<_>>(),
                    ["alertmanager", "prometheus"],
                    "{}: the demo's children were not seen running; the leftover check would prove nothing",
                    run.dir.display()
                );
                codes[i] = Some(status.code().expect("exit code"));
            }
        }
        if Instant::now() > deadline {
            for run in runs.iter_mut() {
                let _ = run.child.kill();
            }
            panic!(
                "verdict demo did not finish within {limit:?}; stdout:\n{}",
                read(&runs[0].dir.join("stdout.txt"))
            );
        }
        std::thread::sleep(Duration::from_millis(200));
    }
    codes.into_iter().flatten().collect()
}

fn read(path: &Path) -> String {
    std::fs::read_to_string(path).unwrap_or_else(|e| panic!("{}: {e}", path.display()))
}

fn slo<'a>(report: &'a Value, id: &str) -> &'a Value {
    report["slos"]
        .as_array()
        .expect("slos")
        .iter()
        .find(|s| s["id"] == id)
        .unwrap_or_else(|| panic!("no SLO {id} in the report"))
}

fn assert_reports(out: &Path, verdict: &str) -> Value {
    for name in ["report.html", "report.md", "report.json", "junit.xml"] {
        let len = std::fs::metadata(out.join(name))
            .unwrap_or_else(|e| panic!("{name}: {e}"))
            .len();
        assert!(len > 500, "{name} is only {len} bytes");
    }
    let report: Value = serde_json::from_str(&read(&out.join("report.json"))).expect("JSON report");
    assert_eq!(report["verdict"], verdict, "reasons: {}", report["reasons"]);
    // One chart per SLO, the burn-rate chart, one per indicator: all PNGs.
    let charts: Vec<PathBuf> = std::fs::read_dir(out.join("charts"))
        .expect("charts dir")
        .map(|e| e.expect("entry").path())
        .collect();
    assert_eq!(charts.len(), 6 + 1 + 6, "{charts:?}");
    for c in &charts {
        let bytes = std::fs::read(c).expect("chart");
        assert_eq!(&bytes[..8], b"\x89PNG\r\n\x1a\n", "{}", c.display());
    }
    let md = read(&out.join("report.md"));
    assert!(
        md.contains("![") && md.contains("(charts/slo-inventory-latency.png)"),
        "{md}"
    );
    let html = read(&out.join("report.html"));
    assert!(html.contains("kill-and-latency") || html.contains("no-recovery"));
    assert_eq!(
        html.matches("<img").count(),
        charts.len(),
        "one inline chart per chart file"
    );
    let junit = read(&out.join("junit.xml"));
    assert!(junit.contains("<testsuite"), "{junit}");
    report
}

#[test]
fn the_demo_scenarios_end_in_the_verdicts_they_are_built_for_and_leave_nothing_running() {
    let root = tempfile::tempdir().expect("temp dir");
    let default_dir = root.path().join("default");
    let broken_dir = root.path().join("no-recovery");
    std::fs::create_dir_all(&default_dir).unwrap();
    std::fs::create_dir_all(&broken_dir).unwrap();

    // Both scenarios at once: they share nothing but the machine.
    let mut default = start(&default_dir, "kill-and-latency");
    let mut broken = start(&broken_dir, "no-recovery");
    let codes = finish_all(&mut [&mut default, &mut broken], Duration::from_secs(300));
    let (default_code, broken_code) = (codes[0], codes[1]);
    let default_out = read(&default_dir.join("stdout.txt"));
    let broken_out = read(&broken_dir.join("stdout.txt"));

    // The default scenario: warn (exit 0), the recovery measured.
    assert_eq!(
        default_code,
        0,
        "stdout:\n{default_out}\nstderr:\n{}",
        read(&default_dir.join("stderr.txt"))
    );
    assert!(default_out.contains("verdict: WARN"), "{default_out}");
    assert!(
        default_out.contains("killed pod order-1 (restarts in 8s)"),
        "{default_out}"
    );
    assert!(
        default_out.contains("pod order-1 restarted and is serving again (restarts: 1)"),
        "{default_out}"
    );
    // The slow inventory burns its latency budget fast enough for the
    // generated ticket alert: Prometheus → Alertmanager → verdict's webhook,
    // which ties it to the running experiment.
    assert!(
        default_out.lines().any(|l| l
            .contains("InventoryHighLatency severity=ticket firing since")
            && l.ends_with("matched to this experiment")),
        "{default_out}"
    );
    let report = assert_reports(&default_dir.join("verdict-demo"), "warn");
    let inventory = slo(&report, "inventory-latency");
    // 20% of inventory's requests were slow during the fault…
    let e = inventory["windows"]["fault"]["error_ratio"]
        .as_f64()
        .expect("fault error ratio");
    assert!(
        (0.12..0.28).contains(&e),
        "inventory-latency fault error ratio {e}"
    );
    // …and it recovered once the latency was removed: within the rate
    // window plus a step (10s + 2s) of the fault end, ± that uncertainty.
    assert_eq!(inventory["recovery"]["impact"], "impacted");
    assert_eq!(inventory["recovery"]["recovered"], true);
    let ttr = inventory["recovery"]["time_to_recover_seconds"]
        .as_f64()
        .expect("TTR");
    assert!((0.0..=24.0).contains(&ttr), "inventory-latency TTR {ttr}");
    assert_eq!(inventory["recovery"]["uncertainty_seconds"], 12.0);
    // The killed pod's restart is counted.
    let restarts = report["indicators"]
        .as_array()
        .unwrap()
        .iter()
        .find(|i| i["service"] == "order" && i["name"] == "pod-restarts")
        .expect("order pod-restarts");
    assert!(restarts["value"].as_f64().unwrap() > 0.0, "{restarts}");
    assert_eq!(restarts["verdict"], "pass");

    // The never-recovering scenario fails because inventory never recovers.
    assert_eq!(broken_code, 1, "stdout:\n{broken_out}");
    assert!(broken_out.contains("verdict: FAIL"), "{broken_out}");
    let report = assert_reports(&broken_dir.join("verdict-demo"), "fail");
    let inventory = slo(&report, "inventory-availability");
    assert_eq!(inventory["recovery"]["recovered"], false);
    assert_eq!(inventory["verdict"], "fail");
    let e = inventory["windows"]["recovery"]["error_ratio"]
        .as_f64()
        .expect("recovery error ratio");
    assert!(
        (0.02..0.09).contains(&e),
        "inventory-1 fails 10% of its half of the requests: {e}"
    );

    // Nothing the demos started is left.
    for run in [&default, &broken] {
        let left = processes_mentioning(&run.work.to_string_lossy());
        assert!(left.is_empty(), "left running: {left:?}");
    }
}
