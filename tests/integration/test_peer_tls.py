"""peer_tls: replica-to-replica traffic is mutual TLS (CIS 2.1-2.7, 1.2.26).

One 3-replica cluster made by `triarch init`, whose peer traffic is routed through
small TCP proxies in this test (every replica's initial-cluster names the proxies,
each replica still listens on its own peer address), so the test sees the bytes:

- writes through the API replicate; a unique value written through the API never
  appears in plaintext on the wire, and the wire carries TLS records;
- on a replica's peer port: a client with a replica certificate of the cluster CA
  gets a handshake reply (the control); the old plaintext handshake over raw TCP, a
  TLS client without a certificate, one with a certificate of another CA (made with
  the openssl CLI) and one with the admin client certificate (pki/admin.crt) are
  closed without a reply, and the replica logs each refusal with the peer's address;
- the replica's own peer certificate chains to the cluster CA (no self-signed
  auto-TLS), and triarchd without the peer TLS settings refuses to start (exit 2);
- the cluster keeps its leader and term throughout.
"""

import json
import os
import socket
import ssl
import struct
import subprocess
import sys
import tempfile
import threading
import uuid

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import harness  # noqa: E402
from harness import Cluster, TestFailure, binary, check, free_ports, wait_until  # noqa: E402

FLAGS = ["--election-timeout-ms", "300", "--heartbeat-ms", "50"]
NS_PATH = "/api/v1/namespaces/default/configmaps"
WIRE_CAP = 64 << 20  # bytes of peer traffic kept for inspection


class Proxy(threading.Thread):
    """Forwards every connection on listen -> target, recording the bytes both ways."""

    def __init__(self, listen_port, target):
        super().__init__(daemon=True)
        self.sock = socket.socket()
        self.sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        self.sock.bind(("127.0.0.1", listen_port))
        self.sock.listen(64)
        host, port = target.rsplit(":", 1)
        self.target = (host, int(port))
        self.lock = threading.Lock()
        self.wire = bytearray()
        self.conns = []
        self.stopped = False

    def record(self, data):
        with self.lock:
            if len(self.wire) < WIRE_CAP:
                self.wire += data

    def pump(self, src, dst):
        try:
            while True:
                data = src.recv(65536)
                if not data:
                    break
                self.record(data)
                dst.sendall(data)
        except OSError:
            pass
        for s in (src, dst):
            try:
                s.shutdown(socket.SHUT_RDWR)
            except OSError:
                pass

    def run(self):
        while not self.stopped:
            try:
                a, _ = self.sock.accept()
            except OSError:
                return
            try:
                b = socket.create_connection(self.target, timeout=5)
                b.settimeout(None)
            except OSError:
                a.close()
                continue
            self.conns += [a, b]
            for src, dst in ((a, b), (b, a)):
                threading.Thread(target=self.pump, args=(src, dst), daemon=True).start()

    def stop(self):
        self.stopped = True
        self.sock.close()
        for s in self.conns:
            try:
                s.close()
            except OSError:
                pass

    def bytes(self):
        with self.lock:
            return bytes(self.wire)


def handshake(kind, cluster_id, member_id, name):
    """The peer handshake as raft/transport.c's header comment documents it."""
    body = struct.pack("<Q", member_id)
    for s in (cluster_id, "127.0.0.1:1", name):
        b = s.encode()
        body += bytes([len(b)]) + b
    return b"TRHS" + bytes([1, kind]) + struct.pack("<H", len(body)) + body


def peer_exchange(addr, payload, cert=None, key=None, ca=None, tls=True):
    """Sends payload to a peer port; returns what came back before the close (bytes),
    or the TLS error text when the exchange failed."""
    host, port = addr.rsplit(":", 1)
    raw = socket.create_connection((host, int(port)), timeout=10)
    try:
        s = raw
        if tls:
            ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_CLIENT)
            ctx.check_hostname = False
            if ca:
                ctx.load_verify_locations(ca)
            else:
                ctx.verify_mode = ssl.CERT_NONE
            if cert:
                ctx.load_cert_chain(cert, key)
            s = ctx.wrap_socket(raw)
        s.sendall(payload)
        got = b""
        while True:
            data = s.recv(4096)
            if not data:
                return got
            got += data
    except (ssl.SSLError, ConnectionResetError, BrokenPipeError) as e:
        return f"error: {e}"
    finally:
        raw.close()


def openssl(*argv, cwd):
    r = subprocess.run(["openssl", *argv], cwd=cwd, capture_output=True, text=True, timeout=60)
    if r.returncode != 0:
        raise TestFailure(f"openssl {' '.join(argv)}: {r.stderr}")


