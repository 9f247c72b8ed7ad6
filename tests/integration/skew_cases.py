"""The version-skew cases: what every kubectl build from 1.27 to 1.33 must be able to
do against one triarch cluster. test_skew.py runs QUICK in `make test` and QUICK +
FULL under `--full` (`make test-skew`).

A case is a Case (argv run as `kubectl --kubeconfig K --cache-dir C ARGV...`, its
exit code and output checked) or a function fn(k) given a runner with
k.run(*argv, input=None, timeout=None) -> CompletedProcess, k.ns (this build's
namespace), k.version ("1.27") and k.fail(cmd, expected, got) which records a failure
naming the build and the command. Placeholders `{ns}` in argv and input are replaced
by k.ns. Cases of one build run in order and may depend on earlier ones."""

import json
import os
import re
import select
import subprocess
import time

BUILDS = ["1.27", "1.28", "1.29", "1.30", "1.31", "1.32", "1.33"]
BIN_DIR = "/usr/lib/google-cloud-sdk/bin"
WATCH_WAIT_S = 8  # a watch must show the change within this (it takes well under 1 s)
WATCH_SETTLE_S = 1.0  # output of the initial list before the change is made

APPLIED = """apiVersion: v1
kind: ConfigMap
metadata:
  name: applied
  namespace: {ns}
  labels:
    app: skew
data:
  greeting: hello
"""

CREATED_F = """apiVersion: v1
kind: ConfigMap
metadata:
  name: from-file
  namespace: {ns}
data:
  a: "1"
"""


def kubectl_path(version):
    return os.path.join(BIN_DIR, f"kubectl.{version}")


class Case:
    """One kubectl command. exit: expected exit code (0, or "nonzero"). out: a string
    that must appear in stdout (after {ns} substitution), or a regex (re.Pattern).
    err: likewise for stderr; err_absent: a string stderr must not contain.
    check: fn(k, stdout) -> (expected, got) or None."""

    def __init__(self, name, argv, out=None, err=None, exit=0, input=None, check=None,
                 err_absent=None):
        self.name, self.argv, self.out, self.err = name, argv, out, err
        self.exit, self.input, self.check, self.err_absent = exit, input, check, err_absent

    def __call__(self, k):
        argv = [a.replace("{ns}", k.ns) for a in self.argv]
        text = self.input.replace("{ns}", k.ns) if self.input else None
        r = k.run(*argv, input=text)
        cmd = " ".join(argv)
        if self.exit == 0 and r.returncode != 0:
            return k.fail(cmd, "exit 0", f"exit {r.returncode}: {tail(r.stderr)}")
        if self.exit != 0 and r.returncode == 0:
            return k.fail(cmd, "a non-zero exit", f"exit 0: {tail(r.stdout)}")
        for want, got, stream in ((self.out, r.stdout, "stdout"), (self.err, r.stderr, "stderr")):
            if want is None:
                continue
            if isinstance(want, re.Pattern):
                if not want.search(got):
                    return k.fail(cmd, f"{stream} matching /{want.pattern}/", tail(got))
            elif want.replace("{ns}", k.ns) not in got:
                return k.fail(cmd, f"{stream} containing {want.replace('{ns}', k.ns)!r}",
                              tail(got))
        if self.err_absent is not None and self.err_absent in r.stderr:
            return k.fail(cmd, f"no {self.err_absent!r} on stderr", tail(r.stderr))
        if self.check is not None:
            bad = self.check(k, r.stdout)
            if bad is not None:
                return k.fail(cmd, bad[0], bad[1])
        return None


def tail(text, n=600):
    text = text.strip()
    return text if len(text) <= n else "..." + text[-n:]


def json_of(out):
    try:
        return json.loads(out)
    except ValueError:
        return None


def check_version(k, out):
    doc = json_of(out) or {}
    minor = doc.get("clientVersion", {}).get("minor", "")
    want = k.version.split(".")[1]
    if not minor.startswith(want):
        return (f"clientVersion.minor {want}", repr(minor))
    if doc.get("serverVersion", {}).get("major") != "1":
        return ("serverVersion.major '1'", repr(doc.get("serverVersion")))
    return None


