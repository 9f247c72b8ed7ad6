"""Bad input changes nothing and is answered the Kubernetes way: raw HTTPS requests
to one replica (malformed JSON and YAML, oversized bodies and objects, invalid
names and labels, stale resourceVersions, unknown paths, wrong methods, unknown
media types, bad selectors and resourceVersions) each get a `kind: Status` with
the right code and reason, and after each one the namespace's configmaps are
exactly what they were; kubectl through haproxy reports the same errors. Then a
replica restarted with --max-requests-inflight 1 sheds a burst of concurrent lists
with 429 TooManyRequests and Retry-After, while watches do not count against it."""

import http.client
import json
import os
import subprocess
import sys
import threading
import urllib.parse

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import harness  # noqa: E402
from harness import KUBECTL, Cluster, TestFailure, check  # noqa: E402

FLAGS = ["--election-timeout-ms", "300", "--heartbeat-ms", "50"]
READY_TIMEOUT_S = 60
NS = "bad"
CM = f"/api/v1/namespaces/{NS}/configmaps"
MIB = 1024 * 1024
JSON = {"Content-Type": "application/json"}
CONFLICT_MSG = ('Operation cannot be fulfilled on configmaps "s1": the object has been '
                'modified; please apply your changes to the latest version and try again')
BURST = 50          # concurrent lists fired at the limited replica
MANY = 100          # configmaps those lists return
WATCHES = 3
BIG_TRIES = 8       # kubectl uploads of an oversized object through haproxy


def cm(name, data=None, labels=None):
    md = {"name": name}
    if labels is not None:
        md["labels"] = labels
    return {"apiVersion": "v1", "kind": "ConfigMap", "metadata": md, "data": data or {}}


class Api:
    """Raw requests to one replica; the namespace's state before and after each."""

    def __init__(self, c, replica):
        self.c = c
        self.base = c.api_url(replica)

    def req(self, method, path, body=None, headers=None, timeout=30):
        if isinstance(body, (dict, list)):
            body = json.dumps(body)
            headers = {**JSON, **(headers or {})}
        return self.c.request(method, self.base + path, body, headers, timeout)

    def ok(self, method, path, body=None, headers=None, want=(200, 201)):
        st, _, raw = self.req(method, path, body, headers)
        if st not in want:
            raise TestFailure(f"{method} {path}: expected {want} got {st} {raw[:400]!r} "
                              f"(logs in {self.c.dir})")
        return json.loads(raw)

    def state(self):
        """(name, resourceVersion, data, labels) of every configmap in NS."""
        lst = self.ok("GET", CM)
        return sorted((i["metadata"]["name"], i["metadata"]["resourceVersion"],
                       json.dumps(i.get("data"), sort_keys=True),
                       json.dumps(i["metadata"].get("labels"), sort_keys=True))
                      for i in lst["items"])


def status_of(c, what, code, raw):
    try:
        st = json.loads(raw)
    except ValueError:
        raise TestFailure(f"{what}: expected a JSON Status body got {raw[:300]!r} "
                          f"(logs in {c.dir})")
    check(f"{what}: body kind/apiVersion/status/code", ("Status", "v1", "Failure", code),
          (st.get("kind"), st.get("apiVersion"), st.get("status"), st.get("code")), c)
    return st


def bad(c, api, what, method, path, body, headers, code, reason):
    """Sends one bad request: expects code and reason, and no change in NS."""
    before = api.state()
    try:
        st, _, raw = api.req(method, path, body, headers)
    except (OSError, http.client.HTTPException) as e:
        raise TestFailure(f"{what}: expected a {code} reply, got {type(e).__name__}: {e} "
                          f"(logs in {c.dir})")
    check(f"{what}: HTTP status (body {raw[:300]!r})", code, st, c)
    s = status_of(c, what, code, raw)
    check(f"{what}: reason", reason, s.get("reason"), c)
    check(f"{what}: configmaps of {NS} unchanged", before, api.state(), c)
    return s


# ---------- raw bad requests ----------

