"""csr_join: an agent joins with a bootstrap token and gets its client certificate
through a CertificateSigningRequest, as a kubelet does with kubeadm's tokens;
operators approve other requests with kubectl and check and renew the cluster's
certificates with `triarch certs`.

The agent is simulated with python and the openssl CLI: it holds only the CA
certificate and the token. Each step names what it proves; CIS 1.2.2 (bootstrap
tokens expire and only join) is its own function.
"""

import base64
import json
import os
import re
import signal
import socket
import ssl
import subprocess
import sys
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import harness  # noqa: E402
from harness import Cluster, Kube, TestPKI, check, triarch, wait_until  # noqa: E402

FLAGS = ["--election-timeout-ms", "300", "--heartbeat-ms", "50"]
CSRS = "/apis/certificates.k8s.io/v1/certificatesigningrequests"
KUBELET_CLIENT = "kubernetes.io/kube-apiserver-client-kubelet"
TOKEN_RE = re.compile(r"^[a-z0-9]{6}\.[a-z0-9]{16}$")
WAIT_S = 60


def make_csr(pki, name, subj):
    """(PEM request, key path): an EC P-256 key and a request for subj."""
    pki.openssl("req", "-new", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:P-256",
                "-nodes", "-keyout", f"{name}.key", "-subj", subj, "-out", f"{name}.csr")
    with open(os.path.join(pki.work, f"{name}.csr"), "rb") as f:
        return f.read(), os.path.join(pki.work, f"{name}.key")


def csr_body(name, pem, signer=KUBELET_CLIENT, usages=("digital signature", "client auth"),
             extra_spec=None):
    spec = {"request": base64.b64encode(pem).decode(), "signerName": signer,
            "usages": list(usages)}
    spec.update(extra_spec or {})
    return {"apiVersion": "certificates.k8s.io/v1", "kind": "CertificateSigningRequest",
            "metadata": {"name": name}, "spec": spec}


def conditions(obj):
    return sorted(c["type"] for c in obj.get("status", {}).get("conditions", []))


def wait_issued(c, pki, url, name, auth):
    """The CSR once it carries a certificate (polled, bounded)."""
    def issued():
        st, obj = pki.request(url, "GET", f"{CSRS}/{name}", **auth)
        return obj if st == 200 and obj.get("status", {}).get("certificate") else None
    return wait_until(f"CSR {name} issued", issued, WAIT_S, c)


def save_cert(pki, name, obj, key):
    path = os.path.join(pki.work, f"{name}-issued.crt")
    with open(path, "wb") as f:
        f.write(base64.b64decode(obj["status"]["certificate"]))
    return path, key


def cert_field(pki, path, field):
    return pki.openssl("x509", "-in", path, "-noout", f"-{field}").strip()


def token_create(c, *extra):
    r = triarch("token", "create", "--kubeconfig", c.kubeconfig, *extra)
    check("triarch token create exit code", 0, r.returncode, c)
    token = r.stdout.strip()
    check(f"token {token!r} has the bootstrap shape", True, bool(TOKEN_RE.match(token)), c)
    return token


def step_join_with_token(c, pki, url, token):
    """2-4: a kubelet client CSR made with only the token is approved, signed, and
    the certificate authenticates node n7."""
    pem, key = make_csr(pki, "n7", "/O=system:nodes/CN=system:node:n7")
    body = csr_body("node-csr-n7", pem,
                    extra_spec={"username": "mallory", "groups": ["system:masters"]})
    st, obj = pki.request(url, "POST", CSRS, token=token, body=body)
    check("bootstrap token creates a CSR", 201, st, c)
    tid = token.split(".")[0]
    check("spec.username is the requester, not what the client sent",
          f"system:bootstrap:{tid}", obj["spec"].get("username"), c)
    groups = obj["spec"].get("groups", [])
    check("spec.groups are the requester's", (True, False),
          ("system:bootstrappers" in groups, "system:masters" in groups), c)
    obj = wait_issued(c, pki, url, "node-csr-n7", {"token": token})
    check("the CSR was approved automatically", ["Approved"], conditions(obj), c)
    check("approval reason", "AutoApproved", obj["status"]["conditions"][0]["reason"], c)
    cert = save_cert(pki, "n7", obj, key)
    subject = cert_field(pki, cert[0], "subject").replace(" ", "")
    check("issued subject", "subject=O=system:nodes,CN=system:node:n7", subject, c)
    check("issued by the cluster CA", True,
          "OK" in pki.openssl("verify", "-CAfile", os.path.join(c.dir, "pki", "ca.crt"),
                              cert[0]), c)
    st, _ = pki.request(url, "POST", "/api/v1/nodes", cert=cert,
                        body={"apiVersion": "v1", "kind": "Node", "metadata": {"name": "n7"}})
    check("node n7 registers itself with its new certificate", 201, st, c)
    st, node = pki.request(url, "GET", "/api/v1/nodes/n7", cert=cert)
    check("GET /api/v1/nodes/n7 with the issued certificate", 200, st, c)
    return cert


