"""Watches, seen by the real kubectl and by a raw client: `kubectl get cm -w` (with
and without --output-watch-events, through haproxy) shows every change made
through another replica; a raw watch from an old resourceVersion replays the
events after it in order and nothing before; a watch with timeoutSeconds ends by
itself and carries bookmarks when asked; Table watches send one-row Tables; label
and field selectors turn an object leaving or entering the selection into DELETED
and ADDED; `kubectl get ns -w` follows the cluster-scoped namespaces; a
resourceVersion that left the history window (--history-events 50) gets one ERROR
event with a 410 Expired Status, then the stream ends; a watch of a quiet namespace
is not ended by more writes elsewhere than the window holds."""

import http.client
import json
import os
import queue
import re
import socket
import subprocess
import sys
import threading
import time
import urllib.parse

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import harness  # noqa: E402
from harness import KUBECTL, Cluster, TestFailure, check  # noqa: E402

HISTORY_EVENTS = 50
FLAGS = ["--election-timeout-ms", "300", "--heartbeat-ms", "50",
         "--history-events", str(HISTORY_EVENTS), "--watch-bookmark-ms", "500"]
READY_TIMEOUT_S = 60
EVENT_TIMEOUT_S = 15  # one change reaching a watcher, on a loaded sanitizer build
CM = "/api/v1/namespaces/default/configmaps"
TABLE_ACCEPT = ("application/json;as=Table;v=v1;g=meta.k8s.io,"
                "application/json;as=Table;v=v1beta1;g=meta.k8s.io,application/json")


# ---------- kubectl in the background ----------

class KubectlWatch:
    """`kubectl <argv>` running in the background; stdout read line by line."""

    def __init__(self, c, *argv):
        self.c = c
        self.argv = argv
        cache = os.path.join(c.dir, "kube-cache")
        self.proc = subprocess.Popen([KUBECTL, "--kubeconfig", c.kubeconfig, "--cache-dir", cache,
                                      *argv], stdin=subprocess.DEVNULL, stdout=subprocess.PIPE,
                                     stderr=subprocess.PIPE, text=True,
                                     preexec_fn=harness._child_setup)
        self.lines = queue.Queue()
        self.seen = []
        self.stderr = []
        threading.Thread(target=self._pump, args=(self.proc.stdout, self.lines), daemon=True).start()
        threading.Thread(target=self._drain, daemon=True).start()

    @staticmethod
    def _pump(f, q):
        for line in f:
            q.put(line.rstrip("\n"))
        q.put(None)

    def _drain(self):
        for line in self.proc.stderr:
            self.stderr.append(line)

    def expect(self, what, pattern, timeout=EVENT_TIMEOUT_S):
        """Reads lines until one matches pattern (a regex); TestFailure at the deadline."""
        deadline = time.monotonic() + timeout
        rx = re.compile(pattern)
        while True:
            left = deadline - time.monotonic()
            try:
                line = self.lines.get(timeout=max(left, 0.01)) if left > 0 else None
            except queue.Empty:
                line = None
            if line is not None:
                self.seen.append(line)
                if rx.search(line):
                    return line
                continue
            raise TestFailure(
                f"kubectl {' '.join(self.argv)}: {what}: expected a line matching {pattern!r} "
                f"within {timeout}s, got lines {self.seen!r}, exit {self.proc.poll()}, "
                f"stderr {''.join(self.stderr)[-2000:]!r} (logs in {self.c.dir})")

    def stop(self):
        if self.proc.poll() is None:
            self.proc.kill()
        self.proc.wait(timeout=10)


# ---------- raw watches ----------