def table_rows(out):
    """`kubectl get` table output as lists of cells (header first)."""
    return [line.split() for line in out.splitlines() if line.strip()]


def check_cm_table(k, out):
    rows = table_rows(out)
    if not rows or rows[0] != ["NAME", "DATA", "AGE"]:
        return ("header NAME DATA AGE", repr(rows[:1]))
    c1 = [r for r in rows[1:] if r[0] == "c1"]
    if not c1 or c1[0][1] != "1":
        return ("a row 'c1 1 <age>'", repr(rows[1:]))
    return None


def check_cm_json(k, out):
    doc = json_of(out) or {}
    got = (doc.get("kind"), doc.get("data"), doc.get("metadata", {}).get("namespace"))
    want = ("ConfigMap", {"k": "v"}, k.ns)
    return None if got == want else (repr(want), repr(got))


def check_label(k, out):
    doc = json_of(out) or {}
    labels = doc.get("metadata", {}).get("labels") or {}
    return None if labels.get("tier") == "web" else ("labels.tier == 'web'", repr(labels))


def check_patched(k, out):
    doc = json_of(out) or {}
    want = {"k": "v", "k2": "v2"}
    return None if doc.get("data") == want else (repr(want), repr(doc.get("data")))


def check_api_resources(k, out):
    rows = table_rows(out)
    found = {r[0]: r for r in rows[1:]}
    cm = found.get("configmaps")
    if cm is None or cm[-1] != "ConfigMap" or cm[-2] != "true" or "v1" not in cm:
        return ("a row 'configmaps cm v1 true ConfigMap'", repr(cm))
    ns = found.get("namespaces")
    if ns is None or ns[-1] != "Namespace" or ns[-2] != "false":
        return ("a row 'namespaces ns v1 false Namespace'", repr(ns))
    return None


def watch_sees_change(k):
    """`get cm -w` prints the list, then a row for a change made while it runs."""
    cmd = f"get cm -w -n {k.ns}"
    p = k.popen("get", "cm", "-w", "-n", k.ns)
    try:
        out = read_until(p, lambda s: re.search(r"^c1\s+2\s", s, re.M), WATCH_WAIT_S)
        if not re.search(r"^c1\s+2\s", out, re.M):
            return k.fail(cmd, "the initial row 'c1 2 <age>'", tail(out))
        r = k.run("patch", "cm", "c1", "-n", k.ns, "--type=merge", "-p",
                  '{"data":{"k3":"v3"}}')
        if r.returncode != 0:
            return k.fail(f"patch cm c1 -n {k.ns} (during a watch)", "exit 0", tail(r.stderr))
        out = read_until(p, lambda s: re.search(r"^c1\s+3\s", s, re.M), WATCH_WAIT_S, out)
        if not re.search(r"^c1\s+3\s", out, re.M):
            return k.fail(cmd, f"a row 'c1 3 <age>' within {WATCH_WAIT_S}s of the change",
                          tail(out))
        return None
    finally:
        p.kill()
        p.wait(timeout=10)


def read_until(p, done, timeout, out=""):
    """stdout of p read until done(out) holds, p exits or timeout passes."""
    deadline = time.monotonic() + timeout
    fd = p.stdout.fileno()
    os.set_blocking(fd, False)
    while not done(out):
        left = deadline - time.monotonic()
        if left <= 0:
            break
        ready, _, _ = select.select([fd], [], [], min(left, 0.2))
        if ready:
            chunk = os.read(fd, 65536)
            if not chunk:
                break
            out += chunk.decode(errors="replace")
    return out


