#!/usr/bin/env bash
# Installs the Debian packages that building, testing and benchmarking triarch need.
# Idempotent and quick when everything is present; non-interactive.
# --bench also installs what only benchmarks use: Go and golang.org/x/net, for the
# load generator that encodes requests as kubectl's client does (bench/goload).
set -euo pipefail

PKGS=(
  build-essential cmake pkg-config clang libclang-rt-14-dev
  libraft-dev libuv1-dev liblz4-dev libyaml-dev libjansson-dev
  libh2o-dev libssl-dev libcurl4-openssl-dev zlib1g-dev libwslay-dev libmimalloc-dev
  haproxy openssl curl nghttp2-client etcd-server etcd-client
  python3-kubernetes python3-yaml
)
if [ "${1:-}" = "--bench" ]; then
  PKGS+=(golang-go golang-golang-x-net-dev)
fi

missing=()
for p in "${PKGS[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
if [ ${#missing[@]} -eq 0 ]; then
  exit 0
fi
echo "setup: installing ${missing[*]}" >&2
SUDO=""
[ "$(id -u)" -ne 0 ] && SUDO="sudo"
export DEBIAN_FRONTEND=noninteractive
$SUDO apt-get update -qq
$SUDO apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
# Debian starts haproxy and etcd as services on install; triarch runs its own.
for svc in haproxy etcd; do
  if command -v systemctl >/dev/null 2>&1; then $SUDO systemctl disable --now "$svc" >/dev/null 2>&1 || true; fi
  if command -v service >/dev/null 2>&1; then $SUDO service "$svc" stop >/dev/null 2>&1 || true; fi
done
exit 0
