#!/usr/bin/env python3
"""Checks deploy/docker-compose.yml without Docker, and lays out a service's
files the way the container sees them.

Usage: check-compose.py COMPOSE_FILE [--layout SERVICE DIR]...

- Every bind-mounted file or directory, secret file, build context and
  Dockerfile exists.
- Every file path Alertmanager's configuration names (`*_file`) is provided
  to the alertmanager service by a mount or a compose secret.
- verdict's configuration file (VERDICT_CONFIG) and its `slos` paths are
  mounted into the verdict service.
- Prometheus scrapes and alerts only hosts that are compose services.
- Grafana's dashboard providers read directories mounted from the repository.
- `--layout SERVICE DIR` copies SERVICE's bind mounts into DIR at their
  container paths, so `promtool check config DIR/etc/prometheus/prometheus.yml`
  resolves relative rule paths exactly as Prometheus in the container does.

Prints every problem and exits 1 when there is one.
"""

import argparse
import os
import re
import shutil
import sys

try:
    import tomllib
except ImportError:  # Python < 3.11
    tomllib = None
try:
    import yaml
except ImportError:  # pragma: no cover - reported to the user
    sys.exit("check-compose: PyYAML is missing: python3 -m pip install pyyaml")


def bind_mounts(service, base):
    """(host path, container path) of the service's bind mounts."""
    out = []
    for v in service.get("volumes") or []:
        if isinstance(v, dict):
            if v.get("type") == "bind":
                out.append((os.path.normpath(os.path.join(base, v["source"])), v["target"]))
            continue
        parts = v.split(":")
        if len(parts) >= 2 and (parts[0].startswith(".") or parts[0].startswith("/")):
            out.append((os.path.normpath(os.path.join(base, parts[0])), parts[1]))
    return out


def volume_targets(service):
    """Container paths of every mount (bind or named volume)."""
    targets = []
    for v in service.get("volumes") or []:
        if isinstance(v, dict):
            targets.append(v.get("target", ""))
        else:
            parts = v.split(":")
            if len(parts) >= 2:
                targets.append(parts[1])
    return targets


def secret_targets(service, secrets):
    out = []
    for s in service.get("secrets") or []:
        name = s if isinstance(s, str) else s.get("source")
        target = name if isinstance(s, str) else s.get("target", name)
        if name not in secrets:
            out.append((None, name))
            continue
        out.append((target if target.startswith("/") else f"/run/secrets/{target}", name))
    return out


def file_keys(node, found):
    """Every value of a key ending in _file, recursively."""
    if isinstance(node, dict):
        for k, v in node.items():
            if isinstance(k, str) and k.endswith("_file") and isinstance(v, str):
                found.append((k, v))
            else:
                file_keys(v, found)
    elif isinstance(node, list):
        for v in node:
            file_keys(v, found)
    return found