QUICK = [
    Case("version", ["version", "-o", "json"], check=check_version),
    Case("create namespace", ["create", "namespace", "{ns}"], out="namespace/{ns} created"),
    Case("create configmap", ["create", "configmap", "c1", "--from-literal=k=v", "-n", "{ns}"],
         out="configmap/c1 created"),
    Case("get cm (Table)", ["get", "cm", "-n", "{ns}"], check=check_cm_table),
    Case("get cm -o json", ["get", "cm", "c1", "-n", "{ns}", "-o", "json"],
         check=check_cm_json),
    Case("apply -f (create)", ["apply", "-f", "-"], input=APPLIED,
         out="configmap/applied created"),
    Case("apply -f (again)", ["apply", "-f", "-"], input=APPLIED,
         out="configmap/applied unchanged"),
    Case("create -f", ["create", "-f", "-"], input=CREATED_F, out="configmap/from-file created"),
    Case("label", ["label", "cm", "c1", "tier=web", "-n", "{ns}"], out="configmap/c1 labeled"),
    Case("label seen", ["get", "cm", "c1", "-n", "{ns}", "-o", "json"], check=check_label),
    Case("patch --type=merge", ["patch", "cm", "c1", "-n", "{ns}", "--type=merge", "-p",
                                '{"data":{"k2":"v2"}}'], out="configmap/c1 patched"),
    Case("patch seen", ["get", "cm", "c1", "-n", "{ns}", "-o", "json"], check=check_patched),
    watch_sees_change,
    Case("delete", ["delete", "cm", "c1", "-n", "{ns}"], out='configmap "c1" deleted'),
    Case("deleted", ["get", "cm", "c1", "-n", "{ns}"], exit="nonzero",
         err='configmaps "c1" not found'),
    Case("api-resources", ["api-resources"], check=check_api_resources),
]


# ---------- --full: more verbs, and every listable resource discovery shows ----------

APPLIED_CHANGED = APPLIED.replace("greeting: hello", "greeting: bonjour\n  extra: x")


def check_applied_changed(k, out):
    doc = json_of(out) or {}
    want = {"greeting": "bonjour", "extra": "x"}
    if doc.get("data") != want:
        return (repr(want), repr(doc.get("data")))
    ann = doc.get("metadata", {}).get("annotations") or {}
    if "kubectl.kubernetes.io/last-applied-configuration" not in ann:
        return ("the last-applied-configuration annotation", repr(ann))
    return None


def check_json_patched(k, out):
    doc = json_of(out) or {}
    return None if doc.get("data", {}).get("a") == "2" else ("data.a == '2'", repr(doc))


def check_ns_row(k, out):
    row = [r for r in table_rows(out) if r[0] == k.ns]
    return None if row and row[0][1] == "Active" else (f"a row '{k.ns} Active <age>'", tail(out))


POD = """apiVersion: v1
kind: Pod
metadata:
  name: skew-pod
  namespace: {ns}
spec:
  containers:
  - name: a
    image: registry.example/a:1
    env:
    - name: X
      value: "1"
  - name: b
    image: registry.example/b:1
"""


def apply_pod(k):
    """Apply a Pod, then the same Pod with a new image: kubectl computes that patch
    from /openapi/v2 or, for kinds it does not describe, from its compiled-in types,
    never with a warning about the v2 document. Skipped where pods are not served."""
    r = k.run("api-resources", "--api-group=", "-o", "name")
    if "pods" not in r.stdout.split():
        return None
    changed = POD.replace("a:1", "a:2")
    for text, want in ((POD, "pod/skew-pod created"), (changed, "pod/skew-pod configured")):
        r = k.run("apply", "-f", "-", input=text.replace("{ns}", k.ns))
        if r.returncode != 0 or want not in r.stdout:
            return k.fail("apply -f - (Pod)", f"exit 0 and {want!r}",
                          f"exit {r.returncode}: {tail(r.stdout + r.stderr)}")
        if "error calculating patch from openapi spec" in r.stderr:
            return k.fail("apply -f - (Pod)", "no warning about the openapi (v2) spec",
                          tail(r.stderr))
    r = k.run("get", "pod", "skew-pod", "-n", k.ns, "-o", "json")
    images = [c.get("image") for c in (json_of(r.stdout) or {}).get("spec", {}).get(
        "containers", [])]
    if images != ["registry.example/a:2", "registry.example/b:1"]:
        return k.fail(f"get pod skew-pod -n {k.ns} -o json", "images [a:2, b:1]", repr(images))
    return None


