#!/usr/bin/env bash
# Type-checks the generated dashboards against Grafana's published dashboard
# model: the `Dashboard` type of @grafana/schema (npm), generated from the
# CUE schema Grafana validates with. Needs node and npm (and the npm
# registry); `cargo test` runs the structural check that needs neither.
#
# TypeScript enums are compared by their string values (`'absolute'`, not
# `ThresholdsMode.Absolute`), and excess-property checks stay on, so a
# misspelled or unknown field is an error. Known gap of the published type:
# a Prometheus annotation's query fields (expr, step, titleFormat, …) are
# datasource-specific and not modelled, so they are allowed explicitly.
#
# Usage: deploy/grafana/check-schema.sh [DASHBOARD.json ...]
set -euo pipefail
here="$(cd "$(dirname "$0")" && pwd)"
files=("$@")
[ ${#files[@]} -gt 0 ] || files=("$here"/dashboards/*.json)
work="$(mktemp -d)"
trap 'rm -rf "$work"' EXIT
cd "$work"
npm install --silent --no-audit --no-fund typescript@5 @grafana/schema@13.2.3 >/dev/null
{
  cat <<'TS'
import type { AnnotationQuery, Dashboard } from '@grafana/schema/dist/types/raw/dashboard/x/types.gen';
// Enums as the strings JSON holds; numbers and booleans as such.
type J<T> = T extends string ? `${T}` : T extends number ? number : T extends boolean ? boolean
  : T extends Array<infer U> ? Array<J<U>> : T extends object ? { [K in keyof T]: J<T[K]> } : T;
// The Prometheus datasource's annotation fields (Grafana stores them beside the common ones).
type PromAnnotation = J<AnnotationQuery> & {
  expr?: string; step?: string; titleFormat?: string; textFormat?: string; tagKeys?: string; useValueForTime?: boolean;
};
type Checked = Omit<J<Dashboard>, 'annotations'> & { annotations?: { list?: PromAnnotation[] } };
TS
  i=0
  for f in "${files[@]}"; do
    echo "// $f"
    printf 'export const d%d: Checked = ' "$i"
    cat "$f"
    echo ';'
    i=$((i + 1))
  done
} > check.ts
npx tsc --noEmit --strict --skipLibCheck check.ts
echo "check-schema: ${#files[@]} dashboard(s) match @grafana/schema's Dashboard type"
