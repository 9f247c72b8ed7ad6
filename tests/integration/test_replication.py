"""replication: a real 3-replica cluster on loopback keeps every acknowledged write.

- writes through each replica are visible on every replica;
- SIGKILL of the leader under concurrent writes through haproxy: every write that
  got a 201 survives, writes resume through the load balancer, the killed replica
  restarts from its data dir and converges;
- a watch opened on a follower before the kill sees every revision, in order, with
  no gap or duplicate, across the leader change;
- a replica whose data dir was wiped, restarted with its original flags, refuses to
  bootstrap a new cluster and does not rejoin under its old identity.
"""

import http.client
import json
import os
import sys
import threading
import time
import urllib.parse

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import harness  # noqa: E402
from harness import Cluster, TestFailure, check, wait_until  # noqa: E402

FLAGS = ["--election-timeout-ms", "300", "--heartbeat-ms", "50", "--snapshot-threshold", "256",
         "--snapshot-trailing", "64"]
NS_PATH = "/api/v1/namespaces/default/configmaps"
WRITERS = 4
RESUME_ACKS = 40      # acknowledged writes after the kill before the writers stop
WRITE_WINDOW_S = 60   # bound on the whole write phase


def cm(name, value="v"):
    return {"apiVersion": "v1", "kind": "ConfigMap", "metadata": {"name": name},
            "data": {"k": value}}


def names_on(c, replica):
    """Names of configmaps in default, read linearizably from one replica."""
    st, _, body = c.request("GET", c.api_url(replica) + NS_PATH)
    if st != 200:
        raise TestFailure(f"list on {replica}: expected 200 got {st}: {body[:200]!r}")
    doc = json.loads(body)
    return {i["metadata"]["name"]: i["metadata"]["resourceVersion"] for i in doc["items"]}


def writes_through_each_replica(c):
    for r in c.names:
        st, _, body = c.request("POST", c.api_url(r) + NS_PATH, cm(f"via-{r}"))
        check(f"create through {r}", 201, st, c)
    for r in c.names:
        got = names_on(c, r)
        for w in c.names:
            check(f"via-{w} visible on {r}", True, f"via-{w}" in got, c)


class Watcher(threading.Thread):
    """A raw watch on one replica from a resourceVersion, collecting events."""

    def __init__(self, c, replica, rv):
        super().__init__(daemon=True)
        self.c, self.replica, self.rv = c, replica, rv
        self.events, self.error, self.stop = [], None, False

    def run(self):
        u = urllib.parse.urlsplit(self.c.api_url(self.replica))
        conn = http.client.HTTPSConnection(u.hostname, u.port, timeout=120,
                                           context=self.c.client.ssl_context())
        try:
            conn.request("GET", f"{NS_PATH}?watch=1&resourceVersion={self.rv}"
                                f"&timeoutSeconds=110")
            resp = conn.getresponse()
            if resp.status != 200:
                self.error = f"watch status {resp.status}"
                return
            while not self.stop:
                line = resp.readline()
                if not line:
                    break
                if line.strip():
                    self.events.append(json.loads(line))
        except Exception as e:  # noqa: BLE001 - recorded and checked by the test
            self.error = repr(e)
        finally:
            conn.close()


def writer(c, prefix, acked, stop, errors):
    lb = f"https://{c.lb}"
    i = 0
    while not stop.is_set():
        name = f"{prefix}-{i}"
        i += 1
        try:
            st, _, body = c.request("POST", lb + NS_PATH, cm(name), timeout=5)
        except (OSError, http.client.HTTPException) as e:
            errors.append(repr(e))
            time.sleep(0.02)
            continue
        if st == 201:
            rv = json.loads(body)["metadata"]["resourceVersion"]
            acked.append((name, int(rv), time.monotonic()))
        elif st in (409,):
            # a retried create whose first attempt committed: it exists, so it counts
            acked.append((name, None, time.monotonic()))
        else:
            errors.append(st)
            time.sleep(0.02)


