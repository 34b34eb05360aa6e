#!/usr/bin/env bash
# The README's first command: verdict on the example SLOs with embedded defaults.
set -euo pipefail
verdict=${1:-verdict}
cd "$(dirname "$0")/.."

echo "== verdict check slos/"
"$verdict" check slos
