#!/bin/sh
# `make bench`: triarch's three benchmarks against a Release build, figures on stdout
# as Markdown (progress on stderr):
#   1. replicated write throughput and latency, triarch vs etcd 3.4 (throughput.py)
#   2. leader failover behind haproxy (failover.py)
#   3. memory with 100,000 ConfigMaps and follower restart time (memory.py)
# and, only when named (they would take the run past 15 minutes, ~10 min together):
#   reads    LIST of 10,000 pods, GET under 1,000 writes/s of churn (reads.py)
#   fanout   1,000 watchers on one replica, 500 writes/s (watch_fanout.py)
#   patch    strategic merge patch and server-side apply, 50-container pod (patch_apply.py)
#   security TLS+token+RBAC vs plain (authn_overhead.py), audit Metadata vs None
#            (audit_overhead.py), Secrets with and without encryption (encryption.py)
# Loopback only; every process and temp dir is cleaned up by the scripts. Each part
# has a hard time limit (SIGTERM, then SIGKILL 10 s later) so the whole run stays
# under 15 minutes.
#
# usage: bench/run.sh [--quick] [throughput|failover|memory|reads|fanout|patch|security|all]...
#   BIN_DIR=path  build tree with triarchd and triarch (default build/release)
#   --quick       one repetition of a quarter of the requests, 3 failover rounds,
#                 20,000 objects, 1 restart
set -u
here=$(cd "$(dirname "$0")" && pwd)
src=$(dirname "$here")
export TRI_BIN_DIR="${BIN_DIR:-$src/build/release}"
quick=0
parts=""
for a in "$@"; do
    case "$a" in
        --quick) quick=1 ;;
        throughput|failover|memory|reads|fanout|patch|security) parts="$parts $a" ;;
        all) parts="throughput failover memory reads fanout patch security" ;;
        *) echo "usage: $0 [--quick] [throughput|failover|memory|reads|fanout|patch|security|all]..." >&2; exit 2 ;;
    esac
done
[ -n "$parts" ] || parts="throughput failover memory"

for tool in "$TRI_BIN_DIR/triarchd" "$TRI_BIN_DIR/triarch" /usr/bin/h2load /usr/bin/etcd \
            /usr/sbin/haproxy /usr/bin/python3; do
    if [ ! -x "$tool" ]; then
        echo "bench: missing $tool (make release; scripts/setup.sh installs the packages)" >&2
        exit 1
    fi
done

echo "# triarch benchmarks"
echo
echo "triarch $(git -C "$src" rev-parse --short HEAD 2>/dev/null) ($TRI_BIN_DIR), etcd $(/usr/bin/etcd --version 2>/dev/null | head -1 | cut -d" " -f3), h2load $(/usr/bin/h2load --version | cut -d/ -f2), haproxy $(/usr/sbin/haproxy -v | head -1 | cut -d" " -f3)"
echo
echo "$(date -u '+%Y-%m-%d %H:%M UTC'), $(nproc) CPUs ($(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2 | sed 's/^ //')), $(uname -r)"
echo

rc=0
run() { # limit_s script args...
    limit=$1; shift
    timeout -k 10 "$limit" /usr/bin/python3 "$here/$@" || { echo "bench: $1 failed (exit $?)" >&2; rc=1; }
}
for p in $parts; do
    case "$p" in
        throughput)
            if [ $quick = 1 ]; then run 300 throughput.py --scale 0.25 --reps 1 --growth-batches 3
            else run 420 throughput.py; fi ;;
        failover)
            if [ $quick = 1 ]; then run 120 failover.py --rounds 3
            else run 150 failover.py; fi ;;
        memory)
            if [ $quick = 1 ]; then run 180 memory.py --objects 20000 --restarts 1
            else run 270 memory.py; fi ;;
        reads)
            if [ $quick = 1 ]; then run 240 reads.py --pods 2500 --list-reps 5 --get-seconds 3
            else run 480 reads.py; fi ;;
        fanout)
            if [ $quick = 1 ]; then run 240 watch_fanout.py --seconds 5 --cases follower:1000:500,leader:100:500
            else run 480 watch_fanout.py --profile; fi ;;
        patch)
            if [ $quick = 1 ]; then run 240 patch_apply.py --scale 0.25
            else run 480 patch_apply.py --profile; fi ;;
        security)
            if [ $quick = 1 ]; then run 300 authn_overhead.py --scale 0.1 --reps 1
            else run 600 authn_overhead.py --scale 0.5 --reps 3; fi
            run 600 audit_overhead.py --reps 3
            run 600 encryption.py ;;
    esac
done
exit $rc
