//! deploy/: the container image, the compose stack and the Kubernetes
//! manifests validate (`deploy/validate.sh`, with real kubectl, promtool,
//! amtool and the Kubernetes schemas), the validation notices breakage, the
//! shipped verdict configurations load with the real loader, and the image's
//! healthcheck command works against a real server started with the image's
//! configuration.

use std::io::Read as _;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use verdict::config::{self, Overrides};

fn repo() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
}

fn verdict_bin() -> &'static str {
    env!("CARGO_BIN_EXE_verdict")
}

/// Runs `ROOT/deploy/validate.sh` with this build's verdict binary; the
/// exit code and everything it printed.
fn validate(root: &Path) -> (i32, String) {
    let out = Command::new("bash")
        .arg(root.join("deploy/validate.sh"))
        .env("VERDICT", verdict_bin())
        .current_dir(root)
        .stdin(Stdio::null())
        .output()
        .expect("bash runs deploy/validate.sh");
    let text = format!(
        "{}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    (out.status.code().unwrap_or(-1), text)
}

fn copy_tree(from: &Path, to: &Path) {
    std::fs::create_dir_all(to).unwrap();
    for entry in std::fs::read_dir(from).unwrap() {
        let entry = entry.unwrap();
        let target = to.join(entry.file_name());
        if entry.file_type().unwrap().is_dir() {
            copy_tree(&entry.path(), &target);
        } else {
            std::fs::copy(entry.path(), &target).unwrap();
        }
    }
}

/// A copy of what validate.sh reads: deploy/, rules/ and slos/.
fn copy_of_repo() -> tempfile::TempDir {
    let tmp = tempfile::tempdir().unwrap();
    for dir in ["deploy", "rules", "slos"] {
        copy_tree(&repo().join(dir), &tmp.path().join(dir));
    }
    tmp
}

fn edit(path: &Path, from: &str, to: &str) {
    let text = std::fs::read_to_string(path).unwrap();
    assert!(
        text.contains(from),
        "{} does not contain {from:?}",
        path.display()
    );
    std::fs::write(path, text.replacen(from, to, 1)).unwrap();
}

#[test]
fn deploy_validates_kubernetes_compose_prometheus_and_alertmanager() {
    let (code, out) = validate(&repo());
    assert_eq!(code, 0, "deploy/validate.sh failed:\n{out}");
    for line in [
        "ok: deploy/compose/alertmanager.yml is up to date",
        "ok: deploy/kubernetes/base/prometheusrules/ is up to date",
        "ok: deploy/kubernetes/base/slos/ matches slos/ (3 files)",
        "ok: deploy/kubernetes/base/kustomization.yaml lists every SLO spec and PrometheusRule",
        "ok: deploy/kubernetes/base: 2 ConfigMap, 1 Deployment, 1 Namespace, 1 NetworkPolicy, 1 PodDisruptionBudget, 3 PrometheusRule, 1 Service, 1 ServiceAccount, 1 ServiceMonitor: valid",
        "ok: deploy/kubernetes/base: PrometheusRule groups pass promtool check rules (3 files)",
        "ok: deploy/kubernetes/overlays/ha: 2 ConfigMap, 1 Deployment, 1 Namespace, 1 NetworkPolicy, 1 PodDisruptionBudget, 3 PrometheusRule, 1 Service, 1 ServiceAccount, 1 ServiceMonitor: valid",
        "ok: deploy/kubernetes/overlays/ha: PrometheusRule groups pass promtool check rules (3 files)",
        "ok: deploy/docker-compose.yml: 6 services: mounts, secrets and targets consistent",
        "ok: deploy/compose/prometheus.yml passes promtool check config with 3 rule files",
        "ok: deploy/compose/alertmanager.yml passes amtool check-config",
        "validate: all checks passed",
    ] {
        assert!(
            out.lines().any(|l| l.starts_with(line)),
            "missing {line:?} in:\n{out}"
        );
    }
    assert!(!out.contains("FAIL"), "{out}");
}

#[test]
fn validation_reports_each_broken_kubernetes_manifest_and_keeps_checking() {
    let tmp = copy_of_repo();
    let k8s = tmp.path().join("deploy/kubernetes");
    // A schema error in the HA overlay, a policy error and a dangling
    // reference in the base.
    edit(
        &k8s.join("overlays/ha/deployment.yaml"),
        "replicas: 3",
        "replicas: three",
    );
    edit(
        &k8s.join("base/deployment.yaml"),
        "readOnlyRootFilesystem: true",
        "readOnlyRootFilesystem: false",
    );
    edit(
        &k8s.join("base/servicemonitor.yaml"),
        "port: http",
        "port: web",
    );

    let (code, out) = validate(tmp.path());
    assert_eq!(code, 1, "{out}");
    for expected in [
        "FAIL: deploy/kubernetes/overlays/ha:",
        "Deployment/verdict: spec.replicas: 'three' is not of type 'integer', 'null'",
        "Deployment/verdict: spec.template.spec.containers[verdict].securityContext.readOnlyRootFilesystem: must be true",
        "ServiceMonitor/verdict: spec.endpoints[0].port: no Service port named 'web'",
        "validate: 2 check(s) failed",
    ] {
        assert!(out.contains(expected), "missing {expected:?} in:\n{out}");
    }
    // The compose checks still ran and passed.
    assert!(
        out.contains("ok: deploy/compose/alertmanager.yml passes amtool check-config"),
        "{out}"
    );
}

#[test]
fn validation_reports_a_hand_edited_alertmanager_config_and_lost_prometheus_rules() {
    let tmp = copy_of_repo();
    let compose = tmp.path().join("deploy/compose");
    edit(
        &compose.join("alertmanager.yml"),
        "  group_wait: 10s\n",
        "  group_wait: 10s\n  group_wiat: 5s\n",
    );
    edit(
        &compose.join("prometheus.yml"),
        "  - rules/*.rules.yml",
        "  - rule/*.rules.yml",
    );
    // A secret the Alertmanager config names but the service does not get,
    // and dashboards mounted where Grafana's provider does not look.
    let compose_file = tmp.path().join("deploy/docker-compose.yml");
    edit(
        &compose_file,
        "    secrets:\n      - pagerduty_routing_key\n      - slack_webhook_url\n",
        "    secrets:\n      - pagerduty_routing_key\n",
    );
    edit(
        &compose_file,
        ":/var/lib/grafana/dashboards/verdict:ro",
        ":/var/lib/grafana/dashboards/slo:ro",
    );

    let (code, out) = validate(tmp.path());
    assert_eq!(code, 1, "{out}");
    for expected in [
        "FAIL: deploy/compose/alertmanager.yml is out of date (run deploy/sync.sh):",
        "FAIL: amtool check-config deploy/compose/alertmanager.yml:",
        "group_wiat",
        "FAIL: deploy/compose/prometheus.yml loads 0 rule files, rules/ has 3:",
        "services.alertmanager: api_url_file /run/secrets/slack_webhook_url is neither a mount nor a secret of the service",
        "services.grafana: dashboard provider 'verdict' reads /var/lib/grafana/dashboards/verdict, which is not mounted from the repository",
        "validate: 4 check(s) failed",
    ] {
        assert!(out.contains(expected), "missing {expected:?} in:\n{out}");
    }
    assert!(
        out.contains("ok: deploy/kubernetes/overlays/ha: PrometheusRule groups pass promtool check rules (3 files)"),
        "{out}"
    );
}

#[test]
fn validation_notices_an_slo_spec_the_deployment_copies_lack() {
    let tmp = copy_of_repo();
    let order = std::fs::read_to_string(tmp.path().join("slos/order.yaml")).unwrap();
    std::fs::write(
        tmp.path().join("slos/checkout.yaml"),
        order.replace("service: order", "service: checkout"),
    )
    .unwrap();
    let (code, out) = validate(tmp.path());
    assert_eq!(code, 1, "{out}");
    for expected in [
        "FAIL: deploy/kubernetes/base/prometheusrules/ is out of date (run deploy/sync.sh):",
        "FAIL: deploy/kubernetes/base/slos/checkout.yaml differs from slos/checkout.yaml or is missing (run deploy/sync.sh)",
        "FAIL: deploy/kubernetes/base/kustomization.yaml: configMapGenerator verdict-slos and resources must list exactly:",
    ] {
        assert!(out.contains(expected), "missing {expected:?} in:\n{out}");
    }
}

/// Every verdict configuration under deploy/, with its secret files
/// (`/etc/verdict/secrets/…`) moved to a temp dir that holds dummy values.
fn load_deploy_config(rel: &str, secrets: &Path) -> config::Config {
    let text = std::fs::read_to_string(repo().join(rel)).unwrap();
    let text = text.replace("/etc/verdict/secrets/", &format!("{}/", secrets.display()));
    let path = secrets.join("verdict.toml");
    std::fs::write(&path, text).unwrap();
    config::load(Some(&path), &|_| None, Overrides::default())
        .unwrap_or_else(|e| panic!("{rel} does not load: {e}"))
}

#[test]
fn shipped_verdict_configurations_load_with_the_real_loader() {
    let tmp = tempfile::tempdir().unwrap();
    let secrets = tmp.path();
    std::fs::create_dir_all(secrets.join("database")).unwrap();
    std::fs::create_dir_all(secrets.join("notifications")).unwrap();
    std::fs::write(
        secrets.join("database/url"),
        "postgres://verdict:pw@db:5432/verdict\n",
    )
    .unwrap();
    for name in ["slack-token", "smtp-password", "pagerduty-routing-key"] {
        std::fs::write(secrets.join("notifications").join(name), "dummy\n").unwrap();
    }
    let slos = vec![PathBuf::from("/etc/verdict/slos")];

    let image = load_deploy_config("deploy/verdict.toml", secrets);
    assert_eq!(image.listen.to_string(), "0.0.0.0:9797");
    assert_eq!(
        image.database_url.expose(),
        "sqlite:///var/lib/verdict/verdict.db"
    );
    assert_eq!(image.slos, slos);
    assert_eq!(image.prometheus.url, "http://prometheus:9090");

    let compose = load_deploy_config("deploy/compose/verdict.toml", secrets);
    assert_eq!(compose.listen.to_string(), "0.0.0.0:9797");
    assert_eq!(
        compose.database_url.expose(),
        "sqlite:///var/lib/verdict/verdict.db"
    );
    assert_eq!(compose.slos, slos);
    assert_eq!(compose.prometheus.step, Duration::from_secs(5));

    let k8s = load_deploy_config("deploy/kubernetes/base/config/verdict.toml", secrets);
    assert_eq!(k8s.listen.to_string(), "0.0.0.0:9797");
    assert_eq!(
        k8s.database_url.expose(),
        "postgres://verdict:pw@db:5432/verdict"
    );
    assert_eq!(k8s.slos, slos);
    assert_eq!(
        k8s.prometheus.url,
        "http://prometheus-operated.monitoring.svc:9090"
    );
    assert_eq!(
        k8s.notifications
            .receivers
            .keys()
            .map(String::as_str)
            .collect::<Vec<_>>(),
        ["chat", "oncall", "sre-mail"]
    );
    assert!(k8s.notifications.route.is_some());
}

/// The `HEALTHCHECK … CMD [...]` of deploy/Dockerfile, as an argv.
fn dockerfile_healthcheck() -> Vec<String> {
    let text = std::fs::read_to_string(repo().join("deploy/Dockerfile")).unwrap();
    let joined = text.replace("\\\n", " ");
    let line = joined
        .lines()
        .find(|l| l.starts_with("HEALTHCHECK"))
        .expect("a HEALTHCHECK");
    let json = &line[line.find("CMD [").expect("exec form") + 4..];
    serde_json::from_str(json).expect("the CMD is a JSON array")
}

/// Kills the server when the test ends, also on a failed assertion.
struct Server(Child);

impl Drop for Server {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0")
        .and_then(|l| l.local_addr())
        .map(|a| a.port())
        .expect("a free port")
}

fn healthcheck(argv: &[String], port: u16) -> bool {
    let argv: Vec<String> = argv
        .iter()
        .map(|a| {
            a.replace(
                "/dev/tcp/127.0.0.1/9797",
                &format!("/dev/tcp/127.0.0.1/{port}"),
            )
        })
        .collect();
    Command::new(&argv[0])
        .args(&argv[1..])
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .status()
        .expect("bash runs")
        .success()
}

#[test]
fn the_image_configuration_serves_and_its_healthcheck_tells_up_from_down() {
    let argv = dockerfile_healthcheck();
    assert_eq!(argv[0], "bash");
    assert!(
        argv[2].contains("/dev/tcp/127.0.0.1/9797") && argv[2].contains("GET /healthz"),
        "{argv:?}"
    );

    // The image's configuration with its paths moved into a temp dir, run
    // the way the image's ENTRYPOINT and CMD run it (`serve --listen …`).
    let tmp = tempfile::tempdir().unwrap();
    let text = std::fs::read_to_string(repo().join("deploy/verdict.toml"))
        .unwrap()
        .replace("/var/lib/verdict", &tmp.path().display().to_string())
        .replace(
            "/etc/verdict/slos",
            &repo().join("slos").display().to_string(),
        );
    let config = tmp.path().join("verdict.toml");
    std::fs::write(&config, text).unwrap();
    let port = free_port();
    let down = free_port();
    assert!(
        !healthcheck(&argv, down),
        "the healthcheck passes with nothing listening"
    );

    let mut server = Server(
        Command::new(verdict_bin())
            .args(["serve", "--listen", &format!("127.0.0.1:{port}")])
            .env("VERDICT_CONFIG", &config)
            .env_remove("RUST_LOG")
            .current_dir(tmp.path())
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(Stdio::piped())
            .spawn()
            .expect("verdict serve starts"),
    );
    let deadline = Instant::now() + Duration::from_secs(30);
    while !healthcheck(&argv, port) {
        if let Some(status) = server.0.try_wait().unwrap() {
            let mut err = String::new();
            let _ = server.0.stderr.take().unwrap().read_to_string(&mut err);
            panic!("verdict serve exited with {status}:\n{err}");
        }
        assert!(
            Instant::now() < deadline,
            "the healthcheck did not pass within 30s"
        );
        std::thread::sleep(Duration::from_millis(200));
    }
    assert!(tmp.path().join("verdict.db").exists());
    drop(server);
    let deadline = Instant::now() + Duration::from_secs(10);
    while healthcheck(&argv, port) {
        assert!(
            Instant::now() < deadline,
            "the healthcheck still passes after the server stopped"
        );
        std::thread::sleep(Duration::from_millis(100));
    }
}

#[test]
fn the_image_runs_as_the_uid_the_kubernetes_manifests_require() {
    let dockerfile = std::fs::read_to_string(repo().join("deploy/Dockerfile")).unwrap();
    assert!(dockerfile.contains("\nUSER 65532:65532\n"), "{dockerfile}");
    assert!(dockerfile.contains("\nENTRYPOINT [\"verdict\"]\n"));
    assert!(dockerfile.contains("\nCMD [\"serve\", \"--listen\", \"0.0.0.0:9797\"]\n"));
    let deployment =
        std::fs::read_to_string(repo().join("deploy/kubernetes/base/deployment.yaml")).unwrap();
    assert!(deployment.contains("runAsUser: 65532"));
    assert!(deployment.contains("runAsGroup: 65532"));
    // What the builder and runtime stages COPY from the repository exists.
    for line in dockerfile.lines().filter(|l| l.starts_with("COPY ")) {
        if line.contains("--from=") || line.starts_with("COPY . ") {
            continue;
        }
        let src = line
            .split_whitespace()
            .filter(|w| !w.starts_with("--"))
            .nth(1)
            .unwrap();
        assert!(repo().join(src).exists(), "{line}: {src} does not exist");
    }
}

/// A child process that is killed when the test ends, also on a failure.
struct Process(Child);

impl Drop for Process {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

async fn wait_for_port(port: u16, what: &str, child: &mut Process) {
    let deadline = Instant::now() + Duration::from_secs(30);
    while std::net::TcpStream::connect(("127.0.0.1", port)).is_err() {
        if let Some(status) = child.0.try_wait().unwrap() {
            let mut err = String::new();
            if let Some(mut e) = child.0.stderr.take() {
                let _ = e.read_to_string(&mut err);
            }
            panic!("{what} exited with {status}:\n{err}");
        }
        assert!(
            Instant::now() < deadline,
            "{what} did not listen within 30s"
        );
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
}

/// The compose stack's alert path with its real files: verdict-init's
/// `verdict token create` writes the token file, a real Alertmanager runs
/// the generated compose/alertmanager.yml (host names and file paths moved
/// to loopback and a temp dir, group_wait shortened) and delivers an alert
/// to a verdict server running compose/verdict.toml, which accepts the
/// bearer token and stores the alert.
#[tokio::test(flavor = "multi_thread")]
async fn the_compose_alertmanager_config_delivers_alerts_to_verdict_with_the_init_token() {
    let _ = rustls::crypto::ring::default_provider().install_default();
    let tmp = tempfile::tempdir().unwrap();
    let dir = tmp.path().display().to_string();
    let (verdict_port, am_port, dead_port) = (free_port(), free_port(), free_port());

    let verdict_config = tmp.path().join("verdict.toml");
    std::fs::write(
        &verdict_config,
        std::fs::read_to_string(repo().join("deploy/compose/verdict.toml"))
            .unwrap()
            .replace("0.0.0.0:9797", &format!("127.0.0.1:{verdict_port}"))
            .replace("/var/lib/verdict", &dir)
            .replace(
                "/etc/verdict/slos",
                &repo().join("slos").display().to_string(),
            )
            .replace(
                "http://prometheus:9090",
                &format!("http://127.0.0.1:{dead_port}"),
            ),
    )
    .unwrap();

    // What the verdict-init service does.
    let created = Command::new(verdict_bin())
        .args([
            "token",
            "create",
            "--role",
            "operator",
            "--name",
            "alertmanager",
        ])
        .env("VERDICT_CONFIG", &verdict_config)
        .output()
        .unwrap();
    assert!(
        created.status.success(),
        "{}",
        String::from_utf8_lossy(&created.stderr)
    );
    let token = String::from_utf8(created.stdout).unwrap();
    assert!(
        token.starts_with("vdt_") && token.ends_with('\n'),
        "{token:?}"
    );
    std::fs::write(tmp.path().join("token"), &token).unwrap();

    let mut verdict = Process(
        Command::new(verdict_bin())
            .arg("serve")
            .env("VERDICT_CONFIG", &verdict_config)
            .env_remove("RUST_LOG")
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(Stdio::piped())
            .spawn()
            .expect("verdict serve starts"),
    );
    wait_for_port(verdict_port, "verdict serve", &mut verdict).await;

    std::fs::write(tmp.path().join("pagerduty_routing_key"), "placeholder\n").unwrap();
    std::fs::write(
        tmp.path().join("slack_webhook_url"),
        format!("http://127.0.0.1:{dead_port}/slack\n"),
    )
    .unwrap();
    let am_config = tmp.path().join("alertmanager.yml");
    let generated =
        std::fs::read_to_string(repo().join("deploy/compose/alertmanager.yml")).unwrap();
    let rewritten = generated
        .replace(
            "http://verdict:9797",
            &format!("http://127.0.0.1:{verdict_port}"),
        )
        .replace("/etc/alertmanager/verdict/token", &format!("{dir}/token"))
        .replace("/run/secrets/", &format!("{dir}/"))
        .replace("group_wait: 10s", "group_wait: 0s");
    assert_ne!(rewritten, generated);
    std::fs::write(&am_config, rewritten).unwrap();
    let mut alertmanager = Process(
        Command::new("/usr/bin/prometheus-alertmanager")
            .arg(format!("--config.file={}", am_config.display()))
            .arg(format!("--storage.path={dir}/am-data"))
            .arg(format!("--web.listen-address=127.0.0.1:{am_port}"))
            .arg("--cluster.listen-address=")
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(Stdio::piped())
            .spawn()
            .expect("prometheus-alertmanager starts (scripts/install-deps.sh installs it)"),
    );
    wait_for_port(am_port, "alertmanager", &mut alertmanager).await;

    // No sloth_severity: only verdict's receiver gets it (nothing leaves loopback).
    let alert = serde_json::json!([{
        "labels": {
            "alertname": "OrderHighErrorRate",
            "sloth_service": "order",
            "sloth_slo": "availability",
            "service": "order"
        },
        "annotations": {"summary": "High error rate on the order service"}
    }]);
    let client = reqwest::Client::new();
    let posted = client
        .post(format!("http://127.0.0.1:{am_port}/api/v2/alerts"))
        .json(&alert)
        .send()
        .await
        .unwrap();
    assert!(posted.status().is_success(), "{}", posted.status());

    let store = verdict::store::Store::connect(&format!("sqlite://{dir}/verdict.db"))
        .await
        .unwrap();
    let deadline = Instant::now() + Duration::from_secs(30);
    let stored = loop {
        let alerts = store.list_alerts().await.unwrap();
        if let Some(a) = alerts.into_iter().next() {
            break a;
        }
        assert!(
            Instant::now() < deadline,
            "verdict stored no alert within 30s"
        );
        tokio::time::sleep(Duration::from_millis(200)).await;
    };
    assert_eq!(stored.status, "firing");
    assert_eq!(
        stored.labels.0.get("alertname").map(String::as_str),
        Some("OrderHighErrorRate")
    );
    assert_eq!(
        stored.annotations.0.get("summary").map(String::as_str),
        Some("High error rate on the order service")
    );
    store.close().await;
    drop(alertmanager);
    drop(verdict);
}
