#!/usr/bin/env python3
"""Checks rendered Kubernetes manifests (the output of `kubectl kustomize`).

Usage: check-manifests.py [--kube-version V]... [--rules-out DIR] [--name NAME] RENDERED.yaml

- Core kinds are validated against the Kubernetes OpenAPI schemas bundled
  with kubernetes-validate (strict: unknown fields are errors), offline.
  A kind without a schema is an error, never a silent pass.
- The monitoring CRDs (ServiceMonitor, PrometheusRule) are checked
  structurally: required fields, known fields, durations; each
  PrometheusRule's spec is written to --rules-out as a rule file for
  `promtool check rules`.
- verdict's own deployment rules: no Secret objects (secrets are referenced,
  never committed), the container hardening and probes of docs/operations.md,
  and selectors, ports and ConfigMaps that actually point at each other.

Prints every problem as `<file>: <Kind>/<name>: <field>: <message>` and
exits 1 when there is one, 2 on usage errors or a missing dependency.
"""

import argparse
import os
import re
import sys

try:
    import yaml
except ImportError:  # pragma: no cover - reported to the user
    sys.exit("check-manifests: PyYAML is missing: python3 -m pip install pyyaml")
try:
    import kubernetes_validate
except ImportError:  # pragma: no cover - reported to the user
    sys.exit(
        "check-manifests: kubernetes-validate is missing: "
        "python3 -m pip install kubernetes-validate"
    )

CRD_GROUP = "monitoring.coreos.com/"
DURATION = re.compile(r"^(([0-9]+)y)?(([0-9]+)w)?(([0-9]+)d)?(([0-9]+)h)?(([0-9]+)m)?(([0-9]+)s)?(([0-9]+)ms)?$")
DURATION_SECONDS = {"y": 365 * 86400, "w": 7 * 86400, "d": 86400, "h": 3600, "m": 60, "s": 1, "ms": 0.001}

# Fields of the prometheus-operator CRDs (monitoring.coreos.com/v1) that
# verdict's manifests may use; anything else is probably a typo.
SERVICE_MONITOR_SPEC = {
    "selector", "namespaceSelector", "endpoints", "jobLabel", "targetLabels",
    "podTargetLabels", "sampleLimit", "targetLimit", "attachMetadata",
}
ENDPOINT_FIELDS = {
    "port", "targetPort", "path", "scheme", "params", "interval", "scrapeTimeout",
    "honorLabels", "honorTimestamps", "bearerTokenSecret", "authorization",
    "basicAuth", "oauth2", "tlsConfig", "relabelings", "metricRelabelings",
    "followRedirects", "enableHttp2", "proxyUrl", "filterRunning",
}
RULE_GROUP_FIELDS = {"name", "interval", "rules", "limit", "partial_response_strategy", "query_offset", "labels"}
RULE_FIELDS = {"record", "alert", "expr", "for", "keep_firing_for", "labels", "annotations"}


