"""Shared pieces of the benchmarks: triarch and etcd clusters on loopback, h2load
runs with exact percentiles from its per-request log, CPU time and RSS from /proc.

Stdlib only (Debian's /usr/bin/python3). Clusters come from the integration-test
harness (tests/integration/harness.py), so a benchmark cluster is made exactly the
way the tests make one: `triarch init`, then each triarchd spawned in its own
process group with PR_SET_PDEATHSIG, so nothing outlives the benchmark. Every
benchmark puts its files under one temporary directory in /tmp (ext4 here, so
fsync is real) and removes it when done, whatever happened.
"""

import base64
import json
import os
import re
import shutil
import signal
import subprocess
import sys
import tempfile
import time
import urllib.request

def _exit_on_term(signum, frame):
    """SIGTERM (run.sh's time limit) unwinds like an exception, so every finally
    block runs: clusters killed, temp dirs removed."""
    sys.exit(128 + signum)


signal.signal(signal.SIGTERM, _exit_on_term)

HERE = os.path.dirname(os.path.abspath(__file__))
SRC = os.path.dirname(HERE)
sys.path.insert(0, os.path.join(SRC, "tests", "integration"))
os.environ.setdefault("TRI_BIN_DIR", os.path.join(SRC, "build", "release"))
import harness  # noqa: E402  (needs TRI_BIN_DIR set first)

H2LOAD = "/usr/bin/h2load"
ETCD = "/usr/bin/etcd"
PERF = "/usr/bin/perf"
CLK_TCK = os.sysconf("SC_CLK_TCK")
PAGE = os.sysconf("SC_PAGE_SIZE")
VALUE_BYTES = 1024          # the payload of every benchmark write
H2LOAD_TIMEOUT_S = 180      # no single load run may take longer than this
READY_TIMEOUT_S = 60
CONFIGMAPS = "/api/v1/namespaces/default/configmaps"
# A pause of this long with no response completing at all, while requests are in
# flight, is a server stall (loop blocked), not queueing.
STALL_MS = 20


def log(msg):
    print(f"[bench {time.strftime('%H:%M:%S')}] {msg}", file=sys.stderr, flush=True)


# ---------------------------------------------------------------- bodies

def configmap_body(path, value_bytes=VALUE_BYTES):
    """One fixed POST body; generateName makes every created object's name unique."""
    body = {"apiVersion": "v1", "kind": "ConfigMap", "metadata": {"generateName": "b-"},
            "data": {"k": "x" * value_bytes}}
    with open(path, "w") as f:
        json.dump(body, f, separators=(",", ":"))
    return os.path.getsize(path)


def etcd_put_body(path, value_bytes=VALUE_BYTES):
    """One fixed body for etcd's JSON gateway: the same key each time (a put of an
    existing key is still a full replicated, fsync'd write of the 1 KiB value)."""
    body = {"key": base64.b64encode(b"bench/k").decode(),
            "value": base64.b64encode(b"x" * value_bytes).decode()}
    with open(path, "w") as f:
        json.dump(body, f, separators=(",", ":"))
    return os.path.getsize(path)


# ---------------------------------------------------------------- /proc

def cpu_ticks(pid):
    """utime+stime of pid in clock ticks (fields 14 and 15 of /proc/PID/stat)."""
    with open(f"/proc/{pid}/stat") as f:
        rest = f.read().rsplit(")", 1)[1].split()
    return int(rest[11]) + int(rest[12])


def cpu_seconds(pids):
    return {p: cpu_ticks(p) / CLK_TCK for p in pids}


def proc_status(pid, field):
    """A kB field of /proc/PID/status (VmRSS, VmHWM) in bytes."""
    with open(f"/proc/{pid}/status") as f:
        for line in f:
            if line.startswith(field + ":"):
                return int(line.split()[1]) * 1024
    return None


# ---------------------------------------------------------------- statistics