def step_bodies(c, api):
    bad(c, api, "malformed JSON", "POST", CM, '{"metadata": {"name": "x"', JSON, 400, "BadRequest")
    bad(c, api, "JSON array body", "POST", CM, "[1, 2]", JSON, 400, "BadRequest")
    bad(c, api, "empty body", "POST", CM, "", JSON, 400, "BadRequest")
    bad(c, api, "malformed YAML", "POST", CM, "metadata: {name: [x\n",
        {"Content-Type": "application/yaml"}, 400, "BadRequest")
    bad(c, api, "malformed protobuf", "POST", CM, b"k8s\x00\x0a\xff\xff",
        {"Content-Type": "application/vnd.kubernetes.protobuf"}, 400, "BadRequest")
    big = json.dumps(cm("big", {"x": "a" * (3 * MIB + 16)}))
    bad(c, api, "body over 3 MiB", "POST", CM, big, JSON, 413, "RequestEntityTooLarge")
    mid = json.dumps(cm("mid", {"x": "a" * (2 * MIB)}))
    bad(c, api, "configmap over 1.5 MiB (body under 3 MiB)", "POST", CM, mid, JSON, 413,
        "RequestEntityTooLarge")
    s1 = api.ok("GET", f"{CM}/s1")
    s1["data"] = {"x": "a" * (2 * MIB)}
    bad(c, api, "update making a configmap over 1.5 MiB", "PUT", f"{CM}/s1", json.dumps(s1), JSON,
        413, "RequestEntityTooLarge")
    bad(c, api, "merge patch making a configmap over 1.5 MiB", "PATCH", f"{CM}/s1",
        json.dumps({"data": {"x": "a" * (2 * MIB)}}),
        {"Content-Type": "application/merge-patch+json"}, 413, "RequestEntityTooLarge")
    bad(c, api, "wrong kind in the body", "POST", CM,
        json.dumps({"apiVersion": "v1", "kind": "Namespace", "metadata": {"name": "zz"}}), JSON,
        400, "BadRequest")
    bad(c, api, "body namespace differs from the URL's", "POST", CM,
        json.dumps({**cm("zz"), "metadata": {"name": "zz", "namespace": "other"}}), JSON, 400,
        "BadRequest")
    bad(c, api, "PUT whose body names another object", "PUT", f"{CM}/s1", json.dumps(cm("s2")),
        JSON, 400, "BadRequest")


def step_validation(c, api):
    s = bad(c, api, "invalid name Bad_Name", "POST", CM, json.dumps(cm("Bad_Name")), JSON, 422,
            "Invalid")
    d = s.get("details", {})
    check("Bad_Name: details.name/kind", ("Bad_Name", "ConfigMap"), (d.get("name"), d.get("kind")), c)
    check("Bad_Name: details.causes[].field", ["metadata.name"],
          [x.get("field") for x in d.get("causes", [])], c)
    check("Bad_Name: message", True, s.get("message", "").startswith(
        'ConfigMap "Bad_Name" is invalid: metadata.name: Invalid value: "Bad_Name"'), c)
    s = bad(c, api, "invalid label value", "POST", CM,
            json.dumps(cm("ok", labels={"k": "bad value!"})), JSON, 422, "Invalid")
    check("invalid label: details.causes[].field", ["metadata.labels"],
          [x.get("field") for x in s.get("details", {}).get("causes", [])], c)
    s = bad(c, api, "invalid label key", "POST", CM,
            json.dumps(cm("ok", labels={"-bad/key-": "v"})), JSON, 422, "Invalid")
    check("invalid label key: details.causes[].field", ["metadata.labels"],
          [x.get("field") for x in s.get("details", {}).get("causes", [])], c)
    bad(c, api, "data value not a string", "POST", CM, json.dumps(cm("ok", {"a": 1})), JSON, 422,
        "Invalid")
    bad(c, api, "invalid data key", "POST", CM, json.dumps(cm("ok", {"bad key!": "v"})), JSON, 422,
        "Invalid")
    bad(c, api, "merge patch adding an invalid label value", "PATCH",
        f"{CM}/s1", json.dumps({"metadata": {"labels": {"k": "bad value!"}}}),
        {"Content-Type": "application/merge-patch+json"}, 422, "Invalid")


