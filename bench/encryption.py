"""Cost of encryption at rest: Secret creates and GETs with and without it, same run.

Four fresh 3-replica clusters one after the other (fsync on, defaults), in the order
off, aesgcm, aesgcm, off, identical but for encryption: "aesgcm" runs the configuration `triarch init` writes (Secrets
sealed with AES-256-GCM, identity last); "off" runs the same cluster with the
encryption-provider-config line removed from every triarchd.yaml (Secrets stored in
plaintext, as before this feature). On each:

- create: h2load POSTs one fixed Secret body (1 KiB data value, generateName, so
  each request creates a new Secret) to the leader's plain listener, h2c, one
  write in flight per client, at 1 and 16 clients;
- GET: h2load GETs one of those Secrets from the leader, at 1 and 16 clients, both
  consistent (no resourceVersion: read barrier, then the local store) and
  resourceVersion=0 (the local store at once: the decrypt is a larger share).

Latency percentiles are exact (every 2xx in h2load's --log-file); CPU per request is
utime+stime of the three server processes before and after a run. Figures as
Markdown tables on stdout (every run, then the means per mode side by side),
progress on stderr.

    python3 bench/encryption.py [--scale 0.5]
"""

import argparse
import base64
import json
import os
import re
import sys
import tempfile

import common
from common import fmt, log

SECRETS = "/api/v1/namespaces/default/secrets"
# Requests per run: each GET run lasts a second or more, so a pause of the shared
# machine does not decide the figure.
CREATE = {1: 2000, 16: 8000}
GETS = {1: 5000, 16: 30000}
GETS_RV0 = {1: 20000, 16: 60000}
WARMUP = 500
# Four clusters in ABBA order, so a change in the shared machine's load during the
# run weighs on both modes alike; the summary compares the means per mode.
ORDER = ["off", "aesgcm", "aesgcm", "off"]


def secret_body(path, value_bytes=common.VALUE_BYTES):
    body = {"apiVersion": "v1", "kind": "Secret", "metadata": {"generateName": "b-"},
            "type": "Opaque",
            "data": {"k": base64.b64encode(os.urandom(value_bytes)).decode()}}
    with open(path, "w") as f:
        json.dump(body, f, separators=(",", ":"))
    return os.path.getsize(path)


def h2load_get(url, n, c):
    fd, log_path = tempfile.mkstemp(prefix="h2load-", suffix=".log")
    os.close(fd)
    argv = [common.H2LOAD, "-n", str(n), "-c", str(c), "-m", "1", "-t", "1",
            "-H", "Accept: application/json", "--log-file", log_path, url]
    try:
        return common._h2load_parse(argv, n, c, 1, log_path, common.H2LOAD_TIMEOUT_S)
    finally:
        if os.path.exists(log_path):
            os.unlink(log_path)


def measured(label, fn, pids):
    before = common.cpu_seconds(pids)
    r = fn()
    after = common.cpu_seconds(pids)
    r["label"] = label
    cpu = sum(after[p] - before[p] for p in pids)
    r["cpu_us"] = cpu * 1e6 / r["ok"] if r.get("ok") else None
    if "error" in r:
        log(f"{label}: FAILED {r['error'][-300:]}")
    else:
        log(f"{label} c={r['c']}: {r['rps']:.0f} req/s ok={r['ok']}/{r['n']} "
            f"p50={r['p50']:.2f}ms p99={r['p99']:.2f}ms cpu/req={fmt(r['cpu_us'], 0)}us")
    return r


def drop_encryption(t):
    for name in t.c.names:
        path = os.path.join(t.c.dir, name, "triarchd.yaml")
        with open(path) as f:
            lines = [ln for ln in f if not ln.startswith("encryption-provider-config:")]
        with open(path, "w") as f:
            f.writelines(lines)