def kill_leader_under_writes(c):
    leader = c.wait_leader(30)
    follower = next(n for n in c.names if n != leader)
    start_rv = int(json.loads(c.request("GET", c.api_url(follower) + NS_PATH)[2])
                   ["metadata"]["resourceVersion"])
    w = Watcher(c, follower, start_rv)
    w.start()
    acked, errors, stop = [], [], threading.Event()
    threads = [threading.Thread(target=writer, args=(c, f"w{t}", acked, stop, errors),
                                daemon=True) for t in range(WRITERS)]
    for t in threads:
        t.start()
    wait_until("writes flowing", lambda: len(acked) >= 50, 30, c)
    c.kill(leader)
    killed_at = time.monotonic()
    deadline = killed_at + WRITE_WINDOW_S
    wait_until("writes resume through haproxy after the kill",
               lambda: sum(1 for a in acked if a[2] > killed_at) >= RESUME_ACKS or
               time.monotonic() > deadline, WRITE_WINDOW_S + 5, c)
    stop.set()
    for t in threads:
        t.join(30)
    after = sum(1 for a in acked if a[2] > killed_at)
    if after < RESUME_ACKS:
        raise TestFailure(f"writes after the leader kill: expected >= {RESUME_ACKS} got {after} "
                          f"(errors {errors[-5:]}) (logs in {c.dir})")
    print(f"killed leader {leader}: {len(acked)} writes acknowledged, {after} after the kill, "
          f"{len(errors)} failed attempts", flush=True)
    new_leader = c.wait_leader(30)
    check("a new leader differs from the killed one", True, new_leader != leader, c)

    c.start(leader)
    c.wait_ready(60)
    acked_names = {a[0] for a in acked}
    for r in c.names:
        got = names_on(c, r)
        missing = sorted(acked_names - set(got))
        check(f"acknowledged writes present on {r} (missing {missing[:5]})", 0, len(missing), c)

    # the follower's watch: every acknowledged create, revisions strictly increasing
    want_revs = {a[1] for a in acked if a[1] is not None}
    wait_until("the follower's watch delivered every acknowledged revision",
               lambda: want_revs <= {int(e["object"]["metadata"]["resourceVersion"])
                                     for e in w.events if e["type"] == "ADDED"} or w.error,
               30, c)
    w.stop = True
    check("watch error", None, w.error, c)
    revs = [int(e["object"]["metadata"]["resourceVersion"]) for e in w.events]
    check("watch revisions strictly increasing (no gap order issue, no duplicate)",
          True, all(a < b for a, b in zip(revs, revs[1:])), c)
    check("watch starts after its resourceVersion", True, not revs or revs[0] > start_rv, c)
    print(f"follower {follower} watch: {len(revs)} events", flush=True)
    missing = want_revs - set(revs)
    check(f"acknowledged revisions missing from the watch {sorted(missing)[:5]}", 0,
          len(missing), c)
    return leader


def wiped_replica_refuses(c, victim):
    c.wipe(victim)
    p = c.start(victim)
    try:
        code = p.wait(timeout=60)
    except Exception:  # noqa: BLE001
        raise TestFailure(f"wiped {victim} kept running instead of refusing (logs in {c.dir})")
    check(f"exit code of wiped {victim}", 1, code, c)
    with open(c.log_path(victim)) as f:
        log = f.read()
    check("the refusal says why", True, "refusing" in log and "cluster" in log, c)
    # the survivors still serve writes
    survivors = [n for n in c.names if n != victim]
    st, _, _ = c.request("POST", c.api_url(survivors[0]) + NS_PATH, cm("after-wipe"))
    check("write after the wiped replica refused", 201, st, c)
    for r in survivors:
        st, _, body = c.request("GET", c.api_url(r) + "/triarch/v1/status")
        members_ok = st == 200
        check(f"{r} status", True, members_ok, c)


def test_replication():
    with Cluster(n=3, extra_flags=FLAGS) as c:
        c.start_all()
        c.wait_ready(60)
        c.haproxy()
        writes_through_each_replica(c)
        killed = kill_leader_under_writes(c)
        victim = next(n for n in c.names if n != c.leader())
        wiped_replica_refuses(c, victim)
        del killed
        # graceful stop: exit 0, which under the sanitizer build also means
        # LeakSanitizer found nothing at exit
        for r in c.names:
            if c.running(r):
                check(f"exit code of {r} after SIGTERM", 0, c.stop(r), c)


harness.main(test_replication)
