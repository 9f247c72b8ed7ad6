"""http_robustness: a replica answers random, malformed and hostile requests (random
methods, paths, query strings, content types and bodies, seeded) without crashing or
leaking, under the sanitizer build: afterwards it is ready, serves a normal request,
and stops with exit 0 on SIGTERM (LeakSanitizer clean).
"""

import http.client
import json
import os
import random
import sys
import urllib.parse

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import harness  # noqa: E402
from harness import Cluster, check  # noqa: E402

REQUESTS = 800
SEED = int(os.environ.get("TRI_SEED", "20261123"))

PATHS = ["/api/v1/namespaces/default/configmaps", "/api/v1/namespaces",
         "/api/v1/namespaces/default/configmaps/x", "/api/v1/namespaces/x/status",
         "/apis/apps/v1/deployments", "/api", "/apis", "/openapi/v3", "/openapi/v3/api/v1",
         "/api/v1/watch/namespaces/default/configmaps", "/api/v1/nodes",
         "/api/v1/namespaces/default/events", "/metrics", "/readyz?verbose", "/%2e%2e/x",
         "/api/v1/namespaces/" + "n" * 300 + "/configmaps", "//api///v1//namespaces"]
QUERIES = ["watch=1", "watch=True", "limit=2", "limit=-1", "limit=x", "continue=abc",
           "continue=eyJ2Ijoi", "resourceVersion=1", "resourceVersion=99999999999999999999",
           "labelSelector=a%20in%20(", "fieldSelector=metadata.name%3D", "timeoutSeconds=1",
           "fieldSelector=spec.x%3Dy", "resourceVersionMatch=Exact", "dryRun=All",
           "fieldValidation=Strict", "allowWatchBookmarks=true", "%zz=%", "a&&&b==c"]
CTYPES = ["application/json", "application/yaml", "application/vnd.kubernetes.protobuf",
          "application/merge-patch+json", "application/strategic-merge-patch+json",
          "application/json-patch+json", "application/apply-patch+yaml", "text/plain", None]
BODIES = [b"", b"{", b"[]", b"null", b'{"metadata":{"name":"x"}}',
          b'{"apiVersion":"v1","kind":"ConfigMap","metadata":{"name":"fz"},"data":{"k":"v"}}',
          b'[{"op":"add","path":"/data/x","value":"1"}]', b"k8s\x00\x0a\x02\x0a",
          b"\xff\xfe\x00", b"a: [", b"a: &x [*x]", b'{"a":' * 200,
          json.dumps({"metadata": {"generateName": "g-"},
                      "data": {str(i): "v" for i in range(50)}}).encode()]


def one(rng, host, port):
    conn = http.client.HTTPConnection(host, port, timeout=10)
    method = rng.choice(["GET", "POST", "PUT", "PATCH", "DELETE", "HEAD", "OPTIONS"])
    path = rng.choice(PATHS)
    if rng.random() < 0.6:
        path += "?" + "&".join(rng.sample(QUERIES, rng.randint(0, 3)))
    body = rng.choice(BODIES)
    if rng.random() < 0.2:
        body = bytes(rng.getrandbits(8) for _ in range(rng.randint(0, 300)))
    headers = {}
    ct = rng.choice(CTYPES)
    if ct:
        headers["Content-Type"] = ct
    if rng.random() < 0.3:
        headers["Accept"] = "application/json;as=Table;v=v1;g=meta.k8s.io"
    try:
        conn.request(method, path, body=body, headers=headers)
        resp = conn.getresponse()
        resp.read(4096)
        return resp.status
    except (OSError, http.client.HTTPException):
        return None
    finally:
        conn.close()


def delete_all_namespaces(c):
    """DELETE on the namespaces collection spares the protected three and takes the
    content of the others with them."""
    base = c.api_url("r1")
    st, _, _ = c.request("POST", base + "/api/v1/namespaces",
                         {"apiVersion": "v1", "kind": "Namespace", "metadata": {"name": "doomed"}})
    check("create doomed", 201, st, c)
    st, _, _ = c.request("POST", base + "/api/v1/namespaces/doomed/configmaps",
                         {"apiVersion": "v1", "kind": "ConfigMap", "metadata": {"name": "x"}})
    check("create doomed/x", 201, st, c)
    st, _, _ = c.request("DELETE", base + "/api/v1/namespaces")
    check("deletecollection of namespaces", 200, st, c)
    st, _, body = c.request("GET", base + "/api/v1/namespaces")
    left = {i["metadata"]["name"] for i in json.loads(body)["items"]}
    check("protected namespaces kept", True, {"default", "kube-public", "kube-system"} <= left, c)
    check("doomed deleted", False, "doomed" in left, c)
    st, _, body = c.request("GET", base + "/api/v1/configmaps")
    check("content of deleted namespaces gone", [],
          [i["metadata"]["name"] for i in json.loads(body)["items"]
           if i["metadata"]["namespace"] not in left], c)


def test_http_robustness():
    with Cluster(n=1, extra_flags=["--api-listen-plain", "127.0.0.1:0"]) as c:
        c.start_all()
        c.wait_ready(30)
        delete_all_namespaces(c)
        plain = next(u for u in c.api_urls("r1") if u.startswith("http://"))
        u = urllib.parse.urlsplit(plain)
        rng = random.Random(SEED)
        codes = [one(rng, u.hostname, u.port) for _ in range(REQUESTS)]
        answered = sum(1 for x in codes if x is not None)
        check(f"requests answered (seed {SEED})", True, answered >= REQUESTS * 0.95, c)
        check("no 5xx other than 503/504 (server errors are bugs)", [],
              sorted({x for x in codes if x and x >= 500 and x not in (503, 504, 507)}), c)
        check("still ready", True, c.ready("r1"), c)
        st, _, _ = c.request("GET", c.api_url("r1") + "/api/v1/namespaces/default")
        check("a normal request after the storm", 200, st, c)
        check("graceful exit code (0: no sanitizer report)", 0, c.stop("r1"), c)


harness.main(test_http_robustness)