def median_of(runs, key):
    """The median (upper middle) of runs[i][key] over repeated runs of one case."""
    vals = sorted(r[key] for r in runs)
    return vals[len(vals) // 2]


def percentile(sorted_vals, q):
    """Nearest-rank percentile (q in 0..100) of an already sorted list."""
    if not sorted_vals:
        return float("nan")
    k = max(1, -(-len(sorted_vals) * q // 100))  # ceil(n*q/100), at least 1
    return sorted_vals[int(min(k, len(sorted_vals))) - 1]


# ---------------------------------------------------------------- h2load

def h2load(url, body_path, n, c, m=1, h1=False, log_path=None, timeout=H2LOAD_TIMEOUT_S,
           headers=()):
    """Runs h2load POSTing body_path (None: GETs) n times over c connections with m
    streams each, with extra headers ("Name: value" strings).

    Returns a dict: n, ok (2xx), failed (everything else), other_codes ({status:
    count} of the non-2xx in the log, -1 = failed stream), rps (h2load's figure),
    rps_ok (2xx per second of the run), p50/p99/max in ms from the per-request log
    (2xx only), codes (h2load's status line), elapsed_s, max_gap_ms (the longest
    time with no response completing) and gaps_over_stall (how many such gaps were
    >= STALL_MS).
    """
    if log_path is None:
        fd, log_path = tempfile.mkstemp(prefix="h2load-", suffix=".log")
        os.close(fd)
    argv = [H2LOAD, "-n", str(n), "-c", str(c), "-m", str(m), "-t", "1",
            "--log-file", log_path, url]
    if body_path is not None:
        argv[1:1] = ["-d", body_path, "-H", "Content-Type: application/json"]
    for h in headers:
        argv[1:1] = ["-H", h]
    if h1:
        argv.insert(1, "--h1")
    try:
        return _h2load_parse(argv, n, c, m, log_path, timeout)
    finally:
        if os.path.exists(log_path):
            os.unlink(log_path)


def _h2load_parse(argv, n, c, m, log_path, timeout):
    t0 = time.monotonic()
    try:
        r = subprocess.run(argv, capture_output=True, text=True, timeout=timeout)
    except subprocess.TimeoutExpired:
        return {"n": n, "c": c, "error": f"h2load timed out after {timeout}s"}
    elapsed = time.monotonic() - t0
    out = r.stdout
    res = {"n": n, "c": c, "m": m, "elapsed_s": elapsed}
    mo = re.search(r"finished in ([\d.]+)(m?s), ([\d.]+) req/s", out)
    if mo is None or r.returncode != 0:
        res["error"] = f"h2load exit {r.returncode}: {out[-400:]} {r.stderr[-400:]}"
        return res
    res["rps"] = float(mo.group(3))
    run_s = float(mo.group(1)) / (1000.0 if mo.group(2) == "ms" else 1.0)
    mo = re.search(r"status codes: (\d+) 2xx, (\d+) 3xx, (\d+) 4xx, (\d+) 5xx", out)
    res["codes"] = mo.group(0) if mo else "?"
    lat, other, ends = [], {}, []
    with open(log_path) as f:
        for line in f:
            cols = line.split("\t")
            if len(cols) < 3:
                continue
            code = int(cols[1])
            ends.append(int(cols[0]) + int(cols[2]))
            if 200 <= code < 300:
                lat.append(int(cols[2]) / 1000.0)
            else:
                other[code] = other.get(code, 0) + 1
    lat.sort()
    ends.sort()
    gaps = [(b - a) / 1000.0 for a, b in zip(ends, ends[1:])]
    res["max_gap_ms"] = max(gaps) if gaps else float("nan")
    res["gaps_over_stall"] = sum(1 for g in gaps if g >= STALL_MS)
    res.update(ok=len(lat), failed=n - len(lat), other_codes=other,
               rps_ok=len(lat) / run_s if run_s > 0 else 0.0,
               p50=percentile(lat, 50), p99=percentile(lat, 99),
               max=lat[-1] if lat else float("nan"))
    return res


# ---------------------------------------------------------------- goload

GO = "/usr/bin/go"
GOPATH = "/usr/share/gocode"  # Debian's golang-golang-x-net-dev puts x/net/http2 here


def goload_binary():
    """Path of bench/goload built into TRI_BIN_DIR (built when missing or older than
    its source). Needs Debian's golang-go and golang-golang-x-net-dev (`make bench`
    installs them: scripts/setup.sh --bench)."""
    src = os.path.join(HERE, "goload", "main.go")
    out = os.path.join(os.environ["TRI_BIN_DIR"], "goload")
    if os.path.exists(out) and os.path.getmtime(out) >= os.path.getmtime(src):
        return out
    if not os.path.exists(GO) or not os.path.isdir(os.path.join(GOPATH, "src/golang.org/x/net")):
        raise RuntimeError("goload needs golang-go and golang-golang-x-net-dev "
                           "(scripts/setup.sh --bench installs them)")
    env = dict(os.environ, GO111MODULE="off", GOPATH=GOPATH, GOFLAGS="",
               GOCACHE=os.path.join(os.environ["TRI_BIN_DIR"], "go-cache"))
    subprocess.run([GO, "build", "-o", out, "./bench/goload"], cwd=SRC, env=env, check=True,
                   timeout=300)
    return out


def goload(url, n, c, conns=0, body_path=None, token=None, cert=None, ca=None,
           timeout=H2LOAD_TIMEOUT_S):
    """Runs goload (Go's HTTP/2 client, as kubectl and client-go encode requests): n
    requests from c clients over `conns` connections (0: one per client). Returns the
    keys h2load() returns that the benchmarks read: n, ok, failed, other_codes, rps,
    rps_ok, p50, p99, max (ms, 2xx only)."""
    argv = [goload_binary(), "-url", url, "-n", str(n), "-c", str(c), "-conns", str(conns)]
    if body_path:
        argv += ["-method", "POST", "-body", body_path]
    if token:
        argv += ["-token", token]
    if cert:
        argv += ["-cert", cert[0], "-key", cert[1]]
    if ca:
        argv += ["-ca", ca]
    try:
        r = subprocess.run(argv, capture_output=True, text=True, timeout=timeout)
    except subprocess.TimeoutExpired:
        return {"n": n, "c": c, "error": f"goload timed out after {timeout}s"}
    if r.returncode != 0:
        return {"n": n, "c": c, "error": f"goload exit {r.returncode}: {r.stderr[-400:]}"}
    res = json.loads(r.stdout)
    res["other_codes"] = {int(k): v for k, v in res.pop("codes").items()
                          if not 200 <= int(k) < 300}
    return res


# ---------------------------------------------------------------- triarch

# The daemon runs as a copy under this name, with its config reached through a
# symlink of this name: on a shared machine a broad `pkill triarchd` (or `pkill -f
# triarchd`) from someone else's test teardown then cannot end a benchmark midway.
# (Measured happening here: SIGTERM from pkill to every triarchd on the machine.)
DAEMON_NAME = "tri-bench-d"
CONFIG_NAME = "bench.yaml"


class BenchCluster(harness.Cluster):
    """harness.Cluster, but replicas run as DAEMON_NAME (same binary, copied)."""

    def start(self, name, *flags):
        if self.running(name):
            raise harness.TestFailure(f"start {name}: already running")
        try:
            os.unlink(os.path.join(self.data_dir(name), "api.addr"))
        except FileNotFoundError:
            pass
        exe = os.path.join(self.dir, DAEMON_NAME)
        if not os.path.exists(exe):
            shutil.copy2(harness.binary("triarchd"), exe)
        conf = os.path.join(self.dir, name, CONFIG_NAME)
        if not os.path.lexists(conf):
            os.symlink("triarchd.yaml", conf)
        argv = [exe, "--config", conf, *self.extra_flags, *self.flags.get(name, []), *flags]
        self.procs[name] = harness.spawn(argv, self.log_path(name))
        return self.procs[name]


class Triarch:
    """A 3-replica triarch cluster from the harness, each replica also on a plain
    loopback listener (h2c / HTTP/1.1) that h2load can reach without TLS."""

    def __init__(self, root, extra_flags=()):
        d = os.path.join(root, "tri")
        os.makedirs(d, exist_ok=True)
        self.c = BenchCluster(n=3, tmpdir=d,
                                 extra_flags=["--api-listen-plain", "127.0.0.1:0",
                                              "--log-level", os.environ.get("BENCH_LOG_LEVEL", "info"),
                                              *extra_flags])

    def start(self):
        self.c.start_all()
        self.c.wait_ready(READY_TIMEOUT_S)
        self.c.wait_leader(READY_TIMEOUT_S)
        return self

    def plain(self, name, timeout=10):
        for u in self.c.api_urls(name, timeout):
            if u.startswith("http://"):
                return u
        raise harness.TestFailure(f"{name} has no plain listener in api.addr")

    def pid(self, name):
        return self.c.procs[name].pid

    def pids(self):
        return [self.pid(n) for n in self.c.names if self.c.running(n)]

    def status(self, name, timeout=1.0):
        """/triarch/v1/status over the plain listener, or None."""
        try:
            with urllib.request.urlopen(self.plain(name, 0) + "/triarch/v1/status",
                                        timeout=timeout) as r:
                return json.loads(r.read())
        except Exception:  # a dead or starting replica: no answer is the answer
            return None

    def leader(self):
        for n in self.c.names:
            if self.c.running(n):
                s = self.status(n)
                if s and s.get("role") == "leader":
                    return n
        return None

    def followers(self):
        ld = self.leader()
        return [n for n in self.c.names if n != ld]

    def ready(self, name, timeout=1.0):
        try:
            with urllib.request.urlopen(self.plain(name, 0) + "/readyz", timeout=timeout) as r:
                return r.status == 200
        except Exception:
            return False

    def metrics(self, name):
        with urllib.request.urlopen(self.plain(name) + "/metrics", timeout=5) as r:
            text = r.read().decode()
        out = {}
        for line in text.splitlines():
            if line and not line.startswith("#"):
                k, _, v = line.rpartition(" ")
                try:
                    out[k] = float(v)
                except ValueError:
                    pass
        return out

    def diagnose(self, why, tail=25):
        """Prints to stderr what each replica says and the end of its log."""
        log(f"triarch: diagnosing: {why}")
        for n in self.c.names:
            p = self.c.procs.get(n)
            state = "never started" if p is None else (
                "running" if p.poll() is None else f"exited with {p.returncode}")
            extra = ""
            if state == "running":
                try:
                    with open(f"/proc/{p.pid}/status") as f:
                        st = dict(l.split(":", 1) for l in f if ":" in l)
                    extra = (f"; proc state {st['State'].strip()}, threads "
                             f"{st['Threads'].strip()}, fds {len(os.listdir(f'/proc/{p.pid}/fd'))}"
                             f"; api.addr {self.c.api_urls(n, 0)}; /livez "
                             f"{'ok' if self.livez(n) else 'NO ANSWER'}")
                except Exception as e:  # diagnosis is best effort
                    extra = f"; ({e})"
            log(f"  {n}: {state}; status {self.status(n) if state == 'running' else '-'}{extra}")
            try:
                with open(self.c.log_path(n), errors="replace") as f:
                    lines = f.readlines()[-tail:]
            except OSError:
                lines = []
            for line in lines:
                print(f"    {n}| {line.rstrip()}", file=sys.stderr)

    def livez(self, name, timeout=1.0):
        try:
            with urllib.request.urlopen(self.plain(name, 0) + "/livez", timeout=timeout) as r:
                return r.status == 200
        except Exception:
            return False

    def close(self):
        """Kills everything; a replica that died by itself (not by our SIGKILL) or
        does not answer /livez is reported with the end of its log first."""
        crashed = [n for n, p in self.c.procs.items()
                   if p.poll() is not None and p.returncode != -signal.SIGKILL]
        mute = [n for n, p in self.c.procs.items() if p.poll() is None and not self.livez(n)]
        if crashed or mute:
            self.diagnose(f"replica(s) {', '.join(crashed)} exited by themselves, "
                          f"{', '.join(mute)} do not answer /livez")
        self.c.close(ok=not os.environ.get("BENCH_KEEP"))


# ---------------------------------------------------------------- etcd

class Etcd:
    """A 3-member etcd 3.4 cluster on loopback with its defaults (fsync on,
    100 ms heartbeat, 1000 ms election timeout)."""

    def __init__(self, root):
        self.dir = os.path.join(root, "etcd")
        os.makedirs(self.dir, exist_ok=True)
        ports = harness.free_ports(6)
        self.names = ["e1", "e2", "e3"]
        self.client = {n: f"http://127.0.0.1:{ports[2 * i]}" for i, n in enumerate(self.names)}
        self.peer = {n: f"http://127.0.0.1:{ports[2 * i + 1]}" for i, n in enumerate(self.names)}
        self.procs = {}

    def start(self):
        initial = ",".join(f"{n}={self.peer[n]}" for n in self.names)
        for n in self.names:
            argv = [ETCD, "--name", n, "--data-dir", os.path.join(self.dir, n),
                    "--listen-client-urls", self.client[n],
                    "--advertise-client-urls", self.client[n],
                    "--listen-peer-urls", self.peer[n],
                    "--initial-advertise-peer-urls", self.peer[n],
                    "--initial-cluster", initial, "--initial-cluster-state", "new",
                    "--initial-cluster-token", "triarch-bench", "--log-level", "warn",
                    "--logger", "zap"]
            self.procs[n] = harness.spawn(argv, os.path.join(self.dir, f"{n}.log"))
        harness.wait_until("etcd leader", self.leader, READY_TIMEOUT_S)
        return self

    def _status(self, n):
        req = urllib.request.Request(self.client[n] + "/v3/maintenance/status", data=b"{}",
                                     method="POST")
        try:
            with urllib.request.urlopen(req, timeout=2) as r:
                return json.loads(r.read())
        except Exception:
            return None

    def leader(self):
        for n in self.names:
            s = self._status(n)
            if s and s.get("leader") and s["leader"] == s.get("header", {}).get("member_id"):
                return n
        return None

    def pids(self):
        return [p.pid for p in self.procs.values() if p.poll() is None]

    def close(self):
        for p in self.procs.values():
            if p.poll() is None:
                os.killpg(p.pid, signal.SIGKILL)
                p.wait(timeout=30)


# ---------------------------------------------------------------- temp dirs

class TempRoot:
    """A temporary directory in /tmp, removed on exit whatever happened."""

    def __enter__(self):
        self.path = tempfile.mkdtemp(prefix="triarch-bench-", dir="/tmp")
        return self.path

    def __exit__(self, *exc):
        if os.environ.get("BENCH_KEEP"):
            log(f"BENCH_KEEP set: files kept in {self.path}")
        else:
            shutil.rmtree(self.path, ignore_errors=True)
        return False


def machine():
    model = "?"
    with open("/proc/cpuinfo") as f:
        for line in f:
            if line.startswith("model name"):
                model = line.split(":", 1)[1].strip()
                break
    return f"{os.cpu_count()} CPUs ({model}), {time.strftime('%Y-%m-%d')}"


def fmt(x, nd=1):
    if x is None or (isinstance(x, float) and x != x):
        return "-"
    return f"{x:.{nd}f}"