def step_conflict(c, api):
    old = api.ok("GET", f"{CM}/s1")
    cur = json.loads(json.dumps(old))
    cur["data"] = {"v": "2"}
    api.ok("PUT", f"{CM}/s1", cur)  # a real change: the old resourceVersion is now stale
    stale = json.loads(json.dumps(old))
    stale["data"] = {"v": "stale"}
    s = bad(c, api, "PUT with a stale resourceVersion", "PUT", f"{CM}/s1", json.dumps(stale), JSON,
            409, "Conflict")
    check("stale PUT: message", CONFLICT_MSG, s.get("message"), c)
    check("stale PUT: details", ("s1", "configmaps"),
          (s.get("details", {}).get("name"), s.get("details", {}).get("kind")), c)
    s = bad(c, api, "DELETE with a stale resourceVersion precondition", "DELETE", f"{CM}/s1",
            json.dumps({"kind": "DeleteOptions", "apiVersion": "v1",
                        "preconditions": {"resourceVersion": old["metadata"]["resourceVersion"]}}),
            JSON, 409, "Conflict")
    s = bad(c, api, "DELETE with a wrong uid precondition", "DELETE", f"{CM}/s1",
            json.dumps({"preconditions": {"uid": "00000000-0000-0000-0000-000000000000"}}), JSON,
            409, "Conflict")
    bad(c, api, "create of an existing name", "POST", CM, json.dumps(cm("s2")), JSON, 409,
        "AlreadyExists")
    s = bad(c, api, "GET of a missing configmap", "GET", f"{CM}/nope", None, None, 404, "NotFound")
    check("missing configmap: message", 'configmaps "nope" not found', s.get("message"), c)
    bad(c, api, "DELETE of a missing configmap", "DELETE", f"{CM}/nope", None, None, 404, "NotFound")
    bad(c, api, "create in a missing namespace", "POST", "/api/v1/namespaces/nope/configmaps",
        json.dumps(cm("x")), JSON, 404, "NotFound")


def step_routes(c, api):
    bad(c, api, "unknown resource", "GET", f"/api/v1/namespaces/{NS}/widgets", None, None, 404,
        "NotFound")
    bad(c, api, "unknown group", "GET", "/apis/example.com/v1/widgets", None, None, 404, "NotFound")
    bad(c, api, "unknown version", "GET", f"/api/v9/namespaces/{NS}/configmaps", None, None, 404,
        "NotFound")
    bad(c, api, "unknown subresource", "GET", f"{CM}/s1/frobnicate", None, None, 404, "NotFound")
    bad(c, api, "PUT on a collection", "PUT", CM, json.dumps(cm("s1")), JSON, 405,
        "MethodNotAllowed")
    bad(c, api, "PATCH on a collection", "PATCH", CM, "{}",
        {"Content-Type": "application/merge-patch+json"}, 405, "MethodNotAllowed")
    bad(c, api, "POST to an object", "POST", f"{CM}/s1", json.dumps(cm("s1")), JSON, 405,
        "MethodNotAllowed")
    bad(c, api, "unknown Content-Type on create", "POST", CM, "name: x",
        {"Content-Type": "text/plain"}, 415, "UnsupportedMediaType")
    bad(c, api, "unknown Content-Type on patch", "PATCH", f"{CM}/s1", '{"data":{}}',
        {"Content-Type": "text/plain"}, 415, "UnsupportedMediaType")
    bad(c, api, "merge patch that is not JSON", "PATCH", f"{CM}/s1", "{data",
        {"Content-Type": "application/merge-patch+json"}, 400, "BadRequest")
    bad(c, api, "JSON patch that is not an array", "PATCH", f"{CM}/s1", '{"op":"add"}',
        {"Content-Type": "application/json-patch+json"}, 400, "BadRequest")


def step_query(c, api):
    s = bad(c, api, "invalid labelSelector", "GET", f"{CM}?labelSelector=x%20in%20(", None, None,
            400, "BadRequest")
    check("invalid labelSelector: message says so", True,
          "unable to parse requirement" in s.get("message", ""), c)
    bad(c, api, "invalid labelSelector a==b==c", "GET", f"{CM}?labelSelector=a%3D%3Db%3D%3Dc",
        None, None, 400, "BadRequest")
    s = bad(c, api, "unsupported fieldSelector field", "GET", f"{CM}?fieldSelector=spec.foo%3Dbar",
            None, None, 400, "BadRequest")
    check("unsupported fieldSelector: message", "field label not supported: spec.foo",
          s.get("message"), c)
    bad(c, api, "resourceVersion=abc on list", "GET", f"{CM}?resourceVersion=abc", None, None, 400,
        "BadRequest")
    bad(c, api, "resourceVersion=abc on get", "GET", f"{CM}/s1?resourceVersion=abc", None, None,
        400, "BadRequest")
    bad(c, api, "resourceVersion=abc on watch", "GET", f"{CM}?watch=1&resourceVersion=abc", None,
        None, 400, "BadRequest")
    bad(c, api, "invalid labelSelector on deletecollection", "DELETE",
        f"{CM}?labelSelector=x%20in%20(", None, None, 400, "BadRequest")
    bad(c, api, "invalid continue token", "GET", f"{CM}?limit=1&continue=bm9wZQ%3D%3D", None, None,
        400, "BadRequest")
    bad(c, api, "limit=abc", "GET", f"{CM}?limit=abc", None, None, 400, "BadRequest")


