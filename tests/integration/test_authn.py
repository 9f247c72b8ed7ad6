"""authn: who may talk to the API (issue 4; CIS 1.2.1, 1.2.21-1.2.24).

- no credentials: 401 Status on every path but /livez /readyz /healthz /version;
- x509: the admin certificate works; a certificate of another CA, an expired one
  (signed by the cluster CA) and one without clientAuth usage are refused with 401;
- service-account tokens from `kubectl create token` work as bearer tokens over TLS;
  a forged signature, alg "none", another audience, a deleted account, and a token
  bound to a deleted pod are refused with 401;
- the plain loopback listener, only when configured, is the unsecured admin.
"""

import base64
import json
import os
import ssl
import subprocess
import sys
import http.client
import urllib.parse

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import harness  # noqa: E402
from harness import Cluster, Kube, check  # noqa: E402

FLAGS = ["--election-timeout-ms", "300", "--heartbeat-ms", "50"]


def openssl(*argv, cwd):
    r = subprocess.run(["openssl", *argv], cwd=cwd, capture_output=True, text=True, timeout=60)
    if r.returncode != 0:
        raise harness.TestFailure(f"openssl {' '.join(argv)}: {r.stderr}")
    return r.stdout


CA_CONF = """[ca]
default_ca = d
[d]
database = index.txt
new_certs_dir = .
serial = serial
default_md = sha256
policy = any
copy_extensions = none
[any]
commonName = supplied
organizationName = optional
[client]
extendedKeyUsage = clientAuth
[server]
extendedKeyUsage = serverAuth
"""


def issue(c, work, name, subj, ext="client", start=None, end=None, days=30):
    """A certificate signed by the cluster CA (openssl ca, so dates can be chosen)."""
    pki = os.path.join(c.dir, "pki")
    openssl("req", "-new", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:P-256", "-nodes",
            "-keyout", f"{name}.key", "-subj", subj, "-out", f"{name}.csr", cwd=work)
    dates = ["-startdate", start, "-enddate", end] if start else ["-days", str(days)]
    openssl("ca", "-batch", "-config", "ca.cnf", "-cert", os.path.join(pki, "ca.crt"),
            "-keyfile", os.path.join(pki, "ca.key"), "-in", f"{name}.csr", "-out",
            f"{name}.crt", "-extensions", ext, "-notext", *dates, cwd=work)
    return os.path.join(work, f"{name}.crt"), os.path.join(work, f"{name}.key")


def ctx_for(c, cert=None):
    ctx = ssl.create_default_context(cafile=os.path.join(c.dir, "pki", "ca.crt"))
    if cert:
        ctx.load_cert_chain(*cert)
    return ctx


def get(c, url, path, ctx, token=None):
    u = urllib.parse.urlsplit(url)
    conn = http.client.HTTPSConnection(u.hostname, u.port, context=ctx, timeout=10)
    headers = {"Authorization": f"Bearer {token}"} if token else {}
    conn.request("GET", path, headers=headers)
    r = conn.getresponse()
    body = r.read()
    conn.close()
    return r.status, body


def expect(c, what, code, got):
    status, body = got
    check(f"{what}: HTTP status (body {body[:200]!r})", code, status, c)
    if code == 401:
        st = json.loads(body)
        check(f"{what}: a Status with reason Unauthorized", ("Status", "Unauthorized"),
              (st.get("kind"), st.get("reason")), c)


def b64url(b):
    return base64.urlsafe_b64encode(b).rstrip(b"=").decode()


def forged(work, token):
    """The token's header and claims, signed by a key the cluster never saw."""
    head, payload, _ = token.split(".")
    openssl("genpkey", "-algorithm", "RSA", "-pkeyopt", "rsa_keygen_bits:2048", "-out",
            "evil.key", cwd=work)
    with open(os.path.join(work, "signed.txt"), "w") as f:
        f.write(f"{head}.{payload}")
    openssl("dgst", "-sha256", "-sign", "evil.key", "-out", "sig.bin", "signed.txt", cwd=work)
    with open(os.path.join(work, "sig.bin"), "rb") as f:
        return f"{head}.{payload}.{b64url(f.read())}"


def test_anonymous(c, url):
    anon = ctx_for(c)
    for path in ["/api", "/api/v1/namespaces", "/apis", "/openapi/v3", "/metrics",
                 "/triarch/v1/status", "/api/v1/namespaces/default/secrets",
                 "/apis/apps/v1/deployments?watch=1"]:
        expect(c, f"anonymous GET {path} (CIS 1.2.1)", 401, get(c, url, path, anon))
    for path in ["/livez", "/readyz", "/healthz", "/version"]:
        expect(c, f"anonymous GET {path}", 200, get(c, url, path, anon))