class RawWatch:
    """A streaming GET ?watch=1 over HTTP/1.1 to one replica; events read one by one."""

    def __init__(self, c, replica, query, accept="application/json", path=CM):
        self.c = c
        u = urllib.parse.urlsplit(c.api_url(replica))
        self.conn = http.client.HTTPSConnection(u.hostname, u.port, timeout=EVENT_TIMEOUT_S,
                                                context=c.client.ssl_context())
        self.path = f"{path}?{query}"
        self.conn.request("GET", self.path, headers={"Accept": accept})
        self.resp = self.conn.getresponse()
        self.eof = False
        self.raw = []

    def next_event(self, deadline):
        """The next event as a dict, or None at the end of the stream or the deadline."""
        while not self.eof:
            left = deadline - time.monotonic()
            if left <= 0:
                return None
            self.conn.sock.settimeout(left)
            try:
                line = self.resp.readline()
            except (socket.timeout, TimeoutError):
                self.eof = True  # a timed-out socket file cannot be read again
                return None
            if not line:
                self.eof = True
                return None
            self.raw.append(line)
            if line.strip():
                try:
                    return json.loads(line)
                except ValueError:
                    raise TestFailure(f"watch {self.path}: expected one JSON event a line, "
                                      f"got {line!r} (logs in {self.c.dir})")
        return None

    def events(self, n, timeout=EVENT_TIMEOUT_S):
        """Up to n events, fewer if the stream ends or the deadline passes."""
        deadline = time.monotonic() + timeout
        out = []
        while len(out) < n:
            ev = self.next_event(deadline)
            if ev is None:
                break
            out.append(ev)
        return out

    def close(self):
        self.conn.close()


def rv_of(obj):
    return int(obj["metadata"]["resourceVersion"])


def summary(events):
    return [(e.get("type"), e.get("object", {}).get("metadata", {}).get("name")) for e in events]


# ---------- writes through one replica ----------

class Writer:
    def __init__(self, c, replica):
        self.c = c
        self.base = c.api_url(replica)

    def call(self, method, path, body=None, ctype=None, want=(200, 201)):
        headers = {"Content-Type": ctype} if ctype else None
        if body is not None and ctype:
            body = json.dumps(body)
        st, _, raw = self.c.request(method, self.base + path, body, headers)
        if st not in want:
            raise TestFailure(f"{method} {path}: expected {want} got {st} {raw[:500]!r} "
                              f"(logs in {self.c.dir})")
        return json.loads(raw)

    def create(self, name, data):
        return self.call("POST", CM, {"apiVersion": "v1", "kind": "ConfigMap",
                                      "metadata": {"name": name}, "data": data})

    def patch(self, name, data):
        return self.call("PATCH", f"{CM}/{name}", {"data": data}, "application/merge-patch+json")

    def delete(self, name):
        return self.call("DELETE", f"{CM}/{name}")

    def list_rv(self):
        return int(self.call("GET", CM)["metadata"]["resourceVersion"])


# ---------- steps ----------

def step_kubectl_watch(c, w):
    """Both kubectl watch forms, side by side, see a create, an update and a delete."""
    w.create("w0", {"k": "v"})  # a row in the initial list: once printed, the watch is on
    plain = KubectlWatch(c, "get", "cm", "-w", "-n", "default")
    events = KubectlWatch(c, "get", "cm", "-w", "--output-watch-events", "-n", "default")
    try:
        plain.expect("table header", r"^NAME\s+DATA\s+AGE$")
        plain.expect("the listed w0", r"^w0\s+1\s+\S+$")
        events.expect("table header", r"^EVENT\s+NAME\s+DATA\s+AGE$")
        events.expect("the listed w0 as ADDED", r"^ADDED\s+w0\s+1\s+\S+$")
        w.create("w1", {"a": "1"})
        plain.expect("w1 created", r"^w1\s+1\s+\S+$")
        events.expect("w1 ADDED", r"^ADDED\s+w1\s+1\s+\S+$")
        w.patch("w1", {"b": "2"})
        plain.expect("w1 updated (DATA 2)", r"^w1\s+2\s+\S+$")
        events.expect("w1 MODIFIED", r"^MODIFIED\s+w1\s+2\s+\S+$")
        w.delete("w1")
        plain.expect("w1 deleted (its last row printed again)", r"^w1\s+2\s+\S+$")
        events.expect("w1 DELETED", r"^DELETED\s+w1\s+2\s+\S+$")
        w.delete("w0")
        events.expect("w0 DELETED", r"^DELETED\s+w0\s+1\s+\S+$")
        for kw in (plain, events):
            check(f"kubectl {' '.join(kw.argv)} still running (no error event)", None,
                  kw.proc.poll(), c)
    finally:
        plain.stop()
        events.stop()


