"""authn: who may talk to the API (issue 4; CIS 1.2.1, 1.2.21-1.2.24).

- no credentials: 401 Status on every path but /livez /readyz /healthz /version;
- x509: the admin certificate works; a certificate of another CA, an expired one
  (signed by the cluster CA) and one without clientAuth usage are refused with 401;
  a certificate that expires while its connection stays open is refused from then
  on, on that connection (the server reads a connection's certificate once);
- service-account tokens from `kubectl create token` work as bearer tokens over TLS;
  a forged signature, alg "none", another audience, a deleted account, and a token
  bound to a deleted pod are refused with 401;
- the plain loopback listener, only when configured, is the unsecured admin.
"""

import base64
import json
import os
import sys
import time
import http.client
import urllib.parse

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import harness  # noqa: E402
from harness import Cluster, Kube, TestPKI, check  # noqa: E402

FLAGS = ["--election-timeout-ms", "300", "--heartbeat-ms", "50"]


def get(pki, url, path, cert=None, token=None):
    return pki.request(url, "GET", path, cert=cert, token=token)


def expect(c, what, code, got):
    status, body = got
    check(f"{what}: HTTP status (body {str(body)[:200]})", code, status, c)
    if code == 401:
        check(f"{what}: a Status with reason Unauthorized", ("Status", "Unauthorized"),
              (body.get("kind"), body.get("reason")), c)


def b64url(b):
    return base64.urlsafe_b64encode(b).rstrip(b"=").decode()


def forged(pki, token):
    """The token's header and claims, signed by a key the cluster never saw."""
    head, payload, _ = token.split(".")
    pki.openssl("genpkey", "-algorithm", "RSA", "-pkeyopt", "rsa_keygen_bits:2048", "-out",
                "evil.key")
    with open(os.path.join(pki.work, "signed.txt"), "w") as f:
        f.write(f"{head}.{payload}")
    pki.openssl("dgst", "-sha256", "-sign", "evil.key", "-out", "sig.bin", "signed.txt")
    with open(os.path.join(pki.work, "sig.bin"), "rb") as f:
        return f"{head}.{payload}.{b64url(f.read())}"


def test_anonymous(c, pki, url):
    for path in ["/api", "/api/v1/namespaces", "/apis", "/openapi/v3", "/metrics",
                 "/triarch/v1/status", "/api/v1/namespaces/default/secrets",
                 "/apis/apps/v1/deployments?watch=1"]:
        expect(c, f"anonymous GET {path} (CIS 1.2.1)", 401, get(pki, url, path))
    for path in ["/livez", "/readyz", "/healthz", "/version"]:
        expect(c, f"anonymous GET {path}", 200, get(pki, url, path))


def test_certificates(c, pki, url):
    admin = (os.path.join(c.dir, "pki", "admin.crt"), os.path.join(c.dir, "pki", "admin.key"))
    expect(c, "admin certificate", 200, get(pki, url, "/api/v1/namespaces", admin))
    other = pki.self_signed("other", "/CN=admin/O=system:masters")
    expect(c, "a certificate of another CA", 401, get(pki, url, "/api/v1/namespaces", other))
    old = pki.issue("old", "/CN=old-admin/O=system:masters", start="20200101000000Z",
                    end="20200201000000Z")
    expect(c, "an expired certificate of the cluster CA", 401,
           get(pki, url, "/api/v1/namespaces", old))
    srv = pki.issue("srv", "/CN=srv/O=system:masters", ext="server")
    expect(c, "a server-only certificate used as a client", 401,
           get(pki, url, "/api/v1/namespaces", srv))
    jane = pki.issue("jane", "/CN=jane/O=dev")
    status, _ = get(pki, url, "/apis", jane)
    check("a valid certificate for jane authenticates (not 401)", True, status != 401, c)


