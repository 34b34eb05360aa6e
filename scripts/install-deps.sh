#!/usr/bin/env bash
# Installs what verdict's tests and demo need on a Debian machine, only when
# it is missing: Prometheus with promtool, Alertmanager with amtool.
# Safe to run again; prints what it does.
set -euo pipefail

need=()
command -v prometheus >/dev/null 2>&1 || [ -x /usr/bin/prometheus ] || need+=(prometheus)
command -v promtool >/dev/null 2>&1 || [ -x /usr/bin/promtool ] || need+=(prometheus)
command -v amtool >/dev/null 2>&1 || [ -x /usr/bin/amtool ] || need+=(prometheus-alertmanager)
command -v chromium >/dev/null 2>&1 || [ -x /usr/bin/chromium ] || need+=(chromium)

if [ ${#need[@]} -eq 0 ]; then
  echo "install-deps: prometheus, promtool and amtool are present"
  exit 0
fi

# unique package names
mapfile -t pkgs < <(printf '%s\n' "${need[@]}" | sort -u)
sudo=""
if [ "$(id -u)" -ne 0 ]; then
  if command -v sudo >/dev/null 2>&1; then sudo="sudo"; else
    echo "install-deps: missing ${pkgs[*]} and not root (no sudo): run 'apt-get install ${pkgs[*]}' as root" >&2
    exit 1
  fi
fi
echo "install-deps: installing ${pkgs[*]} with apt-get"
$sudo apt-get update -qq
DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -qq --no-install-recommends "${pkgs[@]}"
# The Debian packages start their services; verdict's tests start their own
# instances on free loopback ports, so stop the system ones where possible.
for svc in prometheus prometheus-alertmanager; do
  if command -v systemctl >/dev/null 2>&1; then $sudo systemctl stop "$svc" >/dev/null 2>&1 || true; fi
done
