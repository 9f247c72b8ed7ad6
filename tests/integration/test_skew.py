"""Version skew: every kubectl build from 1.27 to 1.33 (the real binaries in
/usr/lib/google-cloud-sdk/bin) against one three-replica cluster behind haproxy,
one build after the other, each in its own namespace: version, create namespace,
create configmap (protobuf body), get (Table and JSON), apply -f twice (created,
then unchanged: 1.27 and 1.28 need /openapi/v2 for that), create -f, label, merge
patch, a bounded watch that sees one change, delete and api-resources. The cases
live in skew_cases.py; `--full` (make test-skew) adds more verbs and a get of every
listable resource discovery shows. Before the builds run, /openapi/v2 is checked in
its protobuf form against its JSON form and discovery.

Every failure names the kubectl build, the command, what was expected and what came;
all builds run even when one fails, so the report says what works where."""

import json
import os
import subprocess
import sys
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import harness  # noqa: E402
import skew_cases  # noqa: E402
from harness import Cluster, TestFailure  # noqa: E402

FLAGS = ["--election-timeout-ms", "300", "--heartbeat-ms", "50"]
READY_TIMEOUT_S = 60  # sanitizer builds start slowly on a loaded 2-core machine
CMD_TIMEOUT_S = 30  # one kubectl command
QUICK_BUDGET_S = 90  # the quick run is meant to stay under this (reported, not failed)
PB_ACCEPT = "application/com.github.proto-openapi.spec.v2@v1.0+protobuf"
FULL = "--full" in sys.argv


class Runner:
    """One kubectl build with the cluster's kubeconfig and its own discovery cache."""

    def __init__(self, c, version, kubeconfig):
        self.version = version
        self.ns = skew_cases.namespace_for(version)
        self.base = ["--kubeconfig", kubeconfig, "--cache-dir",
                     os.path.join(c.dir, f"kube-cache-{version}")]
        self.failures = []
        self.case = ""

    def run(self, *argv, input=None, timeout=CMD_TIMEOUT_S):
        argv = [skew_cases.kubectl_path(self.version), *self.base, *argv]
        try:
            return subprocess.run(argv, capture_output=True, text=True, timeout=timeout,
                                  input=input)
        except subprocess.TimeoutExpired:
            return subprocess.CompletedProcess(argv, 124, "", f"timed out after {timeout}s")

    def popen(self, *argv):
        return skew_cases.popen_kubectl(self.version, self.base, *argv)

    def fail(self, cmd, expected, got):
        self.failures.append(f"kubectl {self.version} [{self.case}]: `kubectl {cmd}`: "
                             f"expected {expected} got {got}")
        return True


# ---------- /openapi/v2 as protobuf, read with a few lines of wire-format decoding ----------

def pb_fields(data):
    """(field number, value) of a protobuf message: int for varints, bytes otherwise."""
    i, out = 0, []
    while i < len(data):
        key, i = pb_varint(data, i)
        num, wire = key >> 3, key & 7
        if wire == 0:
            val, i = pb_varint(data, i)
        elif wire == 2:
            n, i = pb_varint(data, i)
            val, i = data[i:i + n], i + n
            if i > len(data):
                raise ValueError("length past the end")
        else:
            raise ValueError(f"unexpected wire type {wire}")
        out.append((num, val))
    return out


def pb_varint(data, i):
    shift = val = 0
    while True:
        b = data[i]
        i += 1
        val |= (b & 0x7F) << shift
        if b < 0x80:
            return val, i
        shift += 7


def pb_get(data, num):
    return [v for n, v in pb_fields(data) if n == num]


def pb_named(data, num):
    """{name: value bytes} of a repeated NamedX{1 name, 2 value} field."""
    out = {}
    for item in pb_get(data, num):
        f = dict(pb_fields(item))
        out[f.get(1, b"").decode()] = f.get(2, b"")
    return out


def pb_extensions(data, num):
    """{name: parsed value} of repeated NamedAny whose Any.yaml (2) is JSON-flow YAML."""
    out = {}
    for name, any_ in pb_named(data, num).items():
        yaml = b"".join(pb_get(any_, 2)).decode()
        try:
            out[name] = json.loads(yaml)
        except ValueError:
            out[name] = yaml
    return out


