"""CPU profile of one triarchd under load, broken down by component.

`perf record` samples the process (cpu-clock: this VM has no hardware counters);
`perf report --no-children --sort dso,sym` gives self time per function. Each
function is then put in a component: by shared object for libraries (libh2o is
HTTP, libjansson is JSON, libraft is Raft, ...) and, for triarchd's own
functions, by the source file that defines it, found by running `nm` over the
object files of the Release build (server/http -> HTTP, store/ -> store/apply,
...). Self time only: the Release build has no frame pointers, so call chains
are unreliable and inclusive figures would mislead.
"""

import glob
import os
import re
import subprocess

PERF = "/usr/bin/perf"
SAMPLE_HZ = 999

# Order matters: first match wins. (component, predicate on (dso, source path)).
DSO_COMPONENTS = [
    ("HTTP (h2o library)", r"libh2o"),
    ("JSON (jansson)", r"libjansson"),
    ("YAML (libyaml)", r"libyaml"),
    ("Raft (libraft)", r"libraft"),
    ("event loop (libuv)", r"libuv"),
    ("TLS/crypto (OpenSSL)", r"libssl|libcrypto"),
    ("compression (lz4/zlib)", r"liblz4|libz\."),
    ("allocator (mimalloc)", r"libmimalloc"),
    ("libc (malloc, memcpy, ...)", r"libc[.-]|libm[.-]|ld-linux"),
    ("kernel (syscalls: TCP, disk, scheduling)", r"kernel|vmlinux|\[unknown\]"),
]
SRC_COMPONENTS = [
    ("HTTP (server/http)", r"server/http/"),
    ("API: validation/defaults/names (server/api)",
     r"server/api/(names|meta|defaults|object|registry|res_core)\.c"),
    ("JSON/YAML/protobuf codec (server/api)",
     r"server/api/(json|yaml|protobuf|protobuf_schema|table|status|patch_\w+|selector)\.c"),
    ("API client, watch (server/api)", r"server/api/"),
    ("Raft glue: node, forward, transport, fsm (raft/)", r"raft/"),
    ("store/apply (store/)", r"store/"),
    ("common (buffers, crc32c, log)", r"common/"),
    ("daemon (server/*.c)", r"server/"),
]


def symbol_sources(build_dir):
    """{function name: source path relative to the tree} from the build's objects."""
    out = {}
    for obj in glob.glob(os.path.join(build_dir, "CMakeFiles", "*.dir", "**", "*.o"),
                         recursive=True):
        src = obj.split(".dir/", 1)[1][:-2]  # .../tri_http.dir/server/http/x.c.o -> server/http/x.c
        try:
            nm = subprocess.run(["nm", "--defined-only", obj], capture_output=True, text=True,
                                timeout=30).stdout
        except (OSError, subprocess.TimeoutExpired):
            continue
        for line in nm.splitlines():
            parts = line.split()
            if len(parts) == 3 and parts[1] in "tTwW":
                out.setdefault(parts[2], src)
    return out


def component(dso, sym, sources):
    if "triarchd" in dso or "tri-bench-d" in dso:
        src = sources.get(sym.split(".")[0], "")  # clang/gcc suffixes: foo.cold, foo.isra.0
        for name, pat in SRC_COMPONENTS:
            if re.search(pat, src):
                return name
        return "triarchd (unattributed)"
    for name, pat in DSO_COMPONENTS:
        if re.search(pat, dso):
            return name
    return f"other ({dso})"


def record(pid, seconds, out_path):
    """Samples pid for `seconds`; returns None or an error string."""
    argv = [PERF, "record", "-q", "-F", str(SAMPLE_HZ), "-e", "cpu-clock", "-g", "-p", str(pid),
            "-o", out_path, "--", "sleep", str(seconds)]
    try:
        r = subprocess.run(argv, capture_output=True, text=True, timeout=seconds + 60)
    except (OSError, subprocess.TimeoutExpired) as e:
        return f"perf record: {e}"
    if r.returncode != 0 or not os.path.exists(out_path):
        return f"perf record exit {r.returncode}: {r.stderr[-300:]}"
    return None


def report(data_path, build_dir, top=25):
    """(top lines of perf report, [(component, percent)] sorted, total percent seen)."""
    argv = [PERF, "report", "-i", data_path, "--stdio", "--no-children", "--sort", "dso,sym",
            "-g", "none", "--percent-limit", "0"]
    r = subprocess.run(argv, capture_output=True, text=True, timeout=300)
    rows = []
    for line in r.stdout.splitlines():
        m = re.match(r"\s*([\d.]+)%\s+(\S+)\s+\[[.k]\]\s+(.*\S)", line)
        if m:
            rows.append((float(m.group(1)), m.group(2), m.group(3)))
    sources = symbol_sources(build_dir)
    comp = {}
    for pct, dso, sym in rows:
        k = component(dso, sym, sources)
        comp[k] = comp.get(k, 0.0) + pct
    lines = [f"{pct:6.2f}%  {dso:<28} {sym}" for pct, dso, sym in rows[:top]]
    return lines, sorted(comp.items(), key=lambda kv: -kv[1]), sum(p for p, _, _ in rows)
