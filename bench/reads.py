"""Reads: LIST of 10,000 pods (paged and unpaged) and GET of one pod under write churn.

One fresh 3-replica cluster (fsync on, defaults). h2load creates N pods (10,000 by
default; POST of one fixed pod body with metadata.generateName, 32 clients, h2c, to
the leader; a few 409s from generateName collisions are topped up).

LIST: a Python client over HTTP/1.1 keep-alive (http.client, one connection) reads
all pods of the namespace from the LEADER, as kubectl does without a
resourceVersion (a consistent read): unpaged (one response) and paged (limit=500,
following `continue` until it is empty), each with plain JSON and with kubectl's
Table Accept header. The time of a list is from the first request to the last byte
of the last page; the client reads the bodies and finds `continue` with a regex
over the head of each page (no JSON parsing inside the timed loop); afterwards every
list is parsed and must hold exactly N distinct pods. Also per page latency, the
leader's CPU per list (utime+stime from /proc), the bytes of a full list, and the
Raft elections during each case (the highest triarch_raft_term of the replicas
before and after; the leader is looked up again before every case). The GETs run
first and the Table lists last, as those stall the leader. The unpaged JSON list is
repeated with h2load (h2c, 2^30 flow-control windows) as a cross-check of the
client's cost.

GET: h2load GETs one pod for a fixed time at a paced rate (--rps; one GET in
flight, so a slow GET lowers the rate) with exact percentiles from its --log-file, first on an idle cluster, then while a second h2load creates 1 KiB
ConfigMaps on the leader at a paced 1,000 writes/s (10 clients x 100/s). GETs go to
the leader and to a follower, JSON and Table, consistent (no resourceVersion: the
replica confirms the leader's commit index first) and resourceVersion=0 (served
locally at once). The write rate achieved during each GET run is the leader's
triarch_store_revision delta over the run's wall time.
"""

import argparse
import json
import os
import re
import subprocess
import sys
import tempfile
import time
import http.client
import urllib.parse

import common
from common import fmt, log

PODS = "/api/v1/namespaces/default/pods"
TABLE_ACCEPT = ("application/json;as=Table;v=v1;g=meta.k8s.io,"
                "application/json;as=Table;v=v1beta1;g=meta.k8s.io,application/json")
ACCEPTS = [("JSON", "application/json"), ("Table", TABLE_ACCEPT)]
N_PODS = 10000
CREATE_CLIENTS = 32
CREATE_ROUNDS = 5            # top-up rounds for generateName collisions (409)
PAGE_LIMIT = 500
MAX_PAGES = 1000             # bounds the continue loop
LIST_REPS = 20               # lists per (paging, accept) case
HTTP_TIMEOUT_S = 60
GET_RPS = 500                # paced GETs per second (one client)
GET_SECONDS = 10
CHURN_RPS = 1000             # background writes per second
CHURN_CLIENTS = 10
CHURN_SLACK_S = 30           # extra churn beyond the planned GET runs
WINDOW_BITS = 30            # h2load flow-control windows: 2^30, not 64 KiB (big lists)
CONTINUE_RE = re.compile(rb'"continue":"([^"]*)"')
HEAD_BYTES = 4096            # list metadata comes before items/rows


def pod_body(path):
    """A small Deployment-style pod: labels, one container with a port, env, requests."""
    body = {"apiVersion": "v1", "kind": "Pod",
            "metadata": {"generateName": "bench-", "labels": {"app": "bench", "tier": "web"}},
            "spec": {"containers": [{
                "name": "web", "image": "registry.k8s.io/nginx:1.25",
                "ports": [{"containerPort": 80, "protocol": "TCP"}],
                "env": [{"name": "MODE", "value": "bench"}, {"name": "LEVEL", "value": "3"}],
                "resources": {"requests": {"cpu": "100m", "memory": "128Mi"},
                              "limits": {"memory": "256Mi"}}}]}}
    with open(path, "w") as f:
        json.dump(body, f, separators=(",", ":"))
    return os.path.getsize(path)


def count_pods(url):
    """Distinct pod names in the namespace (one unpaged list, parsed)."""
    conn = _conn(url)
    try:
        conn.request("GET", PODS, headers={"Accept": "application/json"})
        r = conn.getresponse()
        return len({i["metadata"]["name"] for i in json.loads(r.read())["items"]})
    finally:
        conn.close()