# ---------- kubectl ----------

class Kube:
    def __init__(self, c):
        self.c = c
        self.cfg = c.kubeconfig
        self.cache = os.path.join(c.dir, "kube-cache")

    def fails(self, api, what, *argv, input=None, expect=()):
        """Runs kubectl; it must fail, print each of expect on stderr, change nothing."""
        before = api.state()
        r = subprocess.run([KUBECTL, "--kubeconfig", self.cfg, "--cache-dir", self.cache, *argv],
                           capture_output=True, text=True, timeout=60, input=input)
        got = f"exit {r.returncode}, stderr {r.stderr.strip()[-1500:]!r}"
        if r.returncode == 0:
            raise TestFailure(f"kubectl {what}: expected a failure, got {got} "
                              f"(logs in {self.c.dir})")
        for e in expect:
            if e not in r.stderr:
                raise TestFailure(f"kubectl {what}: expected {e!r} on stderr, got {got} "
                                  f"(logs in {self.c.dir})")
        check(f"kubectl {what}: configmaps of {NS} unchanged", before, api.state(), self.c)


def step_kubectl(c, api):
    k = Kube(c)
    k.fails(api, "create configmap Bad_Name", "create", "configmap", "Bad_Name", "-n", NS,
            "--from-literal=a=1",
            expect=['ConfigMap "Bad_Name" is invalid: metadata.name: Invalid value: "Bad_Name"'])
    k.fails(api, "create -f - with a bad label value", "create", "-f", "-", "-n", NS,
            input=json.dumps(cm("ok", labels={"k": "bad value!"})),
            expect=['ConfigMap "ok" is invalid: metadata.labels: Invalid value: "bad value!"'])
    k.fails(api, "get cm -l 'x in ('", "get", "cm", "-n", NS, "-l", "x in (",
            expect=["unable to parse requirement"])
    k.fails(api, "get cm --field-selector spec.foo=bar", "get", "cm", "-n", NS,
            "--field-selector", "spec.foo=bar",
            expect=["Error from server (BadRequest)", "field label not supported: spec.foo"])
    k.fails(api, "get widgets", "get", "widgets", "-n", NS,
            expect=['error: the server doesn\'t have a resource type "widgets"'])
    old = api.ok("GET", f"{CM}/s2")
    cur = json.loads(json.dumps(old))
    cur["data"] = {"v": "changed"}
    api.ok("PUT", f"{CM}/s2", cur)
    old["data"] = {"v": "stale"}
    path = os.path.join(c.dir, "stale-s2.json")
    with open(path, "w") as f:
        json.dump(old, f)
    k.fails(api, "replace -f with a stale resourceVersion", "replace", "-f", path,
            expect=[f'Error from server (Conflict): error when replacing "{path}": '
                    + CONFLICT_MSG.replace('"s1"', '"s2"')])
    k.fails(api, "get cm nope", "get", "cm", "nope", "-n", NS,
            expect=['Error from server (NotFound): configmaps "nope" not found'])
    # Several times: large uploads through haproxy have been seen to lose their
    # connection now and then, and kubectl must get the 413 every time.
    for i in range(BIG_TRIES):
        k.fails(api, f"create -f - of a configmap over 1.5 MiB (try {i + 1})", "create", "-f", "-",
                "-n", NS, input=json.dumps(cm("mid", {"x": "a" * (2 * MIB)})),
                expect=["Error from server (RequestEntityTooLarge)"])


# ---------- 429 ----------