def covered(path, prefixes):
    return any(path == p or path.startswith(p.rstrip("/") + "/") for p in prefixes)


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("compose")
    parser.add_argument("--layout", nargs=2, action="append", default=[], metavar=("SERVICE", "DIR"))
    args = parser.parse_args()
    base = os.path.dirname(os.path.abspath(args.compose))
    errors = []

    def err(where, message):
        errors.append(f"{args.compose}: {where}: {message}")

    with open(args.compose, encoding="utf-8") as f:
        compose = yaml.safe_load(f)
    services = compose.get("services") or {}
    secrets = compose.get("secrets") or {}
    named_volumes = set((compose.get("volumes") or {}).keys())

    for name, s in secrets.items():
        if "file" in s and not os.path.exists(os.path.join(base, s["file"])):
            err(f"secrets.{name}.file", f"{s['file']} does not exist")

    for name, svc in services.items():
        build = svc.get("build")
        if isinstance(build, dict):
            ctx = os.path.normpath(os.path.join(base, build.get("context", ".")))
            if not os.path.isdir(ctx):
                err(f"services.{name}.build.context", f"{ctx} is not a directory")
            dockerfile = os.path.join(ctx, build.get("dockerfile", "Dockerfile"))
            if not os.path.isfile(dockerfile):
                err(f"services.{name}.build.dockerfile", f"{dockerfile} does not exist")
        for host, target in bind_mounts(svc, base):
            if not os.path.exists(host):
                err(f"services.{name}.volumes", f"{host} (mounted at {target}) does not exist")
        for v in svc.get("volumes") or []:
            if isinstance(v, str) and not v.split(":")[0].startswith((".", "/")):
                if v.split(":")[0] not in named_volumes:
                    err(f"services.{name}.volumes", f"named volume {v.split(':')[0]!r} is not declared")
        for target, secret in secret_targets(svc, secrets):
            if target is None:
                err(f"services.{name}.secrets", f"secret {secret!r} is not declared")
        for dep in svc.get("depends_on") or []:
            if dep not in services:
                err(f"services.{name}.depends_on", f"no service {dep!r}")

    # Alertmanager: every *_file its configuration names must be there.
    am = services.get("alertmanager")
    if am is None:
        err("services", "no alertmanager service")
    else:
        config = None
        for host, target in bind_mounts(am, base):
            if target.endswith("alertmanager.yml") and os.path.isfile(host):
                with open(host, encoding="utf-8") as f:
                    config = yaml.safe_load(f)
        if config is None:
            err("services.alertmanager.volumes", "alertmanager.yml is not mounted")
        else:
            provided = volume_targets(am) + [t for t, _ in secret_targets(am, secrets) if t]
            for key, path in file_keys(config, []):
                if not covered(path, provided):
                    err("services.alertmanager", f"{key} {path} is neither a mount nor a secret of the service")

    # verdict: its configuration file and SLO specs.
    vd = services.get("verdict")
    if vd is None:
        err("services", "no verdict service")
    else:
        env = vd.get("environment") or {}
        config_path = env.get("VERDICT_CONFIG") if isinstance(env, dict) else None
        mounts = dict((t, h) for h, t in bind_mounts(vd, base))
        if not config_path or config_path not in mounts:
            err("services.verdict", "VERDICT_CONFIG must name a mounted file")
        elif tomllib is not None:
            with open(mounts[config_path], "rb") as f:
                toml = tomllib.load(f)
            targets = volume_targets(vd)
            for p in toml.get("slos", []):
                if not covered(p, targets):
                    err("services.verdict", f"slos path {p} is not mounted")
            db = toml.get("database_url", "")
            m = re.match(r"^sqlite://(/.*)$", db)
            if db.startswith("sqlite:") and not (m and covered(m.group(1), targets)):
                err("services.verdict", f"the SQLite database {db} is not on a volume")

    # Prometheus: targets are services of this stack.
    pr = services.get("prometheus")
    if pr is None:
        err("services", "no prometheus service")
    else:
        for host, target in bind_mounts(pr, base):
            if target.endswith("prometheus.yml") and os.path.isfile(host):
                with open(host, encoding="utf-8") as f:
                    prom = yaml.safe_load(f)
                hosts = []
                for job in prom.get("scrape_configs") or []:
                    for sc in job.get("static_configs") or []:
                        hosts += [(job.get("job_name"), t) for t in sc.get("targets") or []]
                for am_cfg in (prom.get("alerting") or {}).get("alertmanagers") or []:
                    for sc in am_cfg.get("static_configs") or []:
                        hosts += [("alerting", t) for t in sc.get("targets") or []]
                for job, t in hosts:
                    h = t.rsplit(":", 1)[0]
                    if h != "localhost" and h not in services:
                        err(f"{target}: {job}", f"target {t}: {h!r} is not a compose service")

    # Grafana: the dashboard providers read directories that are mounted.
    gf = services.get("grafana")
    if gf is not None:
        # Bind mounts only: the grafana-data volume under /var/lib/grafana
        # would hide a missing dashboards mount.
        targets = [t for _, t in bind_mounts(gf, base)]
        providers = 0
        for host, target in bind_mounts(gf, base):
            if not target.startswith("/etc/grafana/provisioning/dashboards") or not os.path.isdir(host):
                continue
            for name in sorted(os.listdir(host)):
                if not name.endswith((".yaml", ".yml")):
                    continue
                with open(os.path.join(host, name), encoding="utf-8") as f:
                    prov = yaml.safe_load(f) or {}
                for p in prov.get("providers") or []:
                    providers += 1
                    path = (p.get("options") or {}).get("path", "")
                    if not covered(path, targets):
                        err("services.grafana", f"dashboard provider {p.get('name')!r} reads {path}, which is not mounted from the repository")
        if providers == 0:
            err("services.grafana", "no dashboard provider is mounted at /etc/grafana/provisioning/dashboards")

    for service, out in args.layout:
        svc = services.get(service)
        if svc is None:
            err("--layout", f"no service {service!r}")
            continue
        for host, target in bind_mounts(svc, base):
            dest = os.path.join(out, target.lstrip("/"))
            os.makedirs(os.path.dirname(dest), exist_ok=True)
            if os.path.isdir(host):
                shutil.copytree(host, dest, dirs_exist_ok=True)
            elif os.path.exists(host):
                shutil.copy(host, dest)

    for e in errors:
        print(e, file=sys.stderr)
    if errors:
        return 1
    print(f"{args.compose}: {len(services)} services: mounts, secrets and targets consistent")
    return 0


if __name__ == "__main__":
    sys.exit(main())