def test_cis_1_2_2_bootstrap_tokens_expire_and_only_join(c, pki, url, kube, token):
    """5-6: the token reaches CSRs and nothing else; an expired token is refused
    and the tokencleaner deletes its Secret; a wrong secret is refused."""
    for method, path in [("GET", "/api/v1/secrets"),
                         ("GET", "/api/v1/namespaces/kube-system/secrets"),
                         ("GET", f"/api/v1/namespaces/kube-system/secrets/"
                                 f"bootstrap-token-{token.split('.')[0]}"),
                         ("GET", "/api/v1/nodes"), ("GET", "/api/v1/namespaces/default/pods")]:
        st, _ = pki.request(url, method, path, token=token)
        check(f"1.2.2 bootstrap token {method} {path}", 403, st, c)
    st, _ = pki.request(url, "POST", "/api/v1/nodes", token=token,
                        body={"apiVersion": "v1", "kind": "Node", "metadata": {"name": "x9"}})
    check("1.2.2 bootstrap token cannot register a node", 403, st, c)
    st, _ = pki.request(url, "GET", CSRS, token=token)
    check("1.2.2 bootstrap token lists CSRs", 200, st, c)
    tid, secret = token.split(".")
    wrong = f"{tid}.{'0' * 16 if secret != '0' * 16 else '1' * 16}"
    st, _ = pki.request(url, "GET", CSRS, token=wrong)
    check("1.2.2 a wrong token secret", 401, st, c)
    # an expired token, made by hand as an operator would with kubectl
    data = {"token-id": "expird", "token-secret": "0123456789abcdef",
            "usage-bootstrap-authentication": "true", "expiration": "2020-01-01T00:00:00Z"}
    secret_obj = {"apiVersion": "v1", "kind": "Secret", "type": "bootstrap.kubernetes.io/token",
                  "metadata": {"name": "bootstrap-token-expird", "namespace": "kube-system"},
                  "stringData": data}
    kube.ok("create", "-f", "-", input=json.dumps(secret_obj))
    st, _ = pki.request(url, "GET", CSRS, token="expird.0123456789abcdef")
    check("1.2.2 an expired bootstrap token", 401, st, c)

    def cleaned():
        r = kube.run("get", "secret", "-n", "kube-system", "bootstrap-token-expird")
        return r.returncode != 0 and "NotFound" in r.stderr
    wait_until("1.2.2 the tokencleaner deletes the expired token's Secret", cleaned, WAIT_S, c)
    # a live token still there after the cleaner ran: only expired ones go
    kube.ok("get", "secret", "-n", "kube-system", f"bootstrap-token-{tid}")


def step_foreign_node_not_approved(c, pki, url, n7):
    """7: node n7 asking for system:node:n8 stays pending, while n7 renewing its
    own certificate (selfnodeclient) is approved."""
    pem8, _ = make_csr(pki, "n8", "/O=system:nodes/CN=system:node:n8")
    st, obj = pki.request(url, "POST", CSRS, cert=n7, body=csr_body("n7-asks-n8", pem8))
    check("node n7 creates a CSR for n8", 201, st, c)
    check("its requester", "system:node:n7", obj["spec"]["username"], c)
    pem7, key7 = make_csr(pki, "n7b", "/O=system:nodes/CN=system:node:n7")
    st, _ = pki.request(url, "POST", CSRS, cert=n7, body=csr_body("n7-renews", pem7))
    check("node n7 creates a CSR for itself", 201, st, c)
    wait_issued(c, pki, url, "n7-renews", {"cert": n7})  # the loops have run past both
    st, obj = pki.request(url, "GET", f"{CSRS}/n7-asks-n8", cert=n7)
    check("n7's request for n8 is not approved", ([], None),
          (conditions(obj), obj.get("status", {}).get("certificate")), c)