def every_listed_resource(k):
    """`get R -A` (Table) and `get R -A -o name` for each listable resource."""
    r = k.run("api-resources", "--verbs=list", "-o", "name")
    if r.returncode != 0:
        return k.fail("api-resources --verbs=list -o name", "exit 0", tail(r.stderr))
    names = [n for n in r.stdout.split() if n]
    if "configmaps" not in names:
        return k.fail("api-resources --verbs=list -o name", "configmaps listed", tail(r.stdout))
    for name in names:
        for extra in ([], ["-o", "name"]):
            argv = ["get", name, "-A", *extra]
            r = k.run(*argv)
            if r.returncode != 0:
                k.fail(" ".join(argv), "exit 0", f"exit {r.returncode}: {tail(r.stderr)}")
    return None


FULL = [
    Case("apply -f (changed)", ["apply", "-f", "-"], input=APPLIED_CHANGED,
         out="configmap/applied configured",
         err_absent="error calculating patch from openapi spec"),  # 1.27/1.28 read v2
    Case("apply seen", ["get", "cm", "applied", "-n", "{ns}", "-o", "json"],
         check=check_applied_changed),
    Case("apply --server-side", ["apply", "--server-side", "-f", "-"],
         input=APPLIED_CHANGED.replace("name: applied", "name: ssa"),
         out="configmap/ssa serverside-applied"),
    Case("annotate", ["annotate", "cm", "from-file", "note=hi", "-n", "{ns}"],
         out=re.compile(r"^configmap/from-file annotated?$", re.M)),  # 1.27 says "annotate"
    Case("patch --type=json", ["patch", "cm", "from-file", "-n", "{ns}", "--type=json", "-p",
                               '[{"op":"replace","path":"/data/a","value":"2"}]'],
         out="configmap/from-file patched"),
    Case("json patch seen", ["get", "cm", "from-file", "-n", "{ns}", "-o", "json"],
         check=check_json_patched),
    Case("patch (strategic)", ["patch", "cm", "from-file", "-n", "{ns}", "-p",
                               '{"data":{"b":"3"}}'], out="configmap/from-file patched"),
    Case("replace -f", ["replace", "-f", "-"], input=CREATED_F.replace('"1"', '"9"'),
         out="configmap/from-file replaced"),
    Case("get -o yaml", ["get", "cm", "from-file", "-n", "{ns}", "-o", "yaml"],
         out=re.compile(r"^kind: ConfigMap$", re.M)),
    Case("get -o name", ["get", "cm", "-n", "{ns}", "-o", "name"],
         out="configmap/from-file"),
    Case("get -l", ["get", "cm", "-n", "{ns}", "-l", "app=skew", "-o", "name"],
         out="configmap/applied"),
    Case("get --field-selector", ["get", "cm", "-n", "{ns}", "--field-selector",
                                  "metadata.name=applied", "-o", "name"],
         out="configmap/applied"),
    Case("describe cm", ["describe", "cm", "applied", "-n", "{ns}"],
         out=re.compile(r"^Name:\s+applied$", re.M)),
    Case("get namespaces", ["get", "namespaces"], check=check_ns_row),
    Case("get ns -o wide", ["get", "ns", "{ns}", "-o", "wide"], out="Active"),
    Case("explain configmap", ["explain", "configmap"], out="ConfigMap"),
    Case("explain (openapi v2)", ["explain", "configmap.metadata",
                                  "--output=plaintext-openapiv2"], out="ownerReferences"),
    Case("create existing", ["create", "-f", "-"], input=CREATED_F, exit="nonzero",
         err="AlreadyExists"),
    Case("delete -f", ["delete", "-f", "-"], input=APPLIED, out='configmap "applied" deleted'),
    apply_pod,
    every_listed_resource,
    Case("delete namespace", ["delete", "namespace", "{ns}", "--wait=false"],
         out='namespace "{ns}" deleted'),
]


def cases(full):
    return QUICK + FULL if full else list(QUICK)


def case_name(case):
    return getattr(case, "name", None) or case.__name__


def namespace_for(version):
    """skew-127 for 1.27 (no dots in a namespace name)."""
    return "skew-" + version.replace(".", "")


def popen_kubectl(version, base_argv, *argv):
    return subprocess.Popen([kubectl_path(version), *base_argv, *argv],
                            stdin=subprocess.DEVNULL, stdout=subprocess.PIPE,
                            stderr=subprocess.DEVNULL)
