# Shared by deploy/validate.sh and deploy/sync.sh (sourced, not run).

# How the PrometheusRules in deploy/kubernetes/base/prometheusrules/ are generated.
PROMETHEUS_RULE_ARGS=(--slos slos --format prometheus-operator --rule-label app.kubernetes.io/part-of=verdict)

# The SLO spec files (names relative to slos/). Specs in subdirectories
# would need a layout kustomize's flat configMapGenerator cannot express.
SLO_FILES=()
if [ -d "${repo:?}/slos" ]; then
  while IFS= read -r -d '' f; do SLO_FILES+=("${f#"$repo/slos/"}"); done \
    < <(find "$repo/slos" -type f \( -name '*.yaml' -o -name '*.yml' \) -print0 | sort -z)
fi

# Prints the verdict binary to use: $VERDICT, or a fresh debug build.
find_verdict() {
  local root="$1"
  if [ -n "${VERDICT:-}" ]; then
    if [ ! -x "$VERDICT" ]; then
      echo "VERDICT=$VERDICT is not an executable" >&2
      return 2
    fi
    printf '%s\n' "$VERDICT"
    return 0
  fi
  if ! command -v cargo >/dev/null 2>&1; then
    echo "no verdict binary: set VERDICT=path/to/verdict or install a Rust toolchain" >&2
    return 2
  fi
  (cd "$root" && cargo build --quiet --locked --bin verdict) >&2
  printf '%s\n' "${CARGO_TARGET_DIR:-$root/target}/debug/verdict"
}
