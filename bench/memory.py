"""Memory and restart: 100,000 ConfigMaps of 1 KiB in a 3-replica cluster.

Load: h2load POSTs the fixed generateName body to the leader's plain listener
(h2c, 64 clients) until 100,000 were created. Then, once every replica has
applied everything the leader committed:
  raw bytes: the sum of the compact JSON size of every stored object, read back
             with paginated LISTs (what the objects are, as the API returns them),
  RSS:       VmRSS (and VmHWM) of each triarchd from /proc/PID/status.
Restart: SIGKILL one follower, start it again from its data dir, and time from
the spawn to its /readyz answering 200 (polled every 10 ms on its plain
listener; the goal is under 1 s). RESTARTS times.
"""

import argparse
import json
import os
import sys
import time
import urllib.error
import urllib.parse
import urllib.request

import common
from common import fmt, log

OBJECTS = 100_000
LOAD_CLIENTS = 64
LIST_PAGE = 5000
RESTARTS = 3
POLL_S = 0.01
RESTART_TIMEOUT_S = 120
MIB = 1 << 20


def load(t, url, body, want):
    """Creates `want` objects; returns (seconds, writes/s, failures)."""
    t0 = time.monotonic()
    done, failed = 0, 0
    for _ in range(5):  # top up if some requests failed; bounded
        r = common.h2load(url, body, want - done, min(LOAD_CLIENTS, want - done), timeout=600)
        if "error" in r:
            raise RuntimeError(f"load: {r['error']}")
        done += r["ok"]
        failed += r["failed"]
        if done >= want:
            break
    el = time.monotonic() - t0
    return el, done / el, failed, done


def list_items(url, timeout=300):
    with urllib.request.urlopen(url, timeout=timeout) as r:
        return json.loads(r.read())