def check_openapi_v2(c):
    """The protobuf document has what kubectl 1.27/1.28 read (a PATCH operation with
    fieldValidation and a definition for every core/v1 kind in discovery, the GVK tags)
    and agrees with the JSON document."""
    url = c.api_url(c.names[0])
    st, hdrs, body = c.request("GET", url + "/openapi/v2", headers={"Accept": PB_ACCEPT})
    ctype = {k.lower(): v for k, v in hdrs.items()}.get("content-type", "")
    harness.check("GET /openapi/v2 (protobuf) status", 200, st, c)
    harness.check("GET /openapi/v2 (protobuf) content-type (mime.ParseMediaType refuses '@')",
                  "application/com.github.proto-openapi.spec.v2.v1.0+protobuf", ctype, c)
    st, _, jbody = c.request("GET", url + "/openapi/v2", headers={"Accept": "application/json"})
    harness.check("GET /openapi/v2 (JSON) status", 200, st, c)
    jdoc = json.loads(jbody)
    harness.check("/openapi/v2 JSON swagger", "2.0", jdoc.get("swagger"), c)
    try:
        swagger = b"".join(pb_get(body, 1)).decode()
        paths = pb_named(b"".join(pb_get(body, 8)), 2)
        defs = pb_named(b"".join(pb_get(body, 9)), 1)
    except (ValueError, IndexError) as e:
        raise TestFailure(f"/openapi/v2 protobuf: expected a Document got undecodable bytes "
                          f"({e}) (logs in {c.dir})")
    harness.check("/openapi/v2 protobuf swagger (field 1)", "2.0", swagger, c)
    harness.check("/openapi/v2 protobuf paths = JSON paths", sorted(jdoc["paths"]),
                  sorted(paths), c)
    harness.check("/openapi/v2 protobuf definitions = JSON definitions",
                  sorted(jdoc["definitions"]), sorted(defs), c)
    patched = set()
    for path, item in paths.items():
        op = b"".join(pb_get(item, 8))  # PathItem.patch
        gvk = pb_extensions(op, 13).get("x-kubernetes-group-version-kind")
        params = set()
        for pi in pb_get(op, 8):  # ParametersItem -> Parameter -> NonBodyParameter -> query
            for p in pb_get(pi, 1):
                for nb in pb_get(p, 2):
                    for q in pb_get(nb, 3):
                        params.add(b"".join(pb_get(q, 4)).decode())
        if "fieldValidation" not in params:
            raise TestFailure(f"/openapi/v2 protobuf PATCH {path}: expected a fieldValidation "
                              f"query parameter got {sorted(params)} (logs in {c.dir})")
        if isinstance(gvk, dict):
            patched.add((gvk.get("group"), gvk.get("version"), gvk.get("kind")))
    tagged = set()
    for name, schema in defs.items():
        for g in pb_extensions(schema, 31).get("x-kubernetes-group-version-kind") or []:
            tagged.add((g.get("group"), g.get("version"), g.get("kind")))
    st, _, disc = c.request("GET", url + "/api/v1", headers={"Accept": "application/json"})
    kinds = {("", "v1", r["kind"]) for r in json.loads(disc)["resources"] if "/" not in r["name"]}
    harness.check("core/v1 kinds in discovery without a protobuf PATCH operation tagged with "
                  "their GVK", set(), kinds - patched, c)
    harness.check("core/v1 kinds in discovery without a protobuf definition", set(),
                  {k for k in kinds if f"io.k8s.api.core.v1.{k[2]}" not in defs}, c)
    # Tagged only when fully described (else kubectl uses its compiled-in types).
    harness.check("ConfigMap and Namespace definitions tagged with their GVK", set(),
                  {("", "v1", "ConfigMap"), ("", "v1", "Namespace")} - tagged, c)
    cm = defs.get("io.k8s.api.core.v1.ConfigMap", b"")
    props = pb_named(b"".join(pb_get(cm, 25)), 1)
    harness.check("ConfigMap definition properties (protobuf)",
                  ["apiVersion", "binaryData", "data", "immutable", "kind", "metadata"],
                  sorted(props), c)


def test_kubectl_builds_1_27_to_1_33():
    missing = [v for v in skew_cases.BUILDS if not os.access(skew_cases.kubectl_path(v), os.X_OK)]
    if missing:
        raise TestFailure(f"kubectl builds {missing}: expected executables in "
                          f"{skew_cases.BIN_DIR} got none")
    t0 = time.monotonic()
    with Cluster(n=3, extra_flags=FLAGS) as c:
        c.start_all()
        c.haproxy()
        c.wait_ready(READY_TIMEOUT_S)
        failures, summary = [], []
        try:
            check_openapi_v2(c)
        except TestFailure as e:  # still run the builds: they show what it breaks
            failures.append(str(e))
        kubeconfig = c.kubeconfig  # through haproxy; made once
        for version in skew_cases.BUILDS:
            k = Runner(c, version, kubeconfig)
            t = time.monotonic()
            cases = skew_cases.cases(FULL)
            bad = 0
            for case in cases:
                before = len(k.failures)
                k.case = skew_cases.case_name(case)
                case(k)
                bad += len(k.failures) > before
            summary.append(f"kubectl {version}: {len(cases) - bad}/{len(cases)} cases ok "
                           f"({time.monotonic() - t:.1f}s)")
            failures += k.failures
        took = time.monotonic() - t0
        print("\n".join(summary), flush=True)
        print(f"{'full' if FULL else 'quick'} run: {took:.1f}s"
              f"{'' if FULL or took < QUICK_BUDGET_S else f' (over the {QUICK_BUDGET_S}s aim)'}",
              flush=True)
        if failures:
            raise TestFailure(f"{len(failures)} failing command(s) (logs in {c.dir}):\n  " +
                              "\n  ".join(failures))


if __name__ == "__main__":
    harness.main(test_kubectl_builds_1_27_to_1_33)
