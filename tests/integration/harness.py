"""Integration-test harness: a real triarch cluster in a temporary directory.

Stdlib only, run by Debian's /usr/bin/python3. ctest passes --bin-dir (the build
tree, where triarch and triarchd are) and --src-dir (the source tree).

    import harness
    from harness import Cluster, check

    def test_leader_elected():
        with Cluster(n=3, extra_flags=["--election-timeout-ms", "300"]) as c:
            c.wait_ready(30)
            check("a leader", True, c.leader() is not None, c)

    harness.main(test_leader_elected)

`Cluster` runs `triarch init` with free loopback ports, then spawns each triarchd
itself, each in its own process group and with PR_SET_PDEATHSIG so nothing outlives
the test. On success the temporary directory is removed; on failure it is kept and
its path printed, with every process's log inside (D/<name>/triarchd.log).
"""

import argparse
import base64
import ctypes
import http.client
import json
import os
import shutil
import signal
import socket
import ssl
import subprocess
import sys
import tempfile
import time
import traceback
import urllib.parse

PR_SET_PDEATHSIG = 1  # <linux/prctl.h>
KUBECTL = "/usr/bin/kubectl"
HAPROXY = "/usr/sbin/haproxy"
POLL_S = 0.1  # readiness is polled, never slept for


class TestFailure(Exception):
    """A check that did not hold; main() prints it as FAIL."""


def args():
    """The --bin-dir/--src-dir that ctest passes (defaults: ./build, this tree)."""
    here = os.path.dirname(os.path.abspath(__file__))
    p = argparse.ArgumentParser(add_help=False)
    p.add_argument("--bin-dir", default=os.environ.get("TRI_BIN_DIR", "build"))
    p.add_argument("--src-dir", default=os.path.dirname(os.path.dirname(here)))
    a, _ = p.parse_known_args()
    a.bin_dir = os.path.abspath(a.bin_dir)
    a.src_dir = os.path.abspath(a.src_dir)
    return a


def binary(name):
    return os.path.join(args().bin_dir, name)


def check(what, expected, got, cluster=None):
    """Raises TestFailure("expected X got Y (logs in DIR)") unless got == expected."""
    if got == expected:
        return
    where = f" (logs in {cluster.dir})" if cluster is not None else ""
    raise TestFailure(f"{what}: expected {expected!r} got {got!r}{where}")


# Listening ports are picked below the kernel's ephemeral range (32768-60999 here):
# a port bound to 0 and closed again comes from that range, and the source port of
# any outgoing connection (kubectl, h2load, haproxy's checks) may take it before the
# replica binds it ("address already in use", seen under parallel tests). Below the
# range only another test picking the same random port can collide, and each pick is
# checked by binding it.
PORT_LOW, PORT_HIGH = 20000, 32000


def _ephemeral_low():
    try:
        with open("/proc/sys/net/ipv4/ip_local_port_range") as f:
            return int(f.read().split()[0])
    except (OSError, ValueError, IndexError):
        return 32768


def free_ports(n):
    """n distinct loopback ports, free a moment ago, outside the ephemeral range."""
    import random
    rng = random.Random(os.getpid() ^ time.monotonic_ns())
    high = min(PORT_HIGH, _ephemeral_low() - 1)
    ports, socks = [], []
    try:
        for _ in range(200 * n):
            if len(ports) == n:
                break
            p = rng.randrange(PORT_LOW, high)
            if p in ports:
                continue
            s = socket.socket()
            try:
                s.bind(("127.0.0.1", p))
            except OSError:
                s.close()
                continue
            socks.append(s)
            ports.append(p)
        if len(ports) < n:
            raise TestFailure(f"could not find {n} free loopback ports in {PORT_LOW}-{high}")
        return ports
    finally:
        for s in socks:
            s.close()


def _child_setup():
    """In the child before exec: own process group, and die when the test dies."""
    os.setpgid(0, 0)
    libc = ctypes.CDLL(None, use_errno=True)
    libc.prctl(PR_SET_PDEATHSIG, signal.SIGKILL, 0, 0, 0)


def spawn(argv, log_path, env=None):
    """Starts argv in its own process group, stdout+stderr appended to log_path."""
    log = open(log_path, "ab")
    try:
        return subprocess.Popen(argv, stdin=subprocess.DEVNULL, stdout=log,
                                stderr=subprocess.STDOUT, preexec_fn=_child_setup,
                                env=env)
    finally:
        log.close()


def triarch(*argv, timeout=120):
    """Runs the triarch CLI; returns the CompletedProcess (text)."""
    return subprocess.run([binary("triarch"), *argv], capture_output=True, text=True,
                          timeout=timeout)


