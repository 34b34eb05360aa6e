#!/usr/bin/env bash
# The README's first command, until `verdict demo` exists: verdict on the
# example SLOs with embedded defaults — validate them, generate their rules
# and rule tests, and prove both with promtool.
set -euo pipefail
verdict=${1:-verdict}
cd "$(dirname "$0")/.."
out=$(mktemp -d)
trap 'rm -rf "$out"' EXIT

echo "== verdict check slos/"
"$verdict" check slos

echo
echo "== verdict generate rules --slos slos --out $out --with-tests"
"$verdict" generate rules --slos slos --out "$out" --with-tests
ls -1 "$out"

echo
echo "== promtool check rules (every generated file)"
promtool check rules "$out"/*.rules.yml

echo
echo "== promtool test rules (alerts fire when the burn-rate math says)"
(cd "$out" && promtool test rules ./*.test.yml)

echo
echo "== rules/ in the repository is up to date"
"$verdict" generate rules --slos slos --out rules --with-tests --check