def create_pods(t, leader, body, n):
    url = t.plain(leader) + PODS
    have = 0
    for _ in range(CREATE_ROUNDS):
        need = n - have
        if need <= 0:
            break
        r = common.h2load(url, body, need, CREATE_CLIENTS)
        if "error" in r:
            raise RuntimeError(f"creating pods: {r['error']}")
        log(f"reads: created {r['ok']}/{need} pods at {r['rps_ok']:.0f}/s "
            f"(p99 {r['p99']:.1f} ms, other codes {r['other_codes']})")
        have = count_pods(t.plain(leader))
    if have != n:
        raise RuntimeError(f"wanted {n} pods, have {have}")
    return r


# ---------------------------------------------------------------- LIST

def _conn(url):
    u = urllib.parse.urlsplit(url)
    return http.client.HTTPConnection(u.hostname, u.port, timeout=HTTP_TIMEOUT_S)


def one_list(conn, accept, limit):
    """One full list; returns (seconds, [page seconds], [page bodies])."""
    pages, lat, cont = [], [], None
    t0 = time.monotonic()
    for _ in range(MAX_PAGES):
        q = []
        if limit:
            q.append(f"limit={limit}")
        if cont:
            q.append("continue=" + urllib.parse.quote(cont, safe=""))
        ts = time.monotonic()
        conn.request("GET", PODS + ("?" + "&".join(q) if q else ""),
                     headers={"Accept": accept})
        r = conn.getresponse()
        b = r.read()
        lat.append(time.monotonic() - ts)
        if r.status != 200:
            raise RuntimeError(f"list: HTTP {r.status}: {b[:300]!r}")
        pages.append(b)
        m = CONTINUE_RE.search(b[:HEAD_BYTES])
        cont = m.group(1).decode() if m else None
        if not cont:
            return time.monotonic() - t0, lat, pages
    raise RuntimeError(f"list did not end within {MAX_PAGES} pages")


def names_in(pages):
    names = []
    for b in pages:
        d = json.loads(b)
        if d.get("kind") == "Table":
            names += [row["cells"][0] for row in d["rows"]]
        else:
            names += [i["metadata"]["name"] for i in d["items"]]
    return names


def term(t):
    """The highest Raft term any replica reports (a change means an election)."""
    return max(t.metrics(n).get("triarch_raft_term", 0) for n in t.c.names if t.c.running(n))


def list_case(t, accept_name, accept, limit, reps, n):
    leader = current_leader(t)
    term0 = term(t)
    url = t.plain(leader)
    conn = _conn(url)
    pid = t.pid(leader)
    totals, page_lat, bad, size, npages = [], [], 0, 0, 0
    try:
        one_list(conn, accept, limit)  # warm-up (connection, caches)
        c0 = common.cpu_ticks(pid)
        for _ in range(reps):
            s, lat, pages = one_list(conn, accept, limit)
            totals.append(s * 1000)
            page_lat += [x * 1000 for x in lat]
            names = names_in(pages)
            if len(names) != n or len(set(names)) != n:
                bad += 1
            size, npages = sum(len(p) for p in pages), len(pages)
        cpu = (common.cpu_ticks(pid) - c0) / common.CLK_TCK
    finally:
        conn.close()
    totals.sort()
    page_lat.sort()
    row = {"case": f"{'limit=%d pages' % limit if limit else 'unpaged'}, {accept_name}",
           "reps": reps, "p50": common.percentile(totals, 50),
           "p99": common.percentile(totals, 99), "max": totals[-1],
           "page_p50": common.percentile(page_lat, 50) if limit else None,
           "page_p99": common.percentile(page_lat, 99) if limit else None,
           "pages": npages, "bytes": size, "cpu_ms": cpu * 1000 / reps, "bad": bad,
           "target": leader, "elections": term(t) - term0, "leader_after": current_leader(t)}
    log(f"reads: LIST {row['case']}: p50 {row['p50']:.1f} ms p99 {row['p99']:.1f} ms, "
        f"{npages} pages, {size} B, leader CPU {row['cpu_ms']:.1f} ms/list, wrong {bad}, "
        f"list target {leader}, elections during {row['elections']:.0f}, leader after "
        f"{row['leader_after']}")
    return row