def step_kubectl_approve(c, pki, url, kube):
    """8: an admin's kube-apiserver-client CSR through kubectl: get csr columns,
    certificate approve, the issued certificate authenticates; deny; and a user
    allowed to update /approval but not to approve for the signer is refused."""
    pem, key = make_csr(pki, "jane", "/O=devs/CN=jane")
    body = csr_body("jane", pem, signer="kubernetes.io/kube-apiserver-client",
                    usages=("digital signature", "key encipherment", "client auth"),
                    extra_spec={"expirationSeconds": 3600})
    kube.ok("create", "-f", "-", input=json.dumps(body))
    out = kube.ok("get", "csr", "jane")
    head, row = out.splitlines()[0].split(), out.splitlines()[1].split()
    check("kubectl get csr columns",
          ["NAME", "AGE", "SIGNERNAME", "REQUESTOR", "REQUESTEDDURATION", "CONDITION"], head, c)
    check("kubectl get csr row",
          ["jane", "kubernetes.io/kube-apiserver-client", "admin", "60m", "Pending"],
          [row[0]] + row[2:], c)
    # a user who may update /approval but may not approve for the signer
    kube.ok("create", "clusterrole", "csr-approval-only", "--verb=get,list,update",
            "--resource=certificatesigningrequests,certificatesigningrequests/approval")
    kube.ok("create", "clusterrolebinding", "csr-approval-only",
            "--clusterrole=csr-approval-only", "--user=approver")
    approver = pki.issue("approver", "/CN=approver")
    akube = Kube(c, pki.kubeconfig("approver", approver))
    err = akube.fails("certificate", "approve", "jane")
    check("approving without 'approve' on signers is forbidden", True,
          "not permitted to approve" in err, c)
    out = kube.ok("certificate", "approve", "jane")
    check("kubectl certificate approve", True, "approved" in out, c)
    obj = wait_issued(c, pki, url, "jane", {"cert": (os.path.join(c.dir, "pki", "admin.crt"),
                                                      os.path.join(c.dir, "pki", "admin.key"))})
    check("jane's conditions", ["Approved"], conditions(obj), c)
    row = kube.ok("get", "csr", "jane").splitlines()[1].split()
    check("kubectl get csr shows it issued", "Approved,Issued", row[-1], c)
    cert = save_cert(pki, "jane", obj, key)
    days = cert_field(pki, cert[0], "enddate")
    check("expirationSeconds honoured (not a year)", True, "notAfter=" in days, c)
    st, _ = pki.request(url, "GET", "/api/v1/namespaces/default/configmaps", cert=cert)
    check("jane's certificate authenticates (403 without bindings, not 401)", 403, st, c)
    pem2, _ = make_csr(pki, "eve", "/CN=eve")
    kube.ok("create", "-f", "-", input=json.dumps(csr_body(
        "eve", pem2, signer="kubernetes.io/kube-apiserver-client",
        usages=("client auth",))))
    kube.ok("certificate", "deny", "eve")
    obj = kube.obj("get", "csr", "eve")
    check("kubectl certificate deny", ["Denied"], conditions(obj), c)
    pem3, _ = make_csr(pki, "root", "/O=system:masters/CN=root")
    err = kube.fails("create", "-f", "-", input=json.dumps(csr_body(
        "root", pem3, signer="kubernetes.io/kube-apiserver-client",
        usages=("client auth",))))
    check("a system:masters client certificate request is refused", True,
          "system:masters" in err, c)
    return obj


def notafter_epoch(pki, path):
    out = pki.openssl("x509", "-in", path, "-noout", "-enddate").strip()
    return time.mktime(time.strptime(out.split("=", 1)[1], "%b %d %H:%M:%S %Y %Z"))


def served_serial(url):
    host, port = url.split("//")[1].rsplit(":", 1)
    ctx = ssl.create_default_context()
    ctx.check_hostname = False
    ctx.verify_mode = ssl.CERT_NONE
    with socket.create_connection((host, int(port)), timeout=10) as s:
        with ctx.wrap_socket(s) as t:
            der = t.getpeercert(binary_form=True)
    r = subprocess.run(["openssl", "x509", "-inform", "DER", "-noout", "-serial"], input=der,
                       capture_output=True, timeout=30)
    return r.stdout.decode().strip()