def other_ca_cert(d):
    """A CA of its own and a replica-like certificate (CN=r2, O=triarch:replicas) it signs."""
    openssl("req", "-x509", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:P-256", "-nodes",
            "-keyout", "oca.key", "-out", "oca.crt", "-subj", "/CN=another-ca", "-days", "2",
            "-addext", "basicConstraints=critical,CA:TRUE",
            "-addext", "keyUsage=critical,keyCertSign,digitalSignature", cwd=d)
    openssl("req", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:P-256", "-nodes",
            "-keyout", "o.key", "-out", "o.csr", "-subj", "/O=triarch:replicas/CN=r2", cwd=d)
    with open(os.path.join(d, "ext.cnf"), "w") as f:
        f.write("basicConstraints=critical,CA:FALSE\nkeyUsage=critical,digitalSignature\n"
                "extendedKeyUsage=serverAuth,clientAuth\nsubjectAltName=IP:127.0.0.1\n")
    openssl("x509", "-req", "-in", "o.csr", "-CA", "oca.crt", "-CAkey", "oca.key",
            "-CAcreateserial", "-out", "o.crt", "-days", "2", "-extfile", "ext.cnf", cwd=d)
    return os.path.join(d, "o.crt"), os.path.join(d, "o.key")


def leader_and_term(c):
    name = c.wait_leader(30)
    s = c.status(name)
    return name, s.get("term") if s else None


def write_and_read(c, name, value):
    body = {"apiVersion": "v1", "kind": "ConfigMap", "metadata": {"name": name},
            "data": {"v": value}}
    writer = c.names[-1]
    st, _, resp = c.request("POST", c.api_url(writer) + NS_PATH, body)
    check(f"create {name} through {writer}", 201, st, c)
    for r in c.names:
        st, _, resp = c.request("GET", c.api_url(r) + NS_PATH + "/" + name)
        check(f"{name} read on {r}", 200, st, c)
        check(f"{name} value on {r}", value, json.loads(resp)["data"]["v"], c)


def refusal_logged(c, name, since, needle):
    with open(c.log_path(name), errors="replace") as f:
        f.seek(since)
        text = f.read()
    lines = [ln for ln in text.splitlines() if "refused peer connection" in ln]
    return any("remote=127.0.0.1:" in ln and needle in ln for ln in lines), lines


def test_peer_tls():
    ports = free_ports(3)
    with Cluster(n=3) as c:
        proxies = {}
        for i, m in enumerate(c.spec["members"]):
            proxies[m["name"]] = Proxy(ports[i], m["peer"])
            proxies[m["name"]].start()
        routed = ",".join(f"{m['name']}=127.0.0.1:{ports[i]}"
                          for i, m in enumerate(c.spec["members"]))
        c.extra_flags = FLAGS + ["--initial-cluster", routed]
        try:
            run(c, proxies)
        finally:
            for p in proxies.values():
                p.stop()


def run(c, proxies):
    pki = os.path.join(c.dir, "pki")
    members = {m["name"]: m for m in c.spec["members"]}

    # CIS 2.1/2.4: the configs `triarch init` wrote name the peer certificate and key
    for name in c.names:
        with open(os.path.join(c.dir, name, "triarchd.yaml")) as f:
            y = f.read()
        for key in ("peer-cert-file", "peer-key-file", "peer-trusted-ca-file"):
            check(f"{name}/triarchd.yaml sets {key}", True, f"{key}:" in y, c)
        check(f"{name}/triarchd.yaml has no plaintext switch", False,
              "peer-insecure-plaintext" in y, c)

    c.start_all()
    c.wait_ready(60)
    leader0, term0 = leader_and_term(c)

    test_cis_peer_traffic_encrypted(c, proxies)
    test_cis_2_2_2_5_peer_client_cert_auth(c, pki, members)
    test_cis_2_3_2_6_no_auto_tls(c, pki, members)
    test_cis_2_1_2_4_peer_settings_required(c)

    write_and_read(c, "after-strangers", "ok")
    leader1, term1 = leader_and_term(c)
    check("the cluster kept its leader", leader0, leader1, c)
    check("the cluster kept its term", term0, term1, c)