def h2load_get(url, n, c, rps, accept, seconds=None, timeout=common.H2LOAD_TIMEOUT_S):
    """h2load GETs of url: n requests, or for `seconds` (paced at rps per client if
    rps); exact percentiles. With seconds, n is what h2load logged."""
    fd, log_path = tempfile.mkstemp(prefix="h2load-", suffix=".log")
    os.close(fd)
    argv = [common.H2LOAD, "-c", str(c), "-m", "1", "-t", "1", "-w", str(WINDOW_BITS),
            "-W", str(WINDOW_BITS), "-H", f"Accept: {accept}", "--log-file", log_path, url]
    argv[1:1] = ["-D", str(seconds)] if seconds else ["-n", str(n)]
    if rps:
        argv[1:1] = ["--rps", str(rps)]
    try:
        r = common._h2load_parse(argv, n, c, 1, log_path, timeout)
        if seconds and "error" not in r:
            r["n"] = r["ok"] + sum(r["other_codes"].values())
            r["failed"] = r["n"] - r["ok"]
        return r
    finally:
        if os.path.exists(log_path):
            os.unlink(log_path)


def current_leader(t):
    return harness_wait(lambda: t.leader())


def harness_wait(fn):
    return common.harness.wait_until("a leader", fn, common.READY_TIMEOUT_S)


def h2load_list_case(t, reps, n):
    leader = current_leader(t)
    r = h2load_get(t.plain(leader) + PODS, reps, 1, 0, "application/json")
    r["case"] = "unpaged, JSON (h2load, h2c)"
    log(f"reads: LIST {r['case']}: p50 {fmt(r.get('p50'))} ms p99 {fmt(r.get('p99'))} ms")
    return r


# ---------------------------------------------------------------- GET

def revision(t, name):
    return t.metrics(name).get("triarch_store_revision", 0)


def get_case(t, leader, target, accept_name, accept, rv0, seconds):
    name = t.target_pod
    url = t.plain(target) + PODS + "/" + name + ("?resourceVersion=0" if rv0 else "")
    r0, t0 = revision(t, leader), time.monotonic()
    r = h2load_get(url, 0, 1, GET_RPS, accept, seconds=seconds)
    r["writes_per_s"] = (revision(t, leader) - r0) / (time.monotonic() - t0)
    r["case"] = (f"{'leader' if target == leader else 'follower'}, {accept_name}, "
                 f"{'resourceVersion=0' if rv0 else 'consistent'}")
    if "error" in r:
        log(f"reads: GET {r['case']}: FAILED {r['error'][-300:]}")
    else:
        log(f"reads: GET {r['case']}: p50 {r['p50']:.2f} p99 {r['p99']:.2f} max {r['max']:.1f} ms, "
            f"ok {r['ok']}/{r['n']}, writes/s during run {r['writes_per_s']:.0f}")
    return r