def wait_until(what, fn, timeout, cluster=None):
    """Polls fn() until it returns something truthy; TestFailure after timeout."""
    deadline = time.monotonic() + timeout
    while True:
        got = fn()
        if got:
            return got
        if time.monotonic() > deadline:
            where = f" (logs in {cluster.dir})" if cluster is not None else ""
            raise TestFailure(f"{what}: not true after {timeout}s{where}")
        time.sleep(POLL_S)


class Client:
    """HTTP/1.1 client of a cluster directory: trusts its CA, presents the admin cert."""

    def __init__(self, cluster_dir):
        self.dir = cluster_dir
        self._ssl = None

    def ssl_context(self):
        if self._ssl is None:
            pki = os.path.join(self.dir, "pki")
            ctx = ssl.create_default_context(cafile=os.path.join(pki, "ca.crt"))
            ctx.load_cert_chain(os.path.join(pki, "admin.crt"), os.path.join(pki, "admin.key"))
            self._ssl = ctx
        return self._ssl

    def request(self, method, url, body=None, headers=None, timeout=10):
        """HTTP/1.1 request as admin; returns (status, headers dict, body bytes)."""
        u = urllib.parse.urlsplit(url)
        if u.scheme == "https":
            conn = http.client.HTTPSConnection(u.hostname, u.port, timeout=timeout,
                                               context=self.ssl_context())
        else:
            conn = http.client.HTTPConnection(u.hostname, u.port, timeout=timeout)
        if isinstance(body, (dict, list)):
            body = json.dumps(body)
            headers = {"Content-Type": "application/json", **(headers or {})}
        try:
            path = u.path + (f"?{u.query}" if u.query else "")
            conn.request(method, path or "/", body=body, headers=headers or {})
            resp = conn.getresponse()
            return resp.status, dict(resp.getheaders()), resp.read()
        finally:
            conn.close()