def test_certificates(c, url, work):
    admin = (os.path.join(c.dir, "pki", "admin.crt"), os.path.join(c.dir, "pki", "admin.key"))
    expect(c, "admin certificate", 200, get(c, url, "/api/v1/namespaces", ctx_for(c, admin)))
    openssl("req", "-x509", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:P-256", "-nodes",
            "-keyout", "other.key", "-out", "other.crt", "-days", "30", "-subj",
            "/CN=admin/O=system:masters", cwd=work)
    other = (os.path.join(work, "other.crt"), os.path.join(work, "other.key"))
    expect(c, "a certificate of another CA", 401, get(c, url, "/api/v1/namespaces",
                                                       ctx_for(c, other)))
    old = issue(c, work, "old", "/CN=old-admin/O=system:masters", start="20200101000000Z",
                end="20200201000000Z")
    expect(c, "an expired certificate of the cluster CA", 401,
           get(c, url, "/api/v1/namespaces", ctx_for(c, old)))
    srv = issue(c, work, "srv", "/CN=srv/O=system:masters", ext="server")
    expect(c, "a server-only certificate used as a client", 401,
           get(c, url, "/api/v1/namespaces", ctx_for(c, srv)))
    jane = issue(c, work, "jane", "/CN=jane/O=dev")
    status, _ = get(c, url, "/apis", ctx_for(c, jane))
    check("a valid certificate for jane authenticates (not 401)", True, status != 401, c)


def test_tokens(c, k, url, work):
    anon = ctx_for(c)
    k.ok("create", "serviceaccount", "builder")
    tok = k.ok("create", "token", "builder").strip()
    check("kubectl create token prints a JWT", 3, len(tok.split(".")), c)
    claims = json.loads(base64.urlsafe_b64decode(tok.split(".")[1] + "=="))
    check("sub names the account", "system:serviceaccount:default:builder", claims["sub"], c)
    status, _ = get(c, url, "/apis", anon, token=tok)
    check("the token authenticates over TLS (not 401)", True, status != 401, c)
    expect(c, "a forged signature", 401, get(c, url, "/apis", anon, token=forged(work, tok)))
    head = b64url(b'{"alg":"none"}')
    none = f"{head}.{tok.split('.')[1]}."
    expect(c, "alg none", 401, get(c, url, "/apis", anon, token=none))
    other = k.ok("create", "token", "builder", "--audience", "https://elsewhere").strip()
    expect(c, "a token for another audience", 401, get(c, url, "/apis", anon, token=other))
    expect(c, "garbage", 401, get(c, url, "/apis", anon, token="a.b.c"))
    # bound to a pod: dies with it
    k.ok("run", "p1", "--image=busybox", "--restart=Never")
    bound = k.ok("create", "token", "builder", "--bound-object-kind", "Pod",
                 "--bound-object-name", "p1").strip()
    status, _ = get(c, url, "/apis", anon, token=bound)
    check("a pod-bound token authenticates while the pod exists", True, status != 401, c)
    k.ok("delete", "pod", "p1", "--wait=false", "--grace-period=0", "--force")
    expect(c, "a token bound to a deleted pod", 401, get(c, url, "/apis", anon, token=bound))
    err = k.fails("create", "token", "builder", "--duration", "5m")
    check("a token shorter than 10 minutes is refused", True, "10 minutes" in err, c)
    k.fails("create", "token", "nobody")
    # service-account lookup (CIS 1.2.21): deleting the account revokes its tokens
    k.ok("delete", "serviceaccount", "builder")
    expect(c, "a token of a deleted account", 401, get(c, url, "/apis", anon, token=tok))


def test_authn():
    with Cluster(n=1, extra_flags=FLAGS + ["--api-listen-plain", "127.0.0.1:0"]) as c:
        c.start_all()
        c.wait_ready(60)
        urls = c.api_urls("r1")
        url, plain = urls[0], urls[1]
        work = os.path.join(c.dir, "authn-work")
        os.makedirs(work)
        with open(os.path.join(work, "ca.cnf"), "w") as f:
            f.write(CA_CONF)
        open(os.path.join(work, "index.txt"), "w").close()
        with open(os.path.join(work, "serial"), "w") as f:
            f.write("1000\n")
        test_anonymous(c, url)
        test_certificates(c, url, work)
        c.haproxy()
        k = Kube(c)
        test_tokens(c, k, url, work)
        u = urllib.parse.urlsplit(plain)
        conn = http.client.HTTPConnection(u.hostname, u.port, timeout=10)
        conn.request("GET", "/api/v1/namespaces")
        r = conn.getresponse()
        r.read()
        check("the plain loopback listener serves without credentials", 200, r.status, c)


if __name__ == "__main__":
    harness.args()
    harness.main(test_authn)