def step_too_many_requests(c, api):
    """r3 restarted with --max-requests-inflight 1 sheds a burst of lists."""
    limited = c.names[2]
    c.kill(limited)  # SIGKILL: a graceful SIGTERM stop is not what this test is about
    c.start(limited, "--max-requests-inflight", "1")
    c.wait_ready(READY_TIMEOUT_S, names=[limited])
    lapi = Api(c, limited)
    api.ok("POST", "/api/v1/namespaces", {"apiVersion": "v1", "kind": "Namespace",
                                          "metadata": {"name": "many"}})
    for i in range(MANY):
        api.ok("POST", "/api/v1/namespaces/many/configmaps", cm(f"m{i:03}", {"v": "x" * 1024}))
    results = []
    lock = threading.Lock()
    gate = threading.Barrier(BURST)

    def one():
        try:
            gate.wait(timeout=30)
            r = lapi.req("GET", "/api/v1/namespaces/many/configmaps", timeout=60)
        except (OSError, http.client.HTTPException, threading.BrokenBarrierError) as e:
            r = (type(e).__name__, {}, str(e).encode())
        with lock:
            results.append(r)

    threads = [threading.Thread(target=one) for _ in range(BURST)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=120)
    codes = sorted(str(r[0]) for r in results)
    print(f"burst of {BURST} lists at max-requests-inflight 1: "
          f"{codes.count('200')} x 200, {codes.count('429')} x 429", flush=True)
    check("burst: every request answered 200 or 429", True,
          len(results) == BURST and set(codes) <= {"200", "429"}, c)
    rejected = [r for r in results if r[0] == 429]
    check(f"burst of {BURST} lists at max-requests-inflight 1: at least one 429", True,
          len(rejected) >= 1, c)
    check("burst: at least one 200", True, any(r[0] == 200 for r in results), c)
    for st, hd, raw in rejected:
        ra = {k.lower(): v for k, v in hd.items()}.get("retry-after")
        check("429: Retry-After header is a positive integer", True,
              ra is not None and ra.isdigit() and int(ra) > 0, c)
        s = status_of(c, "429", 429, raw)
        check("429: reason", "TooManyRequests", s.get("reason"), c)
    for st, _, raw in results:
        if st == 200:
            names = [i["metadata"]["name"] for i in json.loads(raw)["items"]]
            check("burst: a 200 list has every configmap (and the namespace's CA bundle)",
                  MANY, len([n for n in names if n != "kube-root-ca.crt"]), c)
    # Watches are long-running: three open watches leave room for a GET.
    conns = []
    try:
        u = urllib.parse.urlsplit(lapi.base)
        for i in range(WATCHES):
            conn = http.client.HTTPSConnection(u.hostname, u.port, timeout=20,
                                               context=c.client.ssl_context())
            conn.request("GET", "/api/v1/namespaces/many/configmaps?watch=1&timeoutSeconds=60"
                                "&resourceVersion=0")
            resp = conn.getresponse()
            conns.append(conn)
            check(f"watch {i + 1} on the limited replica: status", 200, resp.status, c)
            check(f"watch {i + 1}: first line is an event or heartbeat", True,
                  resp.readline().strip()[:1] in (b"", b"{"), c)
        st, _, raw = lapi.req("GET", "/api/v1/namespaces/many/configmaps/m000")
        check(f"GET with {WATCHES} watches open at max-requests-inflight 1", 200, st, c)
        st, _, raw = lapi.req("GET", "/api/v1/namespaces/many/configmaps?limit=5")
        check(f"list with {WATCHES} watches open at max-requests-inflight 1", 200, st, c)
    finally:
        for conn in conns:
            conn.close()


def test_bad_input():
    with Cluster(n=3, extra_flags=FLAGS) as c:
        c.start_all()
        c.wait_ready(READY_TIMEOUT_S)
        c.haproxy()
        api = Api(c, c.names[0])
        api.ok("POST", "/api/v1/namespaces", {"apiVersion": "v1", "kind": "Namespace",
                                              "metadata": {"name": NS}})
        for i in (1, 2, 3):
            api.ok("POST", CM, cm(f"s{i}", {"v": str(i)}, {"seed": "yes"}))
        failures = []  # every step runs, so one run shows every broken behaviour
        for step in (step_bodies, step_validation, step_conflict, step_routes, step_query,
                     step_kubectl, step_too_many_requests):
            try:
                step(c, api)
            except TestFailure as e:
                failures.append(f"{step.__name__}: {e}")
            except (KeyError, TypeError, ValueError, IndexError, OSError,
                    http.client.HTTPException) as e:
                failures.append(f"{step.__name__}: {type(e).__name__}: {e} (logs in {c.dir})")
        if failures:
            raise TestFailure(f"{len(failures)} step(s) failed:\n" + "\n".join(failures))


harness.main(test_bad_input)