def raw_bytes(base):
    """(objects, sum of compact JSON sizes, how) over LISTs of configmaps: paginated,
    or, if the server refuses its own continue token, one unpaginated LIST."""
    n, total, cont = 0, 0, ""
    try:
        for _ in range(OBJECTS // LIST_PAGE + 100):
            q = f"?limit={LIST_PAGE}" + (f"&continue={urllib.parse.quote(cont)}" if cont else "")
            page = list_items(base + common.CONFIGMAPS + q)
            for item in page.get("items", []):
                n += 1
                total += len(json.dumps(item, separators=(",", ":")).encode())
            cont = page.get("metadata", {}).get("continue") or ""
            if not cont:
                return n, total, f"paginated LIST (limit={LIST_PAGE})"
    except urllib.error.HTTPError as e:
        how = (f"paginated LIST failed after {n} objects: HTTP {e.code} "
               f"{e.read()[:120].decode(errors='replace')}; one unpaginated LIST instead")
        log(f"memory: {how}")
    n, total = 0, 0
    for item in list_items(base + common.CONFIGMAPS).get("items", []):
        n += 1
        total += len(json.dumps(item, separators=(",", ":")).encode())
    return n, total, how


def wait_applied(t, timeout=120):
    def same():
        st = [t.status(n) for n in t.c.names]
        if any(s is None for s in st):
            return False
        commit = max(s["commitIndex"] for s in st)
        return all(s["appliedIndex"] >= commit for s in st)

    common.harness.wait_until("every replica applied everything", same, timeout, t.c)


def restart(t, name):
    """SIGKILL name, start it again; seconds from spawn to api.addr and to /readyz 200."""
    t.c.kill(name)
    t0 = time.monotonic()
    t.c.start(name)
    addr_path = os.path.join(t.c.data_dir(name), "api.addr")
    listening, ready = None, None
    deadline = t0 + RESTART_TIMEOUT_S
    while time.monotonic() < deadline and ready is None:
        if listening is None and os.path.exists(addr_path):
            listening = time.monotonic() - t0
        if listening is not None and t.ready(name, timeout=1):
            ready = time.monotonic() - t0
            break
        if not t.c.running(name):
            break
        time.sleep(POLL_S)
    return listening, ready


def main():
    p = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    p.add_argument("--objects", type=int, default=OBJECTS)
    p.add_argument("--restarts", type=int, default=RESTARTS)
    a, _ = p.parse_known_args()
    out, err = {}, None
    with common.TempRoot() as root:
        body = os.path.join(root, "configmap.json")
        size = common.configmap_body(body)
        t = common.Triarch(root).start()
        try:
            leader = t.leader()
            base = t.plain(leader)
            rss0 = {n: common.proc_status(t.pid(n), "VmRSS") for n in t.c.names}
            log(f"memory: loading {a.objects} ConfigMaps ({size} B bodies) into {leader}")
            out["load"] = load(t, base + common.CONFIGMAPS, body, a.objects)
            log("memory: load {:.1f} s, {:.0f} writes/s, {} failed, {} created".format(
                *out["load"]))
            wait_applied(t)
            out["rows"] = []
            for n in t.c.names:
                pid = t.pid(n)
                m = t.metrics(n)
                out["rows"].append([n, "leader" if n == leader else "follower", rss0[n],
                                    common.proc_status(pid, "VmRSS"),
                                    common.proc_status(pid, "VmHWM"),
                                    m.get("triarch_store_size_bytes"),
                                    m.get("triarch_store_keys")])
            # After the RSS figures: a LIST of everything makes a large transient buffer.
            out["objects"], out["raw"], out["how"] = raw_bytes(base)
            for row in out["rows"]:
                row.append(common.proc_status(t.pid(row[0]), "VmRSS"))
            log(f"memory: {out['objects']} objects, raw {out['raw'] / MIB:.1f} MiB; " +
                ", ".join(f"{r[0]} RSS {r[3] / MIB:.0f} MiB" for r in out["rows"]))
            out["restarts"] = []
            for i in range(a.restarts):
                victim = [n for n in t.c.names if n != t.leader()][0]
                listening, ready = restart(t, victim)
                rss = common.proc_status(t.pid(victim), "VmRSS") if t.c.running(victim) else None
                out["restarts"].append((i + 1, victim, listening, ready, rss))
                log(f"restart {i + 1}: {victim} listening {fmt(listening, 3)} s, "
                    f"ready {fmt(ready, 3)} s")
                if ready is None:
                    break
        except Exception as e:
            err = f"{type(e).__name__}: {e}"
            log(f"memory: FAILED: {err}")
        finally:
            t.close()
    print("## Memory and restart\n")
    print(f"Machine: {common.machine()}. 3 replicas, default settings; {a.objects} ConfigMaps "
          f"POSTed ({size} B body: 1 KiB data value, generateName) with h2load -c "
          f"{LOAD_CLIENTS} -m 1 (h2c) to the leader.\n")
    if "load" in out:
        el, rate, failed, done = out["load"]
        print(f"Load: {done} created in {el:.1f} s ({rate:.0f} writes/s), {failed} failed "
              "requests.\n")
    if "raw" in out:
        print(f"Raw data: {out['objects']} objects, {out['raw']} bytes "
              f"({out['raw'] / MIB:.1f} MiB) as compact JSON "
              f"({out['raw'] / max(out['objects'], 1):.0f} B/object), read back by "
              f"{out['how']}.\n")
        print("| replica | role | VmRSS before load MiB | VmRSS loaded MiB | VmHWM MiB | "
              "RSS / raw | store_size_bytes MiB (metrics) | keys | VmRSS after the full "
              "LIST MiB |")
        print("|---|---|---:|---:|---:|---:|---:|---:|---:|")
        for n, role, r0, rss, hwm, sb, keys, rss2 in out["rows"]:
            print(f"| {n} | {role} | {r0 / MIB:.1f} | {rss / MIB:.1f} | {hwm / MIB:.1f} | "
                  f"{rss / out['raw']:.2f} | {fmt((sb or 0) / MIB, 1)} | {fmt(keys, 0)} | "
                  f"{rss2 / MIB:.1f} |")
        print()
    if out.get("restarts"):
        print("| restart | follower | spawn→listening (api.addr) ms | spawn→/readyz 200 ms | "
              "VmRSS after MiB |\n|---:|---|---:|---:|---:|")
        for i, v, li, rd, rss in out["restarts"]:
            print(f"| {i} | {v} | {fmt((li or float('nan')) * 1000, 0)} | "
                  f"{fmt((rd or float('nan')) * 1000, 0)} | {fmt((rss or 0) / MIB, 1)} |")
        print()
    if err:
        print(f"FAILED: {err}\n")
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