class Checker:
    def __init__(self, filename, kube_versions):
        self.filename = filename
        self.kube_versions = kube_versions
        self.errors = []

    def error(self, doc, field, message):
        kind = doc.get("kind", "?") if isinstance(doc, dict) else "?"
        name = (doc.get("metadata") or {}).get("name", "?") if isinstance(doc, dict) else "?"
        self.errors.append(f"{self.filename}: {kind}/{name}: {field}: {message}")

    # ---- schemas ---------------------------------------------------------

    def check_schema(self, doc):
        for version in self.kube_versions:
            try:
                kubernetes_validate.validate(doc, version, strict=True)
            except kubernetes_validate.ValidationError as e:
                path = ".".join(str(p) for p in e.path) or "(root)"
                self.error(doc, path, f"{e.message} (Kubernetes {e.version} schema)")
                return
            except (kubernetes_validate.SchemaNotFoundError, kubernetes_validate.InvalidSchemaError) as e:
                self.error(doc, "apiVersion/kind", f"no schema: {e.message}")
                return

    def check_duration(self, doc, field, value):
        if not isinstance(value, str) or not value or not DURATION.match(value):
            self.error(doc, field, f"{value!r} is not a Prometheus duration such as 30s or 1m")
            return None
        total = 0.0
        for amount, unit in re.findall(r"([0-9]+)(ms|[ywdhms])", value):
            total += int(amount) * DURATION_SECONDS[unit]
        return total

    def check_label_selector(self, doc, field, selector):
        if not isinstance(selector, dict) or not (selector.get("matchLabels") or selector.get("matchExpressions")):
            self.error(doc, field, "needs matchLabels or matchExpressions (an empty selector selects everything)")
            return False
        unknown = set(selector) - {"matchLabels", "matchExpressions"}
        if unknown:
            self.error(doc, field, f"unknown fields {sorted(unknown)}")
        return True

    def check_service_monitor(self, doc):
        if doc.get("apiVersion") != "monitoring.coreos.com/v1":
            self.error(doc, "apiVersion", "expected monitoring.coreos.com/v1")
        spec = doc.get("spec")
        if not isinstance(spec, dict):
            self.error(doc, "spec", "missing")
            return
        for key in sorted(set(spec) - SERVICE_MONITOR_SPEC):
            self.error(doc, f"spec.{key}", "unknown field")
        self.check_label_selector(doc, "spec.selector", spec.get("selector"))
        ns = spec.get("namespaceSelector")
        if ns is not None:
            if not isinstance(ns, dict) or set(ns) - {"any", "matchNames"}:
                self.error(doc, "spec.namespaceSelector", "expected `any` or `matchNames`")
            elif "matchNames" in ns and not (isinstance(ns["matchNames"], list) and ns["matchNames"]):
                self.error(doc, "spec.namespaceSelector.matchNames", "must be a non-empty list")
        endpoints = spec.get("endpoints")
        if not isinstance(endpoints, list) or not endpoints:
            self.error(doc, "spec.endpoints", "must be a non-empty list")
            return
        for i, ep in enumerate(endpoints):
            where = f"spec.endpoints[{i}]"
            if not isinstance(ep, dict):
                self.error(doc, where, "must be a mapping")
                continue
            for key in sorted(set(ep) - ENDPOINT_FIELDS):
                self.error(doc, f"{where}.{key}", "unknown field")
            if "port" not in ep and "targetPort" not in ep:
                self.error(doc, where, "needs `port` (a Service port name) or `targetPort`")
            if "path" in ep and not str(ep["path"]).startswith("/"):
                self.error(doc, f"{where}.path", "must start with /")
            if ep.get("scheme", "http") not in ("http", "https"):
                self.error(doc, f"{where}.scheme", "must be http or https")
            interval = timeout = None
            if "interval" in ep:
                interval = self.check_duration(doc, f"{where}.interval", ep["interval"])
            if "scrapeTimeout" in ep:
                timeout = self.check_duration(doc, f"{where}.scrapeTimeout", ep["scrapeTimeout"])
            if interval is not None and timeout is not None and timeout > interval:
                self.error(doc, f"{where}.scrapeTimeout", "must not be longer than interval")

    def check_prometheus_rule(self, doc, rules_out):
        if doc.get("apiVersion") != "monitoring.coreos.com/v1":
            self.error(doc, "apiVersion", "expected monitoring.coreos.com/v1")
        spec = doc.get("spec")
        if not isinstance(spec, dict) or set(spec) != {"groups"}:
            self.error(doc, "spec", "must hold exactly `groups`")
            return
        groups = spec["groups"]
        if not isinstance(groups, list) or not groups:
            self.error(doc, "spec.groups", "must be a non-empty list")
            return
        names = set()
        for i, group in enumerate(groups):
            where = f"spec.groups[{i}]"
            if not isinstance(group, dict):
                self.error(doc, where, "must be a mapping")
                continue
            for key in sorted(set(group) - RULE_GROUP_FIELDS):
                self.error(doc, f"{where}.{key}", "unknown field")
            name = group.get("name")
            if not isinstance(name, str) or not name:
                self.error(doc, f"{where}.name", "missing")
            elif name in names:
                self.error(doc, f"{where}.name", f"duplicate group {name!r}")
            names.add(name)
            rules = group.get("rules")
            if not isinstance(rules, list) or not rules:
                self.error(doc, f"{where}.rules", "must be a non-empty list")
                continue
            for j, rule in enumerate(rules):
                rwhere = f"{where}.rules[{j}]"
                if not isinstance(rule, dict):
                    self.error(doc, rwhere, "must be a mapping")
                    continue
                for key in sorted(set(rule) - RULE_FIELDS):
                    self.error(doc, f"{rwhere}.{key}", "unknown field")
                if ("record" in rule) == ("alert" in rule):
                    self.error(doc, rwhere, "needs exactly one of `record` and `alert`")
                if not isinstance(rule.get("expr"), str) or not rule["expr"].strip():
                    self.error(doc, f"{rwhere}.expr", "missing")
                if "record" in rule and ("for" in rule or "annotations" in rule):
                    self.error(doc, rwhere, "a recording rule has no `for` or `annotations`")
                if "for" in rule:
                    self.check_duration(doc, f"{rwhere}.for", rule["for"])
        if rules_out:
            os.makedirs(rules_out, exist_ok=True)
            name = (doc.get("metadata") or {}).get("name", "unnamed")
            path = os.path.join(rules_out, f"{name}.rules.yml")
            with open(path, "w", encoding="utf-8") as f:
                yaml.safe_dump({"groups": groups}, f, sort_keys=False)

    # ---- verdict's deployment rules ----------------------------------------

    def check_deployment(self, doc, by_kind):
        spec = doc.get("spec") or {}
        pod = (spec.get("template") or {}).get("spec") or {}
        labels = ((spec.get("template") or {}).get("metadata") or {}).get("labels") or {}
        replicas = spec.get("replicas", 1)
        if not isinstance(replicas, int):
            replicas = None  # the schema check reports the type
        elif replicas < 2:
            self.error(doc, "spec.replicas", "verdict on Kubernetes runs at least 2 replicas (on Postgres)")
        psc = pod.get("securityContext") or {}
        if psc.get("runAsNonRoot") is not True:
            self.error(doc, "spec.template.spec.securityContext.runAsNonRoot", "must be true")
        if (psc.get("seccompProfile") or {}).get("type") != "RuntimeDefault":
            self.error(doc, "spec.template.spec.securityContext.seccompProfile.type", "must be RuntimeDefault")
        volumes = {v.get("name"): v for v in pod.get("volumes") or []}
        configmaps = {(d.get("metadata") or {}).get("name") for d in by_kind.get("ConfigMap", [])}
        for name, v in volumes.items():
            if "configMap" in v and v["configMap"].get("name") not in configmaps:
                self.error(doc, f"spec.template.spec.volumes[{name}].configMap.name",
                           f"no ConfigMap {v['configMap'].get('name')!r} in the manifests")
        for c in pod.get("containers") or []:
            where = f"spec.template.spec.containers[{c.get('name')}]"
            sc = c.get("securityContext") or {}
            if sc.get("allowPrivilegeEscalation") is not False:
                self.error(doc, f"{where}.securityContext.allowPrivilegeEscalation", "must be false")
            if sc.get("readOnlyRootFilesystem") is not True:
                self.error(doc, f"{where}.securityContext.readOnlyRootFilesystem", "must be true")
            if (sc.get("capabilities") or {}).get("drop") != ["ALL"]:
                self.error(doc, f"{where}.securityContext.capabilities.drop", "must be [ALL]")
            for probe, path in (("livenessProbe", "/healthz"), ("readinessProbe", "/readyz")):
                got = ((c.get(probe) or {}).get("httpGet") or {}).get("path")
                if got != path:
                    self.error(doc, f"{where}.{probe}.httpGet.path", f"must be {path}, found {got!r}")
            res = c.get("resources") or {}
            for part in ("requests", "limits"):
                for r in ("cpu", "memory"):
                    if r not in (res.get(part) or {}):
                        self.error(doc, f"{where}.resources.{part}.{r}", "missing")
            mounts = {m.get("mountPath"): m.get("name") for m in c.get("volumeMounts") or []}
            tmp = volumes.get(mounts.get("/tmp"), {})
            if "emptyDir" not in tmp:
                self.error(doc, f"{where}.volumeMounts", "/tmp must be an emptyDir (the root filesystem is read-only)")
            for m in c.get("volumeMounts") or []:
                if m.get("name") not in volumes:
                    self.error(doc, f"{where}.volumeMounts[{m.get('name')}]", "no such volume")
            ports = {p.get("name"): p.get("containerPort") for p in c.get("ports") or []}
            self.check_peers(doc, labels, replicas, ports, by_kind)

    def check_peers(self, deployment, labels, replicas, ports, by_kind):
        def selects(selector):
            match = (selector or {}).get("matchLabels") or {}
            return bool(match) and all(labels.get(k) == v for k, v in match.items())

        for svc in by_kind.get("Service", []):
            sel = (svc.get("spec") or {}).get("selector") or {}
            if not sel or not all(labels.get(k) == v for k, v in sel.items()):
                self.error(svc, "spec.selector", "does not select the Deployment's pods")
            for p in (svc.get("spec") or {}).get("ports") or []:
                target = p.get("targetPort")
                if isinstance(target, str) and target not in ports:
                    self.error(svc, "spec.ports.targetPort", f"no container port named {target!r}")
        for pdb in by_kind.get("PodDisruptionBudget", []):
            spec = pdb.get("spec") or {}
            if not selects(spec.get("selector")):
                self.error(pdb, "spec.selector", "does not select the Deployment's pods")
            min_available = spec.get("minAvailable")
            if isinstance(min_available, int) and replicas is not None and min_available >= replicas:
                self.error(pdb, "spec.minAvailable",
                           f"{min_available} with {replicas} replicas blocks every node drain")
        for np in by_kind.get("NetworkPolicy", []):
            spec = np.get("spec") or {}
            if not selects(spec.get("podSelector")):
                self.error(np, "spec.podSelector", "does not select the Deployment's pods")
            for i, rule in enumerate(spec.get("ingress") or []):
                for p in rule.get("ports") or []:
                    port = p.get("port")
                    if port not in ports.values() and port not in ports:
                        self.error(np, f"spec.ingress[{i}].ports", f"port {port!r} is not a container port")
        services = by_kind.get("Service", [])
        for sm in by_kind.get("ServiceMonitor", []):
            spec = sm.get("spec") or {}
            match = (spec.get("selector") or {}).get("matchLabels") or {}
            targets = [s for s in services
                       if match and all(((s.get("metadata") or {}).get("labels") or {}).get(k) == v
                                        for k, v in match.items())]
            if not targets:
                self.error(sm, "spec.selector", "selects no Service in the manifests")
            names = {(s.get("metadata") or {}).get("namespace") for s in targets}
            wanted = (spec.get("namespaceSelector") or {}).get("matchNames")
            if wanted and not names & set(wanted):
                self.error(sm, "spec.namespaceSelector.matchNames",
                           f"{wanted} does not contain the Service's namespace {sorted(n or '' for n in names)}")
            port_names = {p.get("name") for s in targets for p in (s.get("spec") or {}).get("ports") or []}
            for i, ep in enumerate(spec.get("endpoints") or []):
                if "port" in ep and ep["port"] not in port_names:
                    self.error(sm, f"spec.endpoints[{i}].port", f"no Service port named {ep['port']!r}")

    def run(self, docs, rules_out):
        by_kind = {}
        for doc in docs:
            if not isinstance(doc, dict):
                self.errors.append(f"{self.filename}: a document is not a mapping")
                continue
            for key in ("apiVersion", "kind"):
                if not doc.get(key):
                    self.error(doc, key, "missing")
            if not (doc.get("metadata") or {}).get("name"):
                self.error(doc, "metadata.name", "missing")
            by_kind.setdefault(doc.get("kind"), []).append(doc)
        if not by_kind.get("Deployment"):
            self.errors.append(f"{self.filename}: no Deployment")
        for doc in docs:
            if not isinstance(doc, dict):
                continue
            kind, api = doc.get("kind"), str(doc.get("apiVersion", ""))
            if kind == "Secret":
                self.error(doc, "kind", "Secrets are referenced, never committed: create them with kubectl")
            if api.startswith(CRD_GROUP):
                if kind == "ServiceMonitor":
                    self.check_service_monitor(doc)
                elif kind == "PrometheusRule":
                    self.check_prometheus_rule(doc, rules_out)
                else:
                    self.error(doc, "kind", f"no structural check for {api} {kind}")
            else:
                self.check_schema(doc)
            if kind == "Deployment":
                self.check_deployment(doc, by_kind)
        return by_kind


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--kube-version", action="append", dest="versions",
                        help="Kubernetes version to validate against (repeatable; default: the latest bundled)")
    parser.add_argument("--rules-out", help="directory for the PrometheusRules' rule files")
    parser.add_argument("--name", help="how messages name the manifests (default: the file name)")
    parser.add_argument("file")
    args = parser.parse_args()
    versions = args.versions or [kubernetes_validate.latest_version()]
    try:
        with open(args.file, encoding="utf-8") as f:
            docs = [d for d in yaml.safe_load_all(f) if d is not None]
    except (OSError, yaml.YAMLError) as e:
        print(f"{args.file}: {e}", file=sys.stderr)
        return 1
    name = args.name or args.file
    checker = Checker(name, versions)
    by_kind = checker.run(docs, args.rules_out)
    for e in checker.errors:
        print(e, file=sys.stderr)
    if checker.errors:
        return 1
    summary = ", ".join(f"{len(v)} {k}" for k, v in sorted(by_kind.items()))
    print(f"{name}: {summary}: valid (Kubernetes {', '.join(versions)})")
    return 0


if __name__ == "__main__":
    sys.exit(main())
