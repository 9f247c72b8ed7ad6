"""Failover: SIGKILL the leader of a 3-replica cluster behind haproxy and time how
long until writes through the load balancer are acknowledged again.

Cluster: the harness's (triarch init + 3 triarchd) with --election-timeout-ms 300
--heartbeat-ms 50, and haproxy rendered from deploy/haproxy.cfg.in exactly as the
harness and `triarch cluster up` render it (TCP mode, TLS passed through, HTTPS
GET /readyz check every 500 ms, fall 2, rise 1, shutdown-sessions on down).

Writers: WRITERS threads, each POSTing 1 KiB ConfigMaps (generateName) through
haproxy over HTTPS with the admin client certificate, keep-alive, one request at
a time, reconnecting after any error, REQUEST_TIMEOUT_S per request. Every
request's start, end and status is logged.

Each round: wait until all three replicas are ready and the writers have had a
201 in the last ROUND_SETTLE_S; find the leader (/triarch/v1/status on each
replica); SIGKILL its process group; then measure
  elect:     kill -> a surviving replica reports role=leader (polled every 10 ms
             on the plain listeners),
  first 201: kill -> the first 201 of a request that was SENT after the kill.
             (Counting any 201 received after the kill would count answers
             already in flight from the dying leader: measured as 0 ms.)
then restart the killed replica and time its /readyz. ROUNDS rounds.
"""

import argparse
import http.client
import os
import sys
import threading
import time

import common
from common import fmt, log

ROUNDS = 10
WRITERS = 4
REQUEST_TIMEOUT_S = 2.0
ROUND_SETTLE_S = 1.0       # the writers must be succeeding before the next kill
ROUND_TIMEOUT_S = 30.0     # a round that takes longer is recorded as failed
POLL_S = 0.01
ELECTION_FLAGS = ["--election-timeout-ms", "300", "--heartbeat-ms", "50"]


class Writers:
    """WRITERS threads writing through the load balancer; a shared log of results."""

    def __init__(self, lb, ssl_ctx, body):
        self.host, port = lb.rsplit(":", 1)
        self.port = int(port)
        self.ctx = ssl_ctx
        self.body = body
        self.lock = threading.Lock()
        self.log = []  # (t_start, t_end, status); status -1 = connection error/timeout
        self.stop = threading.Event()
        self.threads = [threading.Thread(target=self.run, daemon=True) for _ in range(WRITERS)]

    def start(self):
        for t in self.threads:
            t.start()

    def run(self):
        conn = None
        while not self.stop.is_set():
            t0 = time.monotonic()
            status = -1
            try:
                if conn is None:
                    conn = http.client.HTTPSConnection(self.host, self.port, context=self.ctx,
                                                       timeout=REQUEST_TIMEOUT_S)
                conn.request("POST", common.CONFIGMAPS, body=self.body,
                             headers={"Content-Type": "application/json"})
                resp = conn.getresponse()
                resp.read()
                status = resp.status
            except Exception:  # refused, reset, timeout, TLS error: reconnect
                if conn is not None:
                    conn.close()
                conn = None
            t1 = time.monotonic()
            with self.lock:
                self.log.append((t0, t1, status))
            if status == -1:
                time.sleep(POLL_S)  # do not spin on a refused connection
        if conn is not None:
            conn.close()

    def since(self, t):
        with self.lock:
            return [e for e in self.log if e[1] >= t]

    def last_ok(self):
        with self.lock:
            for e in reversed(self.log):
                if e[2] == 201:
                    return e[1]
        return None

    def close(self):
        self.stop.set()
        for t in self.threads:
            t.join(timeout=REQUEST_TIMEOUT_S + 5)


def one_round(t, w, i):
    c = t.c
    deadline = time.monotonic() + ROUND_TIMEOUT_S
    common.harness.wait_until("all ready", lambda: all(t.ready(n) for n in c.names),
                              ROUND_TIMEOUT_S, c)
    common.harness.wait_until(
        "writers succeeding",
        lambda: (w.last_ok() or 0) > time.monotonic() - 0.2, ROUND_TIMEOUT_S, c)
    time.sleep(ROUND_SETTLE_S)  # haproxy has marked the restarted replica up (rise 1, 500 ms)
    leader = common.harness.wait_until("a leader", t.leader, ROUND_TIMEOUT_S, c)
    survivors = [n for n in c.names if n != leader]
    kill_t = time.monotonic()
    c.kill(leader)  # SIGKILL to the process group, then waits for it
    s = {"round": i + 1, "killed": leader, "elect": None, "first": None}
    while time.monotonic() < deadline and (s["elect"] is None or s["first"] is None):
        if s["elect"] is None:
            for n in survivors:
                st = t.status(n, timeout=0.2)
                if st and st.get("role") == "leader":
                    s["elect"] = time.monotonic() - kill_t
                    s["new_leader"] = n
                    break
        for t0, t1, status in w.since(kill_t):
            if status == 201 and t0 >= kill_t and (s["first"] is None or
                                                   t1 - kill_t < s["first"]):
                s["first"] = t1 - kill_t
        time.sleep(POLL_S)
    win = w.since(kill_t)
    s["errors"] = {}
    for e in win:
        if e[2] != 201 and e[1] <= kill_t + (s["first"] or ROUND_TIMEOUT_S):
            k = "conn error/timeout" if e[2] == -1 else str(e[2])
            s["errors"][k] = s["errors"].get(k, 0) + 1
    start_t = time.monotonic()
    c.start(leader)
    try:
        common.harness.wait_until(f"{leader} ready after restart", lambda: t.ready(leader, 0.5),
                                  ROUND_TIMEOUT_S, c)
        s["restart_ready"] = time.monotonic() - start_t
    except common.harness.TestFailure:
        s["restart_ready"] = None
    log(f"round {i + 1}: killed {leader} -> elect {fmt(s['elect'], 3)} s, first 201 "
        f"{fmt(s['first'], 3)} s, non-201 {s['errors']}, "
        f"restart->ready {fmt(s['restart_ready'], 3)} s")
    return s


