#!/usr/bin/env bash
# Regenerates the files under deploy/ that are derived from slos/:
#   deploy/compose/alertmanager.yml          verdict generate alertmanager
#   deploy/kubernetes/base/prometheusrules/  verdict generate rules --format prometheus-operator
#   deploy/kubernetes/base/slos/             copies of slos/*.yaml (kustomize loads
#                                            files only from inside its directory)
# deploy/validate.sh fails while any of them is out of date.
#
# Usage: deploy/sync.sh        (VERDICT=path/to/verdict to use a given binary)
set -euo pipefail
here="$(cd "$(dirname "$0")" && pwd)"
repo="$(cd "$here/.." && pwd)"
# shellcheck source=deploy/lib.sh
. "$here/lib.sh"
verdict="$(find_verdict "$repo")"
cd "$repo"

"$verdict" generate alertmanager --config deploy/compose/alertmanager-generate.yaml \
  --out deploy/compose/alertmanager.yml
"$verdict" generate rules "${PROMETHEUS_RULE_ARGS[@]}" --out deploy/kubernetes/base/prometheusrules

dest=deploy/kubernetes/base/slos
mkdir -p "$dest"
rm -f "$dest"/*.yaml "$dest"/*.yml
for f in "${SLO_FILES[@]}"; do cp "slos/$f" "$dest/$f"; done
echo "sync: copied ${#SLO_FILES[@]} SLO spec files to $dest"
echo "sync: if slos/ gained or lost a file, update configMapGenerator and resources in deploy/kubernetes/base/kustomization.yaml (validate.sh names them)"