def get_runs(t, churn, root, seconds):
    leader = current_leader(t)
    follower = [n for n in t.c.names if n != leader][0]
    term0 = term(t)
    cases = [(leader, *ACCEPTS[0], False), (leader, *ACCEPTS[1], False),
             (follower, *ACCEPTS[0], False), (follower, *ACCEPTS[1], False),
             (leader, *ACCEPTS[0], True), (follower, *ACCEPTS[0], True)]
    proc = None
    if churn:
        body = os.path.join(root, "configmap.json")
        common.configmap_body(body)
        total = CHURN_RPS * (seconds * len(cases) + CHURN_SLACK_S)
        proc = subprocess.Popen([common.H2LOAD, "-n", str(total), "-c", str(CHURN_CLIENTS),
                                 "-m", "1", "-t", "1", "--rps", str(CHURN_RPS // CHURN_CLIENTS),
                                 "-d", body, "-H", "Content-Type: application/json",
                                 t.plain(leader) + common.CONFIGMAPS],
                                stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True)
        time.sleep(2)  # the paced writers reach their rate
    rows = []
    try:
        for target, an, acc, rv0 in cases:
            r = get_case(t, leader, target, an, acc, rv0, seconds)
            r["churn"] = churn
            r["elections"] = term(t) - term0
            rows.append(r)
    finally:
        if proc is not None:
            proc.kill()
            proc.wait(timeout=30)
    return rows


# ---------------------------------------------------------------- output

def print_results(a, size, create, lists, gets, metrics):
    print("## Reads: LIST and GET\n")
    print(f"Machine: {common.machine()}. Command: `python3 bench/reads.py "
          f"{' '.join(sys.argv[1:])}`. One fresh 3-replica cluster (fsync on, defaults); "
          f"{a.pods} pods in `default` created by h2load (pod body {size} B before defaulting, "
          f"{create['rps_ok']:.0f} creates/s at {CREATE_CLIENTS} clients). Lists from the leader, "
          "consistent (no resourceVersion), Python http.client over one HTTP/1.1 keep-alive "
          "connection; time = first request to last byte of the last page; every list checked "
          f"to hold exactly {a.pods} distinct pods.\n")
    print("| LIST | lists | p50 ms | p99 ms | max ms | pages | bytes per list | page p50 ms | "
          "page p99 ms | leader CPU ms/list | wrong lists | elections during the row |")
    print("|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|")
    for r in lists:
        if "error" in r:
            print(f"| {r['case']} | FAILED: {r['error'][:150]} | | | | | | | | | | |")
            continue
        print(f"| {r['case']} | {r.get('reps', r.get('ok'))} | {fmt(r['p50'])} | {fmt(r['p99'])} | "
              f"{fmt(r['max'])} | {r.get('pages', 1)} | {r.get('bytes', '-')} | "
              f"{fmt(r.get('page_p50'))} | {fmt(r.get('page_p99'))} | {fmt(r.get('cpu_ms'))} | "
              f"{r.get('bad', '-')} | {fmt(r.get('elections'), 0)} |")
    print()
    print(f"GET of one pod by h2load (h2c, one client, one GET in flight, paced at {GET_RPS}/s "
          f"at most, {a.get_seconds} s per row, exact percentiles). Churn: a second h2load POSTing 1 KiB ConfigMaps to the "
          f"leader, {CHURN_CLIENTS} clients x {CHURN_RPS // CHURN_CLIENTS}/s; the writes/s "
          "column is the leader's store revision delta over the row.\n")
    print("| GET | churn | GETs ok/sent | p50 ms | p99 ms | max ms | writes/s during | "
          f"gaps ≥{common.STALL_MS} ms between responses | elections so far |")
    print("|---|---|---:|---:|---:|---:|---:|---:|---:|")
    for r in gets:
        if "error" in r:
            print(f"| {r['case']} | {'yes' if r['churn'] else 'no'} | FAILED: {r['error'][:150]} "
                  "| | | | | | |")
            continue
        print(f"| {r['case']} | {'1,000/s' if r['churn'] else 'none'} | {r['ok']}/{r['n']} | "
              f"{r['p50']:.2f} | {r['p99']:.2f} | {r['max']:.1f} | {r['writes_per_s']:.0f} | "
              f"{r['gaps_over_stall']} | {r['elections']:.0f} |")
    print()
    print("Leader /metrics at the end: "
          f"store keys {metrics.get('triarch_store_keys')}, revision "
          f"{metrics.get('triarch_store_revision')}, store bytes "
          f"{metrics.get('triarch_store_size_bytes')}, rejected "
          f"{metrics.get('apiserver_rejected_requests_total')}\n")


def main():
    p = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    p.add_argument("--pods", type=int, default=N_PODS)
    p.add_argument("--list-reps", type=int, default=LIST_REPS)
    p.add_argument("--get-seconds", type=int, default=GET_SECONDS)
    p.add_argument("--bin-dir", default=os.environ["TRI_BIN_DIR"])
    a, _ = p.parse_known_args()
    lists, gets = [], []
    with common.TempRoot() as root:
        body = os.path.join(root, "pod.json")
        size = pod_body(body)
        t = common.Triarch(root).start()
        try:
            leader = t.leader()
            log(f"reads: leader {leader}; creating {a.pods} pods")
            create = create_pods(t, leader, body, a.pods)
            conn = _conn(t.plain(leader))
            conn.request("GET", PODS + "?limit=1")
            t.target_pod = json.loads(conn.getresponse().read())["items"][0]["metadata"]["name"]
            conn.close()
            for churn in (False, True):
                gets += get_runs(t, churn, root, a.get_seconds)
            for an, acc in ACCEPTS:  # Table last: it is the one that stalls the leader
                for limit in (0, PAGE_LIMIT):
                    lists.append(list_case(t, an, acc, limit, a.list_reps, a.pods))
            lists.append(h2load_list_case(t, a.list_reps, a.pods))
            metrics = t.metrics(current_leader(t))
        finally:
            t.close()
    print_results(a, size, create, lists, gets, metrics)
    failed = [r for r in lists + gets if "error" in r or r.get("bad") or r.get("failed")]
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