class Cluster:
    """n triarchd replicas made by `triarch init`, run by this process."""

    def __init__(self, n=3, tmpdir=None, extra_flags=None, flags=None):
        self.dir = tmpdir or tempfile.mkdtemp(prefix="triarch-it-")
        self.extra_flags = list(extra_flags or [])
        self.flags = dict(flags or {})  # name -> extra flags for that replica only
        self.procs = {}
        self.haproxy_proc = None
        self.client = Client(self.dir)
        ports = free_ports(2 * n + 1)
        self.names = [f"r{i + 1}" for i in range(n)]
        members = ",".join(f"{m}=127.0.0.1:{ports[2 * i]}" for i, m in enumerate(self.names))
        api = ",".join(f"{m}=127.0.0.1:{ports[2 * i + 1]}" for i, m in enumerate(self.names))
        self.lb = f"127.0.0.1:{ports[-1]}"
        r = triarch("init", "--dir", self.dir, "--members", members, "--api", api,
                    "--lb", self.lb)
        if r.returncode != 0:
            raise TestFailure(f"triarch init: expected exit 0 got {r.returncode}: {r.stderr}")
        with open(os.path.join(self.dir, "cluster.json")) as f:
            self.spec = json.load(f)
        self.cluster_id = self.spec["clusterId"]

    # ---- processes ----

    def data_dir(self, name):
        return os.path.join(self.dir, name, "data")

    def log_path(self, name):
        return os.path.join(self.dir, name, "triarchd.log")

    def start(self, name, *flags):
        """Starts replica name (again) from its config; stale api.addr removed first."""
        if self.running(name):
            raise TestFailure(f"start {name}: already running")
        try:
            os.unlink(os.path.join(self.data_dir(name), "api.addr"))
        except FileNotFoundError:
            pass
        argv = [binary("triarchd"), "--config", os.path.join(self.dir, name, "triarchd.yaml"),
                *self.extra_flags, *self.flags.get(name, []), *flags]
        self.procs[name] = spawn(argv, self.log_path(name))
        return self.procs[name]

    def start_all(self):
        for name in self.names:
            self.start(name)

    def running(self, name):
        p = self.procs.get(name)
        return p is not None and p.poll() is None

    def kill(self, name, sig=signal.SIGKILL):
        """Sends sig to the replica's process group; waits for it after KILL/TERM."""
        p = self.procs.get(name)
        if p is None or p.poll() is not None:
            return
        os.killpg(p.pid, sig)
        if sig in (signal.SIGKILL, signal.SIGTERM):
            p.wait(timeout=30)

    def stop(self, name, grace=10):
        """Graceful stop: SIGTERM, SIGKILL after grace seconds. Returns the exit code."""
        p = self.procs.get(name)
        if p is None or p.poll() is not None:
            return p.returncode if p else None
        os.killpg(p.pid, signal.SIGTERM)
        try:
            return p.wait(timeout=grace)
        except subprocess.TimeoutExpired:
            os.killpg(p.pid, signal.SIGKILL)
            p.wait(timeout=30)
            raise TestFailure(f"stop {name}: ignored SIGTERM for {grace}s (logs in {self.dir})")

    def wipe(self, name):
        """Stops the replica and deletes its data dir (its config and keys stay)."""
        self.kill(name)
        shutil.rmtree(self.data_dir(name), ignore_errors=True)

    def haproxy(self):
        """Starts haproxy in the foreground on self.lb, from deploy/haproxy.cfg.in."""
        with open(os.path.join(args().src_dir, "deploy", "haproxy.cfg.in")) as f:
            text = f.read()
        opts = ("check check-ssl verify none inter 500ms fall 2 rise 1 "
                "on-marked-down shutdown-sessions")
        servers = "".join(f"    server {m['name']} {m['api']} {opts}\n"
                          for m in self.spec["members"])
        text = text.replace("{{LB}}", self.lb).replace("{{SERVERS}}\n", servers)
        cfg = os.path.join(self.dir, "haproxy.cfg")
        with open(cfg, "w") as f:
            f.write(text)
        self.haproxy_proc = spawn([HAPROXY, "-f", cfg, "-db"],
                                  os.path.join(self.dir, "haproxy.log"))
        host, port = self.lb.rsplit(":", 1)

        def listening():
            try:
                socket.create_connection((host, int(port)), timeout=1).close()
                return True
            except OSError:
                return False

        wait_until(f"haproxy listens on {self.lb}", listening, 10, self)
        return self.haproxy_proc

    # ---- addresses and requests ----

    def api_url(self, name, timeout=10):
        """The first line of data-dir/api.addr, waiting for the replica to write it."""
        path = os.path.join(self.data_dir(name), "api.addr")

        def read():
            try:
                with open(path) as f:
                    return f.readline().strip()
            except FileNotFoundError:
                return None

        return wait_until(f"{name} writes {path}", read, timeout, self)

    def api_urls(self, name, timeout=10):
        """Every line of api.addr (TLS first, then --api-listen-plain if given)."""
        self.api_url(name, timeout)
        with open(os.path.join(self.data_dir(name), "api.addr")) as f:
            return [line.strip() for line in f if line.strip()]

    def request(self, method, url, body=None, headers=None, timeout=10):
        """HTTP/1.1 request as admin; returns (status, headers dict, body bytes)."""
        return self.client.request(method, url, body, headers, timeout)

    def status(self, name):
        """The replica's /triarch/v1/status as a dict, or None when it does not answer."""
        try:
            st, _, body = self.request("GET", self.api_url(name, timeout=0) +
                                       "/triarch/v1/status", timeout=2)
            return json.loads(body) if st == 200 else None
        except (OSError, TestFailure, ValueError, http.client.HTTPException):
            return None

    def leader(self):
        """Name of the replica that says it is leader, or None."""
        for name in self.names:
            if self.running(name):
                s = self.status(name)
                if s and s.get("role") == "leader":
                    return name
        return None

    def ready(self, name):
        try:
            st, _, _ = self.request("GET", self.api_url(name, timeout=0) + "/readyz",
                                    timeout=2)
            return st == 200
        except (OSError, TestFailure, http.client.HTTPException):
            return False

    def wait_ready(self, timeout=30, names=None):
        """Until every running replica (or those named) answers /readyz 200."""
        names = names or [n for n in self.names if self.running(n)]
        for name in names:
            self.api_url(name, timeout)
        return wait_until(f"{','.join(names)} ready",
                          lambda: all(self.ready(n) for n in names), timeout, self)

    def wait_leader(self, timeout=30):
        return wait_until("a leader", self.leader, timeout, self)

    # ---- audit log ----

    def audit_log_path(self, name):
        """Where `triarch init` points the replica's audit log (audit-log-path)."""
        return os.path.join(self.dir, name, "audit", "audit.log")

    def audit_events(self, name):
        """The replica's audit events (audit.k8s.io/v1 Event dicts), backups first."""
        path = self.audit_log_path(name)
        d = os.path.dirname(path)
        files = sorted(f for f in os.listdir(d) if f != "audit.log") if os.path.isdir(d) else []
        events = []
        for f in files + ["audit.log"]:
            try:
                with open(os.path.join(d, f)) as fh:
                    events += [json.loads(line) for line in fh if line.strip()]
            except FileNotFoundError:
                pass
        return events

    # ---- kubectl ----

    def wait_settled(self, name=None, quiet_s=1.0, timeout=30):
        """Waits until the store revision (seen on name, default the leader) has not
        moved for quiet_s: the leader's bootstrap writes (default RBAC policy, each
        namespace's account and CA bundle) are done. For tests that count writes."""
        name = name or self.wait_leader(timeout)
        last, since = None, time.monotonic()
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            st = self.status(name) or {}
            rev = st.get("revision")
            if rev != last:
                last, since = rev, time.monotonic()
            elif time.monotonic() - since >= quiet_s:
                return rev
            time.sleep(POLL_S)
        raise TestFailure(f"{name}: the store kept changing for {timeout}s (logs in {self.dir})")

    @property
    def kubeconfig(self):
        """D/kubeconfig: through haproxy when started, else straight to a replica."""
        path = os.path.join(self.dir, "kubeconfig")
        r = triarch("kubeconfig", "--dir", self.dir)
        if r.returncode != 0:
            raise TestFailure(f"triarch kubeconfig: {r.stderr}")
        text = r.stdout
        if self.haproxy_proc is None:
            live = next((n for n in self.names if self.running(n)), self.names[0])
            text = text.replace(f"server: https://{self.lb}", f"server: {self.api_url(live)}")
        with open(path, "w") as f:
            f.write(text)
        return path

    def kubectl(self, *argv, timeout=60, input=None):
        return subprocess.run([KUBECTL, "--kubeconfig", self.kubeconfig, *argv],
                              capture_output=True, text=True, timeout=timeout, input=input)

    # ---- teardown ----

    def close(self, ok=True):
        """Kills every process group; removes the dir on success, keeps it otherwise."""
        procs = list(self.procs.values()) + [self.haproxy_proc]
        for p in procs:
            if p is not None and p.poll() is None:
                try:
                    os.killpg(p.pid, signal.SIGKILL)
                except ProcessLookupError:
                    pass
                p.wait(timeout=30)
        if ok:
            shutil.rmtree(self.dir, ignore_errors=True)
        else:
            print(f"logs kept in {self.dir}", file=sys.stderr)

    def __enter__(self):
        return self

    def __exit__(self, exc_type, exc, tb):
        self.close(ok=exc_type is None)
        return False