def step_replay(c, w, reader):
    rv0 = w.list_rv()
    w.create("r1", {"n": "1"})
    w.patch("r1", {"n": "2"})
    w.create("r2", {"n": "1"})
    w.delete("r1")
    rw = RawWatch(c, reader, f"watch=1&resourceVersion={rv0}&timeoutSeconds=10")
    try:
        check("raw watch status", 200, rw.resp.status, c)
        evs = rw.events(4)
    finally:
        rw.close()
    check(f"watch from rv {rv0} on {reader}: the four changes after it, in order",
          [("ADDED", "r1"), ("MODIFIED", "r1"), ("ADDED", "r2"), ("DELETED", "r1")], summary(evs), c)
    rvs = [rv_of(e["object"]) for e in evs]
    check(f"replayed resourceVersions increase and are after {rv0}", True,
          all(a < b for a, b in zip([rv0] + rvs, rvs)), c)
    check("the MODIFIED event carries the new data", {"n": "2"}, evs[1]["object"].get("data"), c)
    check("events carry kind/apiVersion", [("ConfigMap", "v1")] * 4,
          [(e["object"].get("kind"), e["object"].get("apiVersion")) for e in evs], c)
    # Starting at the third event's revision yields only what came after it.
    rw = RawWatch(c, reader, f"watch=1&resourceVersion={rvs[2]}&timeoutSeconds=2")
    try:
        later = rw.events(5, timeout=8)
    finally:
        rw.close()
    check(f"watch from rv {rvs[2]}: only the later DELETED r1", [("DELETED", "r1")],
          summary(later), c)
    w.delete("r2")


def step_timeout_and_bookmarks(c, w, reader):
    rv = w.list_rv()
    t0 = time.monotonic()
    rw = RawWatch(c, reader, f"watch=1&resourceVersion={rv}&allowWatchBookmarks=true"
                             f"&timeoutSeconds=2")
    try:
        evs = rw.events(100, timeout=10)
        ended = rw.eof
    finally:
        rw.close()
    took = time.monotonic() - t0
    check("watch with timeoutSeconds=2: the server ends the stream", True, ended, c)
    check("watch with timeoutSeconds=2 ended after 1.5-6 s", True, 1.5 <= took <= 6, c)
    check("only BOOKMARK events on an idle watch", True,
          all(e.get("type") == "BOOKMARK" for e in evs), c)
    check("at least one BOOKMARK (bookmark interval 500 ms, watch 2 s)", True, len(evs) >= 1, c)
    if evs:
        o = evs[0]["object"]
        check("bookmark object kind/apiVersion", ("ConfigMap", "v1"),
              (o.get("kind"), o.get("apiVersion")), c)
        check(f"bookmark resourceVersion is a revision >= {rv}", True,
              str(o.get("metadata", {}).get("resourceVersion", "")).isdigit() and rv_of(o) >= rv, c)
    # Without allowWatchBookmarks none is sent, and the timeout holds too.
    t0 = time.monotonic()
    rw = RawWatch(c, reader, f"watch=1&resourceVersion={rv}&timeoutSeconds=1")
    try:
        evs = rw.events(100, timeout=10)
        ended = rw.eof
    finally:
        rw.close()
    check("watch with timeoutSeconds=1 and no bookmarks asked: no events, ends", ([], True),
          (evs, ended), c)
    check("watch with timeoutSeconds=1 ended within 5 s", True, time.monotonic() - t0 <= 5, c)


