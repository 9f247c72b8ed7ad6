"""Membership at runtime, as an operator does it with the admin CLI and the real
kubectl: `triarch member add` gives a new replica a fresh id and a join bundle, the
replica started with it catches up as a standby and becomes a voter, serves reads and
writes and survives a leader kill; `member remove` (of the leader: leadership moves
first) takes a replica out, which then stops and whose certificate the others refuse;
a wiped joiner cannot rejoin with its old id; a removed name can be added again with a
new id. Bad requests change nothing."""

import json
import os
import shutil
import signal
import stat
import subprocess
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import harness  # noqa: E402
from harness import Cluster, TestFailure, TestPKI, binary, check, triarch, wait_until  # noqa: E402

FLAGS = ["--election-timeout-ms", "300", "--heartbeat-ms", "50"]


def members(c):
    """{name: member} from GET /triarch/v1/members on any running replica."""
    for name in c.names:
        if not c.running(name):
            continue
        try:
            st, _, body = c.request("GET", c.api_url(name, timeout=0) + "/triarch/v1/members",
                                    timeout=5)
        except (OSError, TestFailure):
            continue
        if st == 200:
            return {m["name"]: m for m in json.loads(body)["members"]}
    return {}


def cli(c, *argv, expect=0):
    r = triarch("member", *argv, "--dir", c.dir)
    check(f"triarch member {' '.join(argv)}: exit {expect} (stderr {r.stderr.strip()[:300]!r})",
          expect, r.returncode, c)
    return r


def add_member(c, name):
    """`member add NAME` with fresh ports; the new replica is started and tracked."""
    peer, api = harness.free_ports(2)
    r = cli(c, "add", name, "--peer", f"127.0.0.1:{peer}", "--api", f"127.0.0.1:{api}")
    if name not in c.names:
        c.names.append(name)
    return r


def kubectl_ok(c, *argv):
    r = c.kubectl(*argv)
    check(f"kubectl {' '.join(argv)}: exit 0 (stderr {r.stderr.strip()[:300]!r})", 0,
          r.returncode, c)
    return r.stdout


def phase_add(c):
    kubectl_ok(c, "create", "configmap", "before-add", "--from-literal=k=v")
    r = add_member(c, "r4")
    bundle = os.path.join(c.dir, "r4", "join.json")
    check("add prints the bundle's path", True, bundle in r.stdout, c)
    check("join bundle is private (0600)", 0o600, stat.S_IMODE(os.stat(bundle).st_mode), c)
    with open(bundle) as f:
        b = json.load(f)
    check("bundle kind", "TriarchJoinBundle", b.get("kind"), c)
    check("bundle lists the four members", ["r1", "r2", "r3", "r4"],
          sorted(m["name"] for m in b["members"]), c)
    m = members(c)
    check("before it runs, r4 is a standby (not a voter: the quorum is unchanged)", "standby",
          m.get("r4", {}).get("role"), c)
    initial = {n: m[n]["id"] for n in ("r1", "r2", "r3")}
    check("r4's id is fresh", False, m["r4"]["id"] in initial.values(), c)
    check("r4's id is the bundle's", b["id"], m["r4"]["id"], c)
    c.start("r4")
    wait_until("r4 becomes a voter", lambda: members(c).get("r4", {}).get("role") == "voter", 60,
               c)
    c.wait_ready(60, names=["r4"])
    with open(c.kubeconfig) as f:
        text = f.read()
    kc = os.path.join(c.dir, "r4.kubeconfig")
    with open(kc, "w") as f:
        f.write(text.replace(f"server: https://{c.lb}", f"server: {c.api_url('r4')}"))
    r = subprocess.run([harness.KUBECTL, "--kubeconfig", kc, "get", "configmap", "before-add",
                        "-o", "jsonpath={.data.k}"], capture_output=True, text=True, timeout=60)
    check("r4 serves what was written before it joined", "v", r.stdout, c)
    r = subprocess.run([harness.KUBECTL, "--kubeconfig", kc, "create", "configmap", "via-r4"],
                       capture_output=True, text=True, timeout=60)
    check(f"a write through r4 (stderr {r.stderr.strip()[:200]!r})", 0, r.returncode, c)
    kubectl_ok(c, "get", "configmap", "via-r4")
    out = cli(c, "list").stdout
    check("member list shows four voters", 4, out.count(" voter "), c)
    return kc


def phase_leader_kill(c):
    leader = c.wait_leader()
    c.kill(leader)
    wait_until("a new leader among the other three of four voters",
               lambda: (c.leader() or leader) != leader, 30, c)
    kubectl_ok(c, "create", "configmap", f"after-kill-{leader}")
    c.start(leader)
    c.wait_ready(60)


