"""Strategic merge patch and server-side apply throughput on a 50-container pod.

One fresh 3-replica cluster (fsync on, defaults). Each client owns one pod of 50
containers (name, image, a port, two env vars, requests/limits: about 11 KiB of
JSON once defaulted, with managedFields) and sends, one request in flight at a
time, over its own HTTP/1.1 keep-alive connection to the LEADER's plain listener:

- strategic merge patch: PATCH `application/strategic-merge-patch+json`
  `{"spec":{"containers":[{"name":"cK","image":"...:vI"}]}}` — one container's
  image, a different container and tag every request (every PATCH is a real write);
- server-side apply: PATCH `application/apply-patch+yaml?fieldManager=bench` with
  the whole pod (the JSON form kubectl sends) in which one container's image
  differs from the previous apply. The pods for apply are created by a first apply
  of the same manager, so no field has another owner and nothing conflicts.

At 1 and 16 clients, and 16 clients on ONE pod (every patch of that pod races the
others: the server's read-modify-compare-and-swap loop retries). Requests/s is 2xx
over the wall time of the run; p50/p99/max exact over every request; CPU µs per
request is utime+stime of the leader (and of all three replicas) from /proc over
the run. Afterwards every pod must show the image of its client's last request
(the one-pod case: one of the images sent last). The client is Python
(http.client in threads); its own cost is on the same 2 cores.
"""

import argparse
import json
import os
import sys
import threading
import time
import http.client
import urllib.parse

import common
import perf_breakdown as prof
from common import fmt, log

CONTAINERS = 50
NS = "default"
PODS = f"/api/v1/namespaces/{NS}/pods"
HTTP_TIMEOUT_S = 30
REQUESTS = {1: 500, 16: 4000}   # per run, all clients together
ONE_POD_REQUESTS = 400          # 16 clients on one pod: retries make it slow
PROFILE_DELAY_S = 2
PROFILE_SECONDS = 5
RUN_TIMEOUT_S = 300
CLIENTS = [1, 16]


def image(k, tag):
    return f"registry.k8s.io/bench/app-{k}:{tag}"


def pod(name, tags):
    cs = [{"name": f"c{k}", "image": image(k, tags[k]),
           "ports": [{"containerPort": 8000 + k, "protocol": "TCP"}],
           "env": [{"name": "INDEX", "value": str(k)}, {"name": "MODE", "value": "bench"}],
           "resources": {"requests": {"cpu": "10m", "memory": "16Mi"},
                         "limits": {"memory": "32Mi"}}}
          for k in range(CONTAINERS)]
    return {"apiVersion": "v1", "kind": "Pod",
            "metadata": {"name": name, "labels": {"app": "patch-bench"}},
            "spec": {"containers": cs}}


def conn_for(url):
    u = urllib.parse.urlsplit(url)
    return http.client.HTTPConnection(u.hostname, u.port, timeout=HTTP_TIMEOUT_S)


def send(conn, method, path, body, ctype):
    conn.request(method, path, body=body, headers={"Content-Type": ctype,
                                                   "Accept": "application/json"})
    r = conn.getresponse()
    return r.status, r.read()


def make_pods(url, kind, names):
    """POST (smp) or first apply (ssa) of every pod; returns {name: [tags]}."""
    conn = conn_for(url)
    state = {}
    try:
        for name in names:
            tags = ["v0"] * CONTAINERS
            body = json.dumps(pod(name, tags))
            if kind == "smp":
                st, b = send(conn, "POST", PODS, body, "application/json")
                ok = st == 201
            else:
                st, b = send(conn, "PATCH", f"{PODS}/{name}?fieldManager=bench", body,
                             "application/apply-patch+yaml")
                ok = st in (200, 201)
            if not ok:
                raise RuntimeError(f"create {kind} pod {name}: HTTP {st} {b[:300]!r}")
            state[name] = tags
    finally:
        conn.close()
    return state