def summary(vals):
    v = sorted(x for x in vals if x is not None)
    if not v:
        return "-", "-", "-"
    return (fmt(common.percentile(v, 50) * 1000, 0), fmt(common.percentile(v, 99) * 1000, 0),
            fmt(v[-1] * 1000, 0))


def main():
    p = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    p.add_argument("--rounds", type=int, default=ROUNDS)
    p.add_argument("--objects", type=int, default=0,
                   help="1 KiB ConfigMaps written before the first round (the new leader's "
                        "loops sync them all when it takes over)")
    a, _ = p.parse_known_args()
    samples, err = [], None
    with common.TempRoot() as root:
        body = os.path.join(root, "configmap.json")
        common.configmap_body(body)
        with open(body, "rb") as f:
            data = f.read()
        t = common.Triarch(root, ELECTION_FLAGS).start()
        w = None
        try:
            if a.objects:
                r = common.h2load(t.plain(t.leader()) + common.CONFIGMAPS, body, a.objects, 16,
                                  m=4)
                log(f"failover: preloaded {r['ok']} ConfigMaps")
            t.c.haproxy()
            w = Writers(t.c.lb, t.c.client.ssl_context(), data)
            w.start()
            for i in range(a.rounds):
                samples.append(one_round(t, w, i))
        except Exception as e:  # record the failure with the samples taken so far
            err = f"{type(e).__name__}: {e}"
            log(f"failover: FAILED after {len(samples)} rounds: {err}")
            if w is not None:
                recent = w.since(time.monotonic() - 35)
                log(f"writers in the last 35 s: {len(recent)} answers, "
                    f"{sum(1 for e in recent if e[2] == 201)} × 201, last 201 "
                    f"{fmt(time.monotonic() - (w.last_ok() or 0), 2)} s ago")
            t.diagnose(err)
        finally:
            if w is not None:
                w.close()
            t.close()
    print("## Failover\n")
    print(f"Machine: {common.machine()}. {a.objects} ConfigMaps stored before the first "
          f"round. triarchd {' '.join(ELECTION_FLAGS)}; haproxy from "
          f"deploy/haproxy.cfg.in; {WRITERS} HTTPS writers through haproxy, one 1 KiB "
          f"ConfigMap POST at a time each, {REQUEST_TIMEOUT_S:.0f} s request timeout.\n")
    print("| round | killed | new leader | kill→leader elected ms | kill→first 201 ms "
          "(request sent after the kill) | non-201 answers until then | "
          "restart→/readyz 200 ms |")
    print("|---:|---|---|---:|---:|---|---:|")
    for s in samples:
        print(f"| {s['round']} | {s['killed']} | {s.get('new_leader', '-')} | "
              f"{fmt((s['elect'] or float('nan')) * 1000, 0)} | "
              f"{fmt((s['first'] or float('nan')) * 1000, 0)} | "
              f"{', '.join(f'{v}× {k}' for k, v in s['errors'].items()) or '0'} | "
              f"{fmt((s['restart_ready'] or float('nan')) * 1000, 0)} |")
    print()
    print("| measure | p50 ms | p99 ms | max ms |\n|---|---:|---:|---:|")
    for key, name in (("elect", "kill → leader elected"),
                      ("first", "kill → first 201 through haproxy"),
                      ("restart_ready", "restart → /readyz 200")):
        p50, p99, mx = summary(s[key] for s in samples)
        print(f"| {name} | {p50} | {p99} | {mx} |")
    print()
    missing = [s["round"] for s in samples if s["first"] is None]
    if err or missing or len(samples) < a.rounds:
        print(f"FAILED: {err or ''} rounds without a 201 within {ROUND_TIMEOUT_S:.0f} s: "
              f"{missing}\n")
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