def one_cluster(root, mode, body, scale):
    rows = []
    t = common.Triarch(os.path.join(root, mode))
    if mode.startswith("off"):
        drop_encryption(t)
    t.start()
    try:
        leader = t.leader()
        url = t.plain(leader) + SECRETS
        pids = t.pids()
        common.h2load(url, body, WARMUP, 16)
        for c, n in CREATE.items():
            n = max(200, int(n * scale))
            rows.append(measured(f"{mode} / create", lambda: common.h2load(url, body, n, c),
                                 pids))
        st, _, raw = t.c.request("GET", t.c.api_url(leader) + SECRETS + "?limit=1")
        name = json.loads(raw)["items"][0]["metadata"]["name"]
        for rv0 in (False, True):
            get_url = url + "/" + name + ("?resourceVersion=0" if rv0 else "")
            kind = "GET rv=0" if rv0 else "GET"
            for c, n in (GETS_RV0 if rv0 else GETS).items():
                n = max(200, int(n * scale))
                rows.append(measured(f"{mode} / {kind}", lambda: h2load_get(get_url, n, c), pids))
        stored = stored_form(t, leader)
        log(f"{mode}: a stored Secret begins {stored!r}")
    finally:
        t.close()
    return rows


def stored_form(t, name):
    """The first bytes of a Secret as the data dir holds it (from a Raft segment)."""
    d = t.c.data_dir(name)
    for f in sorted(os.listdir(d)):
        with open(os.path.join(d, f), "rb") as fh:
            b = fh.read()
        m = re.search(rb"(k8s:enc:aesgcm:v1:[a-z0-9]+:|\{\"kind\":\"Secret\")", b)
        if m:
            return m.group(1).decode()
    return None


def table(rows):
    out = ["| cluster | encryption | request | clients | ok/sent | req/s | p50 ms | p99 ms | max ms | "
           "CPU µs/req (3 procs) |",
           "|---:|---|---|---:|---:|---:|---:|---:|---:|---:|"]
    for r in rows:
        mode, what = r["label"].split(" / ")
        if "error" in r:
            out.append(f"| {r['rep']} | {mode} | {what} | {r['c']} | FAILED: {r['error'][:100]} "
                       "| | | | | |")
            continue
        out.append(f"| {r['rep']} | {mode} | {what} | {r['c']} | {r['ok']}/{r['n']} | "
                   f"{r['rps_ok']:.0f} | "
                   f"{fmt(r['p50'], 2)} | {fmt(r['p99'], 2)} | {fmt(r['max'], 1)} | "
                   f"{fmt(r['cpu_us'], 0)} |")
    return "\n".join(out)


def summary(rows):
    """Per request kind and clients: the mean over the two clusters of each mode."""
    groups = {}
    for r in rows:
        if "error" not in r:
            mode, what = r["label"].split(" / ")
            groups.setdefault((what, r["c"], mode), []).append(r)

    def mean(rs, k):
        vals = [r[k] for r in rs if r.get(k) is not None]
        return sum(vals) / len(vals) if vals else float("nan")

    out = ["| request | clients | p50 ms off → aesgcm | p99 ms off → aesgcm | req/s off → aesgcm "
           "| CPU µs/req off → aesgcm |", "|---|---:|---|---|---|---|"]
    for (what, c, mode) in sorted(groups):
        if mode != "off" or (what, c, "aesgcm") not in groups:
            continue
        o, e = groups[(what, c, "off")], groups[(what, c, "aesgcm")]
        cells = []
        for k, nd in (("p50", 2), ("p99", 2), ("rps_ok", 0), ("cpu_us", 0)):
            a, b = mean(o, k), mean(e, k)
            cells.append(f"{a:.{nd}f} → {b:.{nd}f} ({(b / a - 1) * 100:+.0f}%)")
        out.append(f"| {what} | {c} | " + " | ".join(cells) + " |")
    return "\n".join(out)


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--scale", type=float, default=1.0)
    a = ap.parse_args()
    with common.TempRoot() as root:
        body = os.path.join(root, "secret.json")
        size = secret_body(body)
        log(f"encryption: Secret body {size} B")
        rows = []
        for i, mode in enumerate(ORDER):
            for r in one_cluster(root, f"{mode}-{i}", body, a.scale):
                r["label"] = r["label"].replace(f"{mode}-{i}", mode)
                r["rep"] = i
                rows.append(r)
    print("## Encryption at rest: Secret create and GET\n")
    print(f"Secret body {size} B (1 KiB data value, generateName), 3 replicas, fsync on, "
          "h2c to the leader's plain listener, h2load -m 1. `off`: no "
          "encryption-provider-config; `aesgcm`: the file `triarch init` writes. Four fresh "
          "clusters one after the other in one run, off / aesgcm / aesgcm / off.\n")
    print(table(rows))
    print()
    print(summary(rows))

if __name__ == "__main__":
    sys.exit(main())