def test_cis_peer_traffic_encrypted(c, proxies):
    canary = "peer-tls-canary-" + uuid.uuid4().hex
    write_and_read(c, "canary", canary)
    wire = b"".join(p.bytes() for p in proxies.values())
    check("peer traffic went through the proxies", True, len(wire) > 1000, c)
    check("the canary value is not on the wire in plaintext", False, canary.encode() in wire, c)
    check("the canary's unique half is not on the wire either", False,
          canary[-32:].encode() in wire, c)
    check("the wire carries TLS application-data records", True, b"\x17\x03\x03" in wire, c)
    check("no plaintext peer handshake on the wire", False, b"TRHS" in wire, c)


def test_cis_2_2_2_5_peer_client_cert_auth(c, pki, members):
    target = c.names[0]
    addr = members[target]["peer"]
    who = members[c.names[1]]
    hs = handshake(3, c.cluster_id, int(who["id"]), who["name"])
    ca = os.path.join(pki, "ca.crt")

    # the control: a replica certificate of the cluster CA is answered
    got = peer_exchange(addr, hs, os.path.join(pki, who["name"] + ".crt"),
                        os.path.join(pki, who["name"] + ".key"), ca)
    check("a member's certificate gets a handshake reply", True,
          isinstance(got, bytes) and got[:4] == b"TRHS" and got[5] == 0, c)

    tmp = tempfile.mkdtemp(dir=c.dir)
    ocrt, okey = other_ca_cert(tmp)
    cases = [
        ("old plaintext handshake over raw TCP", dict(tls=False), "TLS handshake failed"),
        ("TLS without a client certificate", {}, "certificate"),
        ("a certificate of another CA", dict(cert=ocrt, key=okey), "certificate verify failed"),
        ("the admin client certificate", dict(cert=os.path.join(pki, "admin.crt"),
                                              key=os.path.join(pki, "admin.key")),
         "not a replica certificate"),
    ]
    for what, kw, reason in cases:
        since = os.path.getsize(c.log_path(target))
        got = peer_exchange(addr, hs, **kw)
        check(f"{what}: closed without a handshake reply (got {got!r:.80})", True,
              not (isinstance(got, bytes) and b"TRHS" in got), c)
        wait_until(f"{target} logs the refusal of {what} ({reason})",
                   lambda: refusal_logged(c, target, since, reason)[0], 10, c)


def test_cis_2_3_2_6_no_auto_tls(c, pki, members):
    """The certificate a replica presents is its own, signed by the cluster CA."""
    target = members[c.names[0]]
    ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_CLIENT)
    ctx.check_hostname = False
    ctx.load_verify_locations(os.path.join(pki, "ca.crt"))  # fails on a self-signed cert
    ctx.load_cert_chain(os.path.join(pki, "r2.crt"), os.path.join(pki, "r2.key"))
    host, port = target["peer"].rsplit(":", 1)
    with socket.create_connection((host, int(port)), timeout=10) as raw:
        with ctx.wrap_socket(raw) as s:
            cert = s.getpeercert()
            version = s.version()
    subject = dict(x[0] for x in cert["subject"])
    check("peer certificate CN is the replica's name", target["name"], subject.get("commonName"),
          c)
    check("peer certificate O is triarch:replicas", "triarch:replicas",
          subject.get("organizationName"), c)
    check("TLS 1.3 between replicas", "TLSv1.3", version, c)
    r = subprocess.run([binary("triarchd"), "--help"], capture_output=True, text=True, timeout=30)
    check("no auto-tls setting exists", False, "auto-tls" in r.stdout, c)


def test_cis_2_1_2_4_peer_settings_required(c):
    """CIS 2.4 / 1.2.26: without the peer TLS settings triarchd refuses to start."""
    cfg = os.path.join(c.dir, "r1", "triarchd.yaml")
    with open(cfg) as f:
        lines = [ln for ln in f
                 if not ln.startswith(("peer-cert-file", "peer-key-file", "peer-trusted-ca"))]
    bad = os.path.join(c.dir, "nopeertls.yaml")
    with open(bad, "w") as f:
        f.writelines(lines)
    r = subprocess.run([binary("triarchd"), "--config", bad], capture_output=True, text=True,
                       timeout=30)
    check("triarchd without peer TLS settings: exit 2", 2, r.returncode, c)
    for key in ("peer-cert-file", "peer-key-file", "peer-trusted-ca-file"):
        check(f"the refusal names {key} (got {r.stderr.strip()[:200]!r})", True, key in r.stderr,
              c)
    r = subprocess.run([binary("triarchd"), "--config", bad, "--peer-insecure-plaintext", "maybe"],
                       capture_output=True, text=True, timeout=30)
    check("peer-insecure-plaintext takes only true/false: exit 2", 2, r.returncode, c)


harness.main(test_peer_tls)