def step_table_watch(c, w, reader):
    """A raw watch asking for Tables gets one-row Tables per event, as kubectl wants."""
    rv = w.list_rv()
    w.create("t1", {"a": "1", "b": "2"})
    rw = RawWatch(c, reader, f"watch=true&resourceVersion={rv}&timeoutSeconds=5", TABLE_ACCEPT)
    try:
        evs = rw.events(1)
    finally:
        rw.close()
    w.delete("t1")
    check("table watch: one ADDED event", ["ADDED"], [e.get("type") for e in evs], c)
    t = evs[0]["object"]
    check("table watch: object is a Table", "Table", t.get("kind"), c)
    check("table watch: one row", 1, len(t.get("rows", [])), c)
    check("table watch: cells NAME and DATA", ["t1", 2], t["rows"][0]["cells"][:2], c)
    check("table watch: row object is PartialObjectMetadata", "PartialObjectMetadata",
          t["rows"][0].get("object", {}).get("kind"), c)


def step_selector_transitions(c, w, reader):
    """A label-selected watch sees an object leave (DELETED) and come back (ADDED)."""
    rv = w.list_rv()
    w.call("POST", CM, {"apiVersion": "v1", "kind": "ConfigMap",
                        "metadata": {"name": "sel", "labels": {"app": "x"}}, "data": {}})
    w.call("POST", CM, {"apiVersion": "v1", "kind": "ConfigMap",
                        "metadata": {"name": "other", "labels": {"app": "z"}}, "data": {}})
    relabel = "application/merge-patch+json"
    w.call("PATCH", f"{CM}/sel", {"metadata": {"labels": {"app": "y"}}}, relabel)
    w.call("PATCH", f"{CM}/sel", {"metadata": {"labels": {"app": "x"}}}, relabel)
    w.call("PATCH", f"{CM}/sel", {"data": {"k": "v"}}, relabel)
    w.delete("sel")
    w.delete("other")
    rw = RawWatch(c, reader, f"watch=1&resourceVersion={rv}&labelSelector=app%3Dx&timeoutSeconds=3")
    try:
        evs = rw.events(10, timeout=10)
    finally:
        rw.close()
    check("labelSelector=app=x watch: leaving is DELETED, returning is ADDED",
          [("ADDED", "sel"), ("DELETED", "sel"), ("ADDED", "sel"), ("MODIFIED", "sel"),
           ("DELETED", "sel")], summary(evs), c)
    rw = RawWatch(c, reader, f"watch=1&resourceVersion={rv}&fieldSelector=metadata.name%3Dother"
                             f"&timeoutSeconds=2")
    try:
        evs = rw.events(10, timeout=10)
    finally:
        rw.close()
    check("fieldSelector=metadata.name=other watch", [("ADDED", "other"), ("DELETED", "other")],
          summary(evs), c)


def step_namespace_watch(c, w, reader):
    """`kubectl get ns -w --output-watch-events` on the cluster-scoped namespaces."""
    kw = KubectlWatch(c, "get", "ns", "-w", "--output-watch-events")
    try:
        kw.expect("the listed default namespace", r"^ADDED\s+default\s+Active\s+\S+$")
        w.call("POST", "/api/v1/namespaces", {"apiVersion": "v1", "kind": "Namespace",
                                              "metadata": {"name": "watched"}})
        kw.expect("namespace watched ADDED", r"^ADDED\s+watched\s+Active\s+\S+$")
        w.call("DELETE", "/api/v1/namespaces/watched")
        kw.expect("namespace watched DELETED", r"^DELETED\s+watched\s+\S+\s+\S+$")
    finally:
        kw.stop()