def phase_remove_leader(c):
    leader = c.wait_leader()
    old_id = members(c)[leader]["id"]
    r = cli(c, "remove", leader)
    check("remove of the leader moves leadership first", True, "transferring" in r.stdout, c)
    p = c.procs[leader]
    wait_until(f"removed {leader} stops by itself", lambda: p.poll() is not None, 30, c)
    check(f"removed {leader} exits non-zero", True, p.returncode != 0, c)
    with open(c.log_path(leader)) as f:
        check("its log says it was removed", True, "was removed from the cluster" in f.read(), c)
    m = members(c)
    check(f"{leader} is no longer a member", False, leader in m, c)
    check("two voters remain (r4 went before)", 2,
          sum(1 for x in m.values() if x["role"] == "voter"), c)
    with open(os.path.join(c.dir, "cluster.json")) as f:
        names = [x["name"] for x in json.load(f)["members"]]
    check("cluster.json drops the removed member", False, leader in names, c)
    kubectl_ok(c, "create", "configmap", "after-remove")
    # Restarted with its old config, the removed member stops again.
    c.start(leader)
    wait_until(f"restarted {leader} stops again", lambda: c.procs[leader].poll() is not None, 30,
               c)
    c.names.remove(leader)
    return leader, old_id


def phase_restart_under_joiner(c):
    """With r4 leading, a restarted initial member must accept r4 (its certificate)
    before its store has caught up: it knows r4 from DATA-DIR/members."""
    cli(c, "transfer-leadership", "r4")
    wait_until("r4 leads", lambda: c.leader() == "r4", 30, c)
    c.kill("r1")
    c.start("r1")
    c.wait_ready(60, names=["r1"])
    check("r1 follows r4", "r4", (c.status("r1") or {}).get("leader"), c)


def phase_wiped_joiner(c):
    """r4 took part (voted, acknowledged appends); wiped, it must not rejoin as r4."""
    c.wipe("r4")
    c.start("r4")
    p = c.procs["r4"]
    wait_until("wiped r4 refuses to start", lambda: p.poll() is not None, 60, c)
    with open(c.log_path("r4")) as f:
        log = f.read()
    check("the refusal says it has been heard from before", True, "heard from this member before"
          in log, c)
    c.names.remove("r4")
    cli(c, "remove", "r4")


def phase_readd(c, removed, old):
    # Its old data dir holds the removed member's identity: a new member of the same
    # name with that dir is refused, so the operator deletes it first.
    peer, api = harness.free_ports(2)
    cli(c, "add", removed, "--peer", f"127.0.0.1:{peer}", "--api", f"127.0.0.1:{api}")
    c.names.append(removed)
    c.start(removed)
    p = c.procs[removed]
    wait_until(f"{removed} with the old data dir refuses to start", lambda: p.poll() is not None,
               30, c)
    with open(c.log_path(removed)) as f:
        check("the refusal names the old member's data", True,
              "belongs to an earlier member" in f.read(), c)
    shutil.rmtree(c.data_dir(removed))
    c.start(removed)
    wait_until(f"{removed} is a voter again",
               lambda: members(c).get(removed, {}).get("role") == "voter", 60, c)
    new = members(c)[removed]["id"]
    check(f"re-added {removed} has a new id", True, new != old, c)
    kubectl_ok(c, "get", "configmap", "after-remove")


def phase_bad_requests(c):
    url = c.api_url(c.wait_leader())
    before = members(c)

    def post(body, path="/triarch/v1/members", method="POST"):
        st, _, data = c.request(method, url + path, body=body, timeout=10)
        return st, json.loads(data) if data else {}

    name = next(iter(before))
    st, body = post({"name": name, "peer": "127.0.0.1:1"})
    check("adding an existing name: 409", 409, st, c)
    st, body = post({"name": "rx", "peer": "not-an-address"})
    check(f"a bad peer address: 400 ({body.get('message')})", 400, st, c)
    st, body = post({"name": "rx", "peer": before[name]["peer"]})
    check("a peer address in use: 409", 409, st, c)
    st, body = post(None, "/triarch/v1/members/nosuch", "DELETE")
    check("removing an unknown member: 404", 404, st, c)
    st, body = post(b"{", "/triarch/v1/members")
    check("a malformed body: 400", 400, st, c)
    check("nothing changed", sorted(before), sorted(members(c)), c)
    pki = TestPKI(c)
    cert = pki.issue("alice", "/CN=alice/O=devs")
    st, body = pki.request(url, "POST", "/triarch/v1/members", cert=cert,
                           body={"name": "ry", "peer": "127.0.0.1:2"})
    check("a user without rights cannot add members: 403", 403, st, c)
    st, body = pki.request(url, "GET", "/triarch/v1/members", cert=cert)
    check("nor list them: 403", 403, st, c)
    r = subprocess.run([binary("triarchd"), "--join", os.path.join(c.dir, "cluster.json"),
                        "--data-dir", os.path.join(c.dir, "junk")], capture_output=True,
                       text=True, timeout=30)
    check(f"triarchd --join with something else than a bundle: exit 2 ({r.stderr.strip()!r})", 2,
          r.returncode, c)
    check("and says so", True, "not a join bundle" in r.stderr, c)


def test_membership():
    with Cluster(3, extra_flags=FLAGS) as c:
        c.start_all()
        c.haproxy()
        c.wait_ready(60)
        phase_add(c)
        phase_leader_kill(c)
        phase_restart_under_joiner(c)
        phase_wiped_joiner(c)
        removed, old_id = phase_remove_leader(c)
        phase_readd(c, removed, old_id)
        phase_bad_requests(c)
        for n in c.names:
            if c.running(n):
                c.kill(n, signal.SIGTERM)


harness.main(test_membership)