def test_expiry_on_open_connection(c, pki, url):
    """One keep-alive connection outlives its certificate: 200 before notAfter,
    401 after it, without reconnecting."""
    now = time.time()
    stamp = lambda t: time.strftime("%Y%m%d%H%M%SZ", time.gmtime(t))  # noqa: E731
    end = now + 4
    brief = pki.issue("brief", "/CN=brief-admin/O=system:masters", start=stamp(now - 60),
                      end=stamp(end))
    u = urllib.parse.urlsplit(url)
    conn = http.client.HTTPSConnection(u.hostname, u.port, context=pki.context(brief),
                                       timeout=10)
    try:
        def once():
            conn.request("GET", "/api/v1/namespaces")
            r = conn.getresponse()
            return r.status, json.loads(r.read())
        expect(c, "a certificate before it expires", 200, once())
        sock = conn.sock
        time.sleep(max(0.0, end + 1.5 - time.time()))
        got = once()
        check("the same TLS connection was kept", True, conn.sock is sock, c)
        expect(c, "the same connection after the certificate expired", 401, got)
    finally:
        conn.close()


def test_tokens(c, pki, k, url):
    k.ok("create", "serviceaccount", "builder")
    tok = k.ok("create", "token", "builder").strip()
    check("kubectl create token prints a JWT", 3, len(tok.split(".")), c)
    claims = json.loads(base64.urlsafe_b64decode(tok.split(".")[1] + "=="))
    check("sub names the account", "system:serviceaccount:default:builder", claims["sub"], c)
    status, _ = get(pki, url, "/apis", token=tok)
    check("the token authenticates over TLS (not 401)", True, status != 401, c)
    expect(c, "a forged signature", 401, get(pki, url, "/apis", token=forged(pki, tok)))
    head = b64url(b'{"alg":"none"}')
    none = f"{head}.{tok.split('.')[1]}."
    expect(c, "alg none", 401, get(pki, url, "/apis", token=none))
    other = k.ok("create", "token", "builder", "--audience", "https://elsewhere").strip()
    expect(c, "a token for another audience", 401, get(pki, url, "/apis", token=other))
    expect(c, "garbage", 401, get(pki, url, "/apis", token="a.b.c"))
    # bound to a pod: dies with it
    k.ok("run", "p1", "--image=busybox", "--restart=Never")
    bound = k.ok("create", "token", "builder", "--bound-object-kind", "Pod",
                 "--bound-object-name", "p1").strip()
    status, _ = get(pki, url, "/apis", token=bound)
    check("a pod-bound token authenticates while the pod exists", True, status != 401, c)
    k.ok("delete", "pod", "p1", "--wait=false", "--grace-period=0", "--force")
    expect(c, "a token bound to a deleted pod", 401, get(pki, url, "/apis", token=bound))
    err = k.fails("create", "token", "builder", "--duration", "5m")
    check("a token shorter than 10 minutes is refused", True, "10 minutes" in err, c)
    k.fails("create", "token", "nobody")
    # service-account lookup (CIS 1.2.21): deleting the account revokes its tokens
    k.ok("delete", "serviceaccount", "builder")
    expect(c, "a token of a deleted account", 401, get(pki, url, "/apis", token=tok))


def test_authn():
    with Cluster(n=1, extra_flags=FLAGS + ["--api-listen-plain", "127.0.0.1:0"]) as c:
        c.start_all()
        c.wait_ready(60)
        urls = c.api_urls("r1")
        url, plain = urls[0], urls[1]
        pki = TestPKI(c)
        test_anonymous(c, pki, url)
        test_certificates(c, pki, url)
        test_expiry_on_open_connection(c, pki, url)
        c.haproxy()
        test_tokens(c, pki, Kube(c), url)
        u = urllib.parse.urlsplit(plain)
        conn = http.client.HTTPConnection(u.hostname, u.port, timeout=10)
        conn.request("GET", "/api/v1/namespaces")
        r = conn.getresponse()
        r.read()
        check("the plain loopback listener serves without credentials", 200, r.status, c)


if __name__ == "__main__":
    harness.args()
    harness.main(test_authn)