def client(url, kind, name, tags, lock, seq, n_total, lat, errs, last):
    """Sends patches of one pod until the shared sequence reaches n_total."""
    conn = conn_for(url)
    tags = list(tags)
    try:
        while True:
            with lock:
                i = seq[0]
                seq[0] += 1
            if i >= n_total:
                return
            k, tag = i % CONTAINERS, f"v{i + 1}"
            tags[k] = tag
            if kind == "smp":
                body = json.dumps({"spec": {"containers": [{"name": f"c{k}",
                                                            "image": image(k, tag)}]}})
                path, ctype = f"{PODS}/{name}", "application/strategic-merge-patch+json"
            else:
                body = json.dumps(pod(name, tags))
                path, ctype = f"{PODS}/{name}?fieldManager=bench", "application/apply-patch+yaml"
            t0 = time.monotonic()
            try:
                st, b = send(conn, "PATCH", path, body, ctype)
            except (OSError, http.client.HTTPException) as e:
                errs.append(f"{type(e).__name__}: {e}")
                conn.close()
                conn = conn_for(url)
                continue
            dt = (time.monotonic() - t0) * 1000
            if st == 200:
                lat.append(dt)
                with lock:
                    last[name] = (i, k, tag)
            else:
                errs.append(f"HTTP {st}: {b[:200]!r}")
    finally:
        conn.close()


def check_pods(url, last, one_pod):
    """Each pod carries the image of its last patch; returns the number that do not."""
    conn = conn_for(url)
    bad = 0
    try:
        for name, (i, k, tag) in last.items():
            st, b = send(conn, "GET", f"{PODS}/{name}", None, "application/json")
            if st != 200:
                bad += 1
                continue
            imgs = {c["name"]: c["image"] for c in json.loads(b)["spec"]["containers"]}
            if len(imgs) != CONTAINERS:
                bad += 1
            elif not one_pod and imgs[f"c{k}"] != image(k, tag):
                bad += 1
    finally:
        conn.close()
    return bad


def one_run(t, leader, kind, clients, one_pod, n, tagbase, profile_to=None):
    url = t.plain(leader)
    names = [f"{kind}-{tagbase}-{j}" for j in range(1 if one_pod else clients)]
    state = make_pods(url, kind, names)
    lock, seq, lat, errs, last = threading.Lock(), [0], [], [], {}
    pids = t.pids()
    lpid = t.pid(leader)
    c0 = common.cpu_seconds(pids)
    t0 = time.monotonic()
    ths = [threading.Thread(target=client, daemon=True,
                            args=(url, kind, names[j % len(names)], state[names[j % len(names)]],
                                  lock, seq, n, lat, errs, last))
           for j in range(clients)]
    for th in ths:
        th.start()
    prof_th = None
    if profile_to is not None:
        def sample():
            time.sleep(PROFILE_DELAY_S)
            profile_to["error"] = prof.record(lpid, PROFILE_SECONDS, profile_to["path"])
        prof_th = threading.Thread(target=sample, daemon=True)
        prof_th.start()
    for th in ths:
        th.join(timeout=RUN_TIMEOUT_S)
    elapsed = time.monotonic() - t0
    if prof_th is not None:
        prof_th.join(timeout=PROFILE_SECONDS + 60)
    c1 = common.cpu_seconds(pids)
    if any(th.is_alive() for th in ths):
        errs.append(f"run did not finish in {RUN_TIMEOUT_S} s")
        seq[0] = n  # the stragglers stop at their next request
    lat.sort()
    ok = len(lat)
    row = {"kind": kind, "clients": clients, "one_pod": one_pod, "n": n, "ok": ok,
           "errors": len(errs), "first_error": errs[0] if errs else "",
           "rps": ok / elapsed if elapsed > 0 else 0.0,
           "p50": common.percentile(lat, 50), "p99": common.percentile(lat, 99),
           "max": lat[-1] if lat else float("nan"),
           "cpu_leader": (c1[lpid] - c0[lpid]) * 1e6 / ok if ok else None,
           "cpu_all": sum(c1[p] - c0[p] for p in pids) * 1e6 / ok if ok else None,
           "bad_pods": check_pods(url, last, one_pod)}
    log(f"patch: {kind} c={clients}{' one pod' if one_pod else ''}: {row['rps']:.0f}/s ok "
        f"{ok}/{n} p50 {row['p50']:.2f} p99 {row['p99']:.2f} ms, leader "
        f"{fmt(row['cpu_leader'], 0)} µs/req, all {fmt(row['cpu_all'], 0)} µs/req, errors "
        f"{len(errs)} {row['first_error'][:120]}, wrong pods {row['bad_pods']}")
    return row


