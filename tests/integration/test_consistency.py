"""consistency: what each kind of read promises, and how writes fail without quorum.

- a read at a resourceVersion the replica has not reached waits for it, then answers
  with data at least that new (a paused follower resumed mid-request);
- one the cluster never reaches answers 504 "Too large resource version", never
  older data and never 410;
- resourceVersion=0 reads are served locally, even without a quorum;
- without a quorum, a write fails fast with 503 (never proposed) or 504 (unknown),
  never 201, and /readyz turns 500.
"""

import json
import os
import signal
import sys
import threading
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import harness  # noqa: E402
from harness import Cluster, check, wait_until  # noqa: E402

FLAGS = ["--election-timeout-ms", "300", "--heartbeat-ms", "50"]
CM = "/api/v1/namespaces/default/configmaps"


def cm(name):
    return {"apiVersion": "v1", "kind": "ConfigMap", "metadata": {"name": name},
            "data": {"k": name}}


def create(c, replica, name):
    st, _, body = c.request("POST", c.api_url(replica) + CM, cm(name))
    check(f"create {name} through {replica}", 201, st, c)
    return int(json.loads(body)["metadata"]["resourceVersion"])


def lagging_follower_waits(c, leader, follower):
    c.kill(follower, signal.SIGSTOP)
    try:
        rv = 0
        for i in range(5):
            rv = create(c, leader, f"lag-{i}")
        result = {}

        def read():
            result["r"] = c.request("GET", f"{c.api_url(follower)}{CM}?resourceVersion={rv}",
                                    timeout=20)

        t = threading.Thread(target=read)
        t.start()
        time.sleep(0.3)  # the request is queued on the paused follower
    finally:
        c.kill(follower, signal.SIGCONT)
    t.join(20)
    st, _, body = result["r"]
    check("list at a resourceVersion the follower had not reached", 200, st, c)
    doc = json.loads(body)
    check("list resourceVersion not older than asked", True,
          int(doc["metadata"]["resourceVersion"]) >= rv, c)
    names = {i["metadata"]["name"] for i in doc["items"]}
    check("every write up to that resourceVersion listed", True,
          {f"lag-{i}" for i in range(5)} <= names, c)
    return rv


def too_large_rv(c, replica, rv):
    t0 = time.monotonic()
    st, hdrs, body = c.request("GET", f"{c.api_url(replica)}{CM}/lag-0?resourceVersion="
                               f"{rv + 1000000}", timeout=20)
    waited = time.monotonic() - t0
    check("GET at a resourceVersion never reached", 504, st, c)
    doc = json.loads(body)
    check("reason", "Timeout", doc.get("reason"), c)
    check("message says why", True, "Too large resource version" in doc.get("message", ""), c)
    check("it waited before answering", True, waited >= 1.0, c)
    causes = doc.get("details", {}).get("causes", [])
    check("cause type client-go looks for", True,
          any(x.get("reason") == "ResourceVersionTooLarge" for x in causes), c)
    st, _, _ = c.request("GET", f"{c.api_url(replica)}{CM}?resourceVersion={rv + 1000000}"
                         f"&resourceVersionMatch=NotOlderThan", timeout=20)
    check("list at a resourceVersion never reached", 504, st, c)


def no_quorum(c, survivor, others):
    for o in others:
        c.kill(o)
    t0 = time.monotonic()
    st, _, body = c.request("POST", c.api_url(survivor) + CM, cm("no-quorum"), timeout=30)
    took = time.monotonic() - t0
    check(f"write without quorum (got {body[:120]!r})", True, st in (503, 504), c)
    check("write without quorum fails fast (s)", True, took < 10, c)
    st, _, body = c.request("GET", f"{c.api_url(survivor)}{CM}?resourceVersion=0")
    check("resourceVersion=0 list served locally without quorum", 200, st, c)
    names = {i["metadata"]["name"] for i in json.loads(body)["items"]}
    check("the failed write is not there", False, "no-quorum" in names, c)
    wait_until("readyz 500 without a leader", lambda: not c.ready(survivor), 15, c)
    # a write attempted once the leader is surely gone is never proposed: 503
    st, hdrs, body = c.request("POST", c.api_url(survivor) + CM, cm("no-quorum-2"), timeout=30)
    check("write with no leader at all", 503, st, c)
    check("503 carries Retry-After", True, "Retry-After" in hdrs or "retry-after" in hdrs, c)
    for o in others:
        c.start(o)
    c.wait_ready(60)
    st, _, body = c.request("GET", f"{c.api_url(survivor)}{CM}")
    names = {i["metadata"]["name"] for i in json.loads(body)["items"]}
    check("the 503 write was never made", False, "no-quorum-2" in names, c)


def test_consistency():
    with Cluster(n=3, extra_flags=FLAGS) as c:
        c.start_all()
        c.wait_ready(60)
        leader = c.wait_leader(30)
        followers = [n for n in c.names if n != leader]
        rv = lagging_follower_waits(c, leader, followers[0])
        too_large_rv(c, followers[1], rv)
        no_quorum(c, leader, followers)


harness.main(test_consistency)