def step_too_old(c, w, reader):
    rv_old = w.list_rv()
    w.create("churn", {"i": "0"})
    for i in range(1, 2 * HISTORY_EVENTS + 5):
        w.patch("churn", {"i": str(i)})
    t0 = time.monotonic()
    rw = RawWatch(c, reader, f"watch=1&resourceVersion={rv_old}")
    try:
        check("too-old watch: HTTP status (the error comes as an event)", 200, rw.resp.status, c)
        evs = rw.events(5, timeout=10)
        ended = rw.eof
    finally:
        rw.close()
    check(f"watch from rv {rv_old}, {2 * HISTORY_EVENTS + 4} writes ago: one ERROR event",
          ["ERROR"], [e.get("type") for e in evs], c)
    st = evs[0]["object"]
    check("ERROR event: a Status 410 Expired", ("Status", "Failure", 410, "Expired"),
          (st.get("kind"), st.get("status"), st.get("code"), st.get("reason")), c)
    check("ERROR event message", True, "too old resource version" in st.get("message", ""), c)
    check("the stream ends after the ERROR event, at once", (True, True),
          (ended, time.monotonic() - t0 < 5), c)
    # kubectl on the same too-old watch prints the error and does not hang.
    r = subprocess.run([KUBECTL, "--kubeconfig", c.kubeconfig, "--cache-dir",
                        os.path.join(c.dir, "kube-cache"), "get", "--raw",
                        f"{CM}?watch=1&resourceVersion={rv_old}"],
                       capture_output=True, text=True, timeout=30)
    check("kubectl get --raw of a too-old watch prints the 410 event", True,
          '"code":410' in r.stdout.replace(" ", ""), c)
    w.delete("churn")


def step_quiet_watch(c, w, reader):
    """A watch of a namespace nobody writes to outlives more writes elsewhere than the
    history window holds (it had nothing to miss), and sees the next change in its
    namespace, not a 410."""
    w.call("POST", "/api/v1/namespaces", {"apiVersion": "v1", "kind": "Namespace",
                                          "metadata": {"name": "quiet"}})
    quiet = "/api/v1/namespaces/quiet/configmaps"
    # the leader publishes kube-root-ca.crt into every new namespace: wait for it
    harness.wait_until("kube-root-ca.crt in namespace quiet", lambda: c.request(
        "GET", c.api_url(reader) + quiet + "/kube-root-ca.crt")[0] == 200, EVENT_TIMEOUT_S, c)
    rw = RawWatch(c, reader, "watch=1&timeoutSeconds=60", path=quiet)
    try:
        check("the watch starts with the namespace's one object",
              [("ADDED", "kube-root-ca.crt")], summary(rw.events(1)), c)
        w.create("busy", {"i": "0"})
        for i in range(1, 2 * HISTORY_EVENTS + 5):
            w.patch("busy", {"i": str(i)})
        w.call("POST", quiet, {"apiVersion": "v1", "kind": "ConfigMap",
                               "metadata": {"name": "q1"}, "data": {}})
        evs = rw.events(1)
    finally:
        rw.close()
    check(f"watch of namespace quiet after {2 * HISTORY_EVENTS + 4} writes in default: "
          "its own next change", [("ADDED", "q1")], summary(evs), c)
    w.delete("busy")


def test_watch_kubectl():
    with Cluster(n=3, extra_flags=FLAGS) as c:
        c.start_all()
        c.wait_ready(READY_TIMEOUT_S)
        c.haproxy()
        leader = c.wait_leader(READY_TIMEOUT_S)
        c.wait_settled(leader)  # the leader's bootstrap writes would eat the short history
        followers = [n for n in c.names if n != leader]
        w = Writer(c, followers[0])  # writes go through a follower (forwarded to the leader)
        reader = followers[1]        # raw watches read from the other follower
        failures = []
        steps = ((step_kubectl_watch, (c, w)), (step_replay, (c, w, reader)),
                 (step_timeout_and_bookmarks, (c, w, reader)), (step_table_watch, (c, w, reader)),
                 (step_selector_transitions, (c, w, reader)),
                 (step_namespace_watch, (c, w, reader)),
                 (step_quiet_watch, (c, w, reader)),
                 (step_too_old, (c, w, reader)))
        for fn, a in steps:
            try:
                fn(*a)
            except TestFailure as e:
                failures.append(f"{fn.__name__}: {e}")
            except (KeyError, TypeError, ValueError, IndexError, OSError,
                    http.client.HTTPException) as e:
                failures.append(f"{fn.__name__}: {type(e).__name__}: {e} (logs in {c.dir})")
        if failures:
            raise TestFailure(f"{len(failures)} step(s) failed:\n" + "\n".join(failures))


harness.main(test_watch_kubectl)