def peer_serial(c, peer):
    """Serial (hex, as openssl prints it) of the certificate a peer listener presents to
    a replica certificate."""
    pki = os.path.join(c.dir, "pki")
    ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_CLIENT)
    ctx.check_hostname = False
    ctx.load_verify_locations(os.path.join(pki, "ca.crt"))
    ctx.load_cert_chain(os.path.join(pki, "r1.crt"), os.path.join(pki, "r1.key"))
    host, port = peer.rsplit(":", 1)
    with socket.create_connection((host, int(port)), timeout=10) as raw:
        with ctx.wrap_socket(raw) as s:
            return "serial=" + s.getpeercert()["serialNumber"].upper()


def step_certs_check_and_renew(c, pki, url, kube):
    """9-10: certs check lists the certificates and exits 0; certs renew of admin
    gives a later notAfter that still works; a renewed serving certificate is
    served after SIGHUP without a restart."""
    r = triarch("certs", "check", "--dir", c.dir)
    check("triarch certs check exit code", 0, r.returncode, c)
    names = [line.split()[0] for line in r.stdout.splitlines()[1:]]
    check("certs check lists ca, admin and the replica", True,
          {"ca", "admin", "r1"} <= set(names), c)
    check("every certificate OK", True,
          all(line.split()[-1] == "OK" for line in r.stdout.splitlines()[1:]), c)
    admin = os.path.join(c.dir, "pki", "admin.crt")
    before = notafter_epoch(pki, admin)
    serial_before = cert_field(pki, admin, "serial")
    r = triarch("certs", "renew", "--dir", c.dir, "admin")
    check(f"triarch certs renew admin exit code ({r.stderr})", 0, r.returncode, c)
    check("renew says when replicas pick it up", True, "restart" in r.stdout, c)
    check("renewed admin has a later notAfter", True, notafter_epoch(pki, admin) > before, c)
    check("and a new serial", True, cert_field(pki, admin, "serial") != serial_before, c)
    # renew rewrote D/kubeconfig (it inlines the admin certificate) for the load
    # balancer; the harness points its copy at the replica again
    Kube(c).ok("get", "namespaces")
    st, _ = pki.request(url, "GET", "/api/v1/namespaces",
                        cert=(admin, os.path.join(c.dir, "pki", "admin.key")))
    check("the renewed admin certificate authenticates", 200, st, c)
    old = served_serial(url)
    r = triarch("certs", "renew", "--dir", c.dir, "r1")
    check("triarch certs renew r1 exit code", 0, r.returncode, c)
    new = cert_field(pki, os.path.join(c.dir, "pki", "r1.crt"), "serial")
    check("r1's certificate changed on disk", True, new != old, c)
    os.kill(c.procs["r1"].pid, signal.SIGHUP)
    wait_until("r1 serves its renewed certificate after SIGHUP",
               lambda: served_serial(url) == new, WAIT_S, c)
    check("r1 kept running", True, c.running("r1"), c)
    peer = c.spec["members"][0]["peer"]
    check("r1's peer listener presents the renewed certificate too", new,
          peer_serial(c, peer), c)
    Kube(c).ok("create", "configmap", "after-peer-reload")
    r = triarch("certs", "renew", "--dir", c.dir, "nosuch")
    check("renew of an unknown name is a usage error", 2, r.returncode, c)


def test_csr_join():
    with Cluster(n=1, extra_flags=FLAGS) as c:
        c.start_all()
        c.wait_ready(60)
        c.wait_leader(30)
        url = c.api_url("r1")
        pki = TestPKI(c)
        kube = Kube(c)
        token = token_create(c, "--ttl", "1h", "--description", "csr_join test")
        n7 = step_join_with_token(c, pki, url, token)
        test_cis_1_2_2_bootstrap_tokens_expire_and_only_join(c, pki, url, kube, token)
        step_foreign_node_not_approved(c, pki, url, n7)
        step_kubectl_approve(c, pki, url, kube)
        step_certs_check_and_renew(c, pki, url, kube)


if __name__ == "__main__":
    harness.main(test_csr_join)