class TestPKI:
    """Certificates for tests: signed by the cluster CA with chosen subjects, usages
    and dates (openssl ca), or by a CA of their own; and HTTPS requests with them."""

    CONF = """[ca]
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

    def __init__(self, c):
        self.c = c
        self.work = os.path.join(c.dir, "test-pki")
        os.makedirs(self.work, exist_ok=True)
        with open(os.path.join(self.work, "ca.cnf"), "w") as f:
            f.write(self.CONF)
        open(os.path.join(self.work, "index.txt"), "w").close()
        with open(os.path.join(self.work, "serial"), "w") as f:
            f.write("1000\n")

    def openssl(self, *argv):
        r = subprocess.run(["openssl", *argv], cwd=self.work, capture_output=True, text=True,
                           timeout=60)
        if r.returncode != 0:
            raise TestFailure(f"openssl {' '.join(argv)}: {r.stderr}")
        return r.stdout

    def issue(self, name, subj, ext="client", start=None, end=None, days=30):
        """(cert, key) paths of a certificate signed by the cluster CA."""
        pki = os.path.join(self.c.dir, "pki")
        self.openssl("req", "-new", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:P-256",
                     "-nodes", "-keyout", f"{name}.key", "-subj", subj, "-out", f"{name}.csr")
        dates = ["-startdate", start, "-enddate", end] if start else ["-days", str(days)]
        self.openssl("ca", "-batch", "-config", "ca.cnf", "-cert", os.path.join(pki, "ca.crt"),
                     "-keyfile", os.path.join(pki, "ca.key"), "-in", f"{name}.csr", "-out",
                     f"{name}.crt", "-extensions", ext, "-notext", *dates)
        return os.path.join(self.work, f"{name}.crt"), os.path.join(self.work, f"{name}.key")

    def self_signed(self, name, subj):
        self.openssl("req", "-x509", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:P-256",
                     "-nodes", "-keyout", f"{name}.key", "-out", f"{name}.crt", "-days", "30",
                     "-subj", subj)
        return os.path.join(self.work, f"{name}.crt"), os.path.join(self.work, f"{name}.key")

    def context(self, cert=None):
        ctx = ssl.create_default_context(cafile=os.path.join(self.c.dir, "pki", "ca.crt"))
        if cert:
            ctx.load_cert_chain(*cert)
        return ctx

    def request(self, url, method, path, cert=None, token=None, body=None, headers=None):
        """(status, parsed JSON or raw bytes) of one HTTPS request."""
        u = urllib.parse.urlsplit(url)
        conn = http.client.HTTPSConnection(u.hostname, u.port, context=self.context(cert),
                                           timeout=10)
        h = dict(headers or {})
        if token:
            h["Authorization"] = f"Bearer {token}"
        if body is not None and not isinstance(body, (bytes, str)):
            body = json.dumps(body)
            h.setdefault("Content-Type", "application/json")
        conn.request(method, path, body=body, headers=h)
        r = conn.getresponse()
        data = r.read()
        conn.close()
        try:
            return r.status, json.loads(data)
        except ValueError:
            return r.status, data

    def kubeconfig(self, name, cert):
        """A kubeconfig for the load balancer that authenticates with cert."""
        path = os.path.join(self.work, f"{name}.kubeconfig")
        with open(self.c.kubeconfig) as f:
            text = f.read()
        with open(cert[0], "rb") as f:
            crt = base64.b64encode(f.read()).decode()
        with open(cert[1], "rb") as f:
            key = base64.b64encode(f.read()).decode()
        lines = []
        for line in text.splitlines():
            stripped = line.strip()
            if stripped.startswith("client-certificate-data:"):
                line = line.split(":")[0] + ": " + crt
            elif stripped.startswith("client-key-data:"):
                line = line.split(":")[0] + ": " + key
            elif stripped.startswith("client-certificate:") or stripped.startswith("client-key:"):
                raise TestFailure("kubeconfig with certificate paths: expected inline data")
            lines.append(line)
        with open(path, "w") as f:
            f.write("\n".join(lines) + "\n")
        os.chmod(path, 0o600)
        return path

class Kube:
    """Runs /usr/bin/kubectl with the cluster's kubeconfig and a private cache dir
    (discovery caches are keyed by host:port, which another test may have reused)."""

    def __init__(self, c, kubeconfig=None):
        self.c = c
        self.cfg = kubeconfig or c.kubeconfig
        self.cache = os.path.join(c.dir, "kube-cache")

    def run(self, *argv, timeout=60, input=None):
        return subprocess.run([KUBECTL, "--kubeconfig", self.cfg, "--cache-dir", self.cache,
                               *argv], capture_output=True, text=True, timeout=timeout,
                              input=input)

    def _say(self, argv, r):
        return (f"kubectl {' '.join(argv)}: exit {r.returncode}\n--- stdout:\n{r.stdout}"
                f"--- stderr:\n{r.stderr[-3000:]}\n(logs in {self.c.dir})")

    def ok(self, *argv, **kw):
        """stdout of a command that must succeed."""
        r = self.run(*argv, **kw)
        if r.returncode != 0:
            raise TestFailure(f"expected exit 0, got {self._say(argv, r)}")
        return r.stdout

    def ok_full(self, *argv, **kw):
        r = self.run(*argv, **kw)
        if r.returncode != 0:
            raise TestFailure(f"expected exit 0, got {self._say(argv, r)}")
        return r

    def fails(self, *argv, **kw):
        """stderr of a command that must fail."""
        r = self.run(*argv, **kw)
        if r.returncode == 0:
            raise TestFailure(f"expected a non-zero exit, got {self._say(argv, r)}")
        return r.stderr

    def obj(self, *argv):
        out = self.ok(*argv, "-o", "json")
        try:
            return json.loads(out)
        except ValueError:
            raise TestFailure(f"kubectl {' '.join(argv)} -o json: expected JSON got {out!r}")

    def names(self, *argv):
        """`-o name` output as a sorted list."""
        return sorted(self.ok(*argv, "-o", "name").split())


def main(test_fn):
    """Runs test_fn; prints "PASS name" or "FAIL name: ..." and exits 0 or 1."""
    name = test_fn.__name__
    try:
        test_fn()
    except TestFailure as e:
        print(f"FAIL {name}: {e}", flush=True)
        sys.exit(1)
    except Exception as e:  # a crash in the test is a failure too, with its traceback
        traceback.print_exc()
        print(f"FAIL {name}: {type(e).__name__}: {e}", flush=True)
        sys.exit(1)
    print(f"PASS {name}", flush=True)
    sys.exit(0)