def print_results(a, rows, sizes, profile):
    print("## Patch and server-side apply\n")
    print(f"Machine: {common.machine()}. Command: `python3 bench/patch_apply.py "
          f"{' '.join(sys.argv[1:])}`. One fresh 3-replica cluster (fsync on, defaults); pods of "
          f"{CONTAINERS} containers ({sizes['smp']} B of JSON as stored and returned after a "
          f"patch, {sizes['ssa']} B for an applied one); Python http.client, HTTP/1.1 "
          "keep-alive to the leader, one request in flight per client; each client its own "
          "pod unless \"one pod\". Strategic merge: one container's image per PATCH. Apply: "
          "the whole pod (JSON as kubectl sends it, `application/apply-patch+yaml`, "
          "`fieldManager=bench`) with one image changed. Every request changes the object.\n")
    print("| request | clients | 2xx/sent | requests/s | p50 ms | p99 ms | max ms | "
          "leader CPU µs/req | 3 replicas CPU µs/req | errors | pods not as last patched |")
    print("|---|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|")
    for r in rows:
        what = "strategic merge patch" if r["kind"] == "smp" else "server-side apply"
        cl = f"{r['clients']}{', one pod' if r['one_pod'] else ''}"
        print(f"| {what} | {cl} | {r['ok']}/{r['n']} | {r['rps']:.0f} | {fmt(r['p50'], 2)} | "
              f"{fmt(r['p99'], 2)} | {fmt(r['max'], 1)} | {fmt(r['cpu_leader'], 0)} | "
              f"{fmt(r['cpu_all'], 0)} | {r['errors']}"
              f"{(' (' + r['first_error'][:80].replace('|', '/') + ')') if r['errors'] else ''} | "
              f"{r['bad_pods']} |")
    print()
    if profile:
        if profile.get("error"):
            print(f"perf profile: FAILED: {profile['error']}\n")
        elif "components" in profile:
            print(f"CPU profile of the leader during strategic merge patches at 16 clients (perf "
                  f"cpu-clock, {PROFILE_SECONDS} s, self time):\n")
            print("| component | % of leader CPU samples |\n|---|---:|")
            for k, v in profile["components"]:
                print(f"| {k} | {v:.1f} |")
            print("\n```\n" + "\n".join(profile["top"]) + "\n```\n")


def stored_size(t, leader, name):
    conn = conn_for(t.plain(leader))
    try:
        st, b = send(conn, "GET", f"{PODS}/{name}", None, "application/json")
        return len(b) if st == 200 else None
    finally:
        conn.close()


def main():
    p = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    p.add_argument("--scale", type=float, default=1.0, help="multiply request counts")
    p.add_argument("--profile", action="store_true",
                   help="perf the leader during strategic merge patches at 16 clients")
    p.add_argument("--bin-dir", default=os.environ["TRI_BIN_DIR"])
    a, _ = p.parse_known_args()
    rows, profile = [], None
    with common.TempRoot() as root:
        t = common.Triarch(root).start()
        try:
            leader = t.leader()
            log(f"patch: leader {leader}")
            run_no = 0
            for kind in ("smp", "ssa"):
                for clients, one_pod in [(c, False) for c in CLIENTS] + [(16, True)]:
                    run_no += 1
                    n = max(50, int((ONE_POD_REQUESTS if one_pod else REQUESTS[clients])
                                    * a.scale))
                    pt = None
                    if a.profile and kind == "smp" and clients == 16 and not one_pod:
                        profile = pt = {"path": os.path.join(root, "perf.data")}
                    rows.append(one_run(t, leader, kind, clients, one_pod, n, run_no, pt))
                    if pt is not None and not pt.get("error"):
                        pt.update(zip(("top", "components", "total"),
                                      prof.report(pt["path"], a.bin_dir)))
            sizes = {"smp": stored_size(t, leader, "smp-1-0"),
                     "ssa": stored_size(t, leader, f"ssa-{len(CLIENTS) + 2}-0")}
        finally:
            t.close()
    print_results(a, rows, sizes, profile)
    return 1 if any(r["errors"] or r["bad_pods"] or not r["ok"] for r in rows) else 0


if __name__ == "__main__":
    sys.exit(main())
