"""The real kubectl against a three-replica triarch cluster behind haproxy, over
https with the cluster CA verified: version, discovery, namespaces and configmaps
through every verb kubectl uses (protobuf bodies from `create configmap`, JSON from
`create -f`/`apply -f` with server-side validation, merge/JSON/strategic patches,
label and field selectors, chunked lists, errors), each answer compared with what
kubectl prints against Kubernetes."""

import json
import os
import re
import subprocess
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import harness  # noqa: E402
from harness import KUBECTL, Cluster, TestFailure, check, wait_until, Kube  # noqa: E402

FLAGS = ["--election-timeout-ms", "300", "--heartbeat-ms", "50"]
READY_TIMEOUT_S = 60  # sanitizer builds start slowly on a loaded 2-core machine
FIXTURES = os.path.join(os.path.dirname(os.path.abspath(__file__)), "fixtures")
NS = "team-a"
BUILTIN_NS = ("default", "kube-system", "kube-public", "kube-node-lease")
UUID_RE = re.compile(r"^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$")
TIME_RE = re.compile(r"^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ$")
LARGE_BYTES = 1024 * 1024  # under the 1.5 MiB object limit
LARGE_TRIES = 6  # large uploads through haproxy have lost their connection now and then
LAST_APPLIED = "kubectl.kubernetes.io/last-applied-configuration"


# Every namespace has it (the root CA publisher, controllers/serviceaccounts.c),
# as in Kubernetes.
ROOT_CA = "kube-root-ca.crt"

def fixture(name):
    return os.path.join(FIXTURES, name)


def expect_out(c, what, expected, got):
    check(what, expected, got.strip(), c)


def table(out):
    """Header words and rows (lists of words) of kubectl's tabular output."""
    lines = [ln for ln in out.splitlines() if ln.strip()]
    if not lines:
        return [], []
    return lines[0].split(), [ln.split() for ln in lines[1:]]


# ---------- steps ----------

def step_version(c, k):
    v = json.loads(k.ok("version", "-o", "json"))
    sv = v.get("serverVersion", {})
    check("kubectl version: serverVersion major", "1", sv.get("major"), c)
    check("kubectl version: serverVersion minor", "32", sv.get("minor"), c)
    check("kubectl version: client minor (the dispatcher picked a 1.32 build)", "32",
          v.get("clientVersion", {}).get("minor", "").rstrip("+"), c)
    out = k.ok("version")
    check("kubectl version: a 'Server Version: v1.32.' line", True,
          re.search(r"^Server Version: v1\.32\.\d+", out, re.M) is not None, c)


def step_api_resources(c, k):
    header, rows = table(k.ok("api-resources"))
    check("api-resources header", ["NAME", "SHORTNAMES", "APIVERSION", "NAMESPACED", "KIND"],
          header, c)
    check("api-resources row for configmaps", ["configmaps", "cm", "v1", "true", "ConfigMap"],
          next((r for r in rows if r and r[0] == "configmaps"), None), c)
    check("api-resources row for namespaces", ["namespaces", "ns", "v1", "false", "Namespace"],
          next((r for r in rows if r and r[0] == "namespaces"), None), c)


def step_namespaces(c, k):
    header, rows = table(k.ok("get", "ns"))
    check("get ns: table columns", ["NAME", "STATUS", "AGE"], header, c)
    status = {r[0]: r[1] for r in rows if len(r) == 3}
    for ns in BUILTIN_NS:
        check(f"get ns: built-in namespace {ns} Active", "Active", status.get(ns), c)
    expect_out(c, "create namespace", f"namespace/{NS} created",
               k.ok("create", "namespace", NS))
    header, rows = table(k.ok("get", "ns", NS))
    check("get ns team-a: one row", 1, len(rows), c)
    check("get ns team-a: NAME STATUS", [NS, "Active"], rows[0][:2], c)
    err = k.fails("create", "namespace", NS)
    check("create namespace twice: AlreadyExists message", True,
          'namespaces "team-a" already exists' in err, c)


def step_create_protobuf(c, k):
    r = k.ok_full("create", "configmap", "c1", "--from-literal=a=1", "-n", NS, "-v=8")
    expect_out(c, "create configmap (protobuf body)", "configmap/c1 created", r.stdout)
    check("create configmap sent a protobuf body (kubectl -v=8 request headers)", True,
          "application/vnd.kubernetes.protobuf" in r.stderr, c)
    o = k.obj("get", "cm", "c1", "-n", NS)
    check("c1 data after protobuf create", {"a": "1"}, o.get("data"), c)
    check("c1 namespace", NS, o["metadata"].get("namespace"), c)


def step_create_file(c, k):
    r = k.ok_full("create", "-f", fixture("cm-create.yaml"), "-n", NS, "-v=6")
    expect_out(c, "create -f", "configmap/c2 created", r.stdout)
    check("create -f fetched /openapi/v3 (validation on) and got 200", True,
          re.search(r"GET https://\S+/openapi/v3\S* 200", r.stderr) is not None, c)
    o = k.obj("get", "cm", "c2", "-n", NS)
    check("c2 data", {"greeting": "hello", "colour": "blue"}, o.get("data"), c)
    check("c2 labels", {"tier": "web"}, o["metadata"].get("labels"), c)
    err = k.fails("create", "-f", fixture("cm-unknown-field.yaml"), "-n", NS)
    check("create -f with an unknown field: strict validation names it", True,
          'unknown field "notAField"' in err, c)
    check("create -f with an unknown field: nothing created", [],
          [n for n in k.names("get", "cm", "-n", NS) if n == "configmap/c-unknown"], c)


def step_get_formats(c, k):
    header, rows = table(k.ok("get", "cm", "-n", NS))
    check("get cm: table columns", ["NAME", "DATA", "AGE"], header, c)
    data = {r[0]: r[1] for r in rows if len(r) == 3}
    check("get cm: DATA column of c1 and c2", ("1", "2"), (data.get("c1"), data.get("c2")), c)
    o = k.obj("get", "cm", "c2", "-n", NS)
    check("-o json kind/apiVersion", ("ConfigMap", "v1"), (o.get("kind"), o.get("apiVersion")), c)
    md = o["metadata"]
    check("-o json metadata.name", "c2", md.get("name"), c)
    check("-o json metadata.uid is a UUID", True, bool(UUID_RE.match(md.get("uid", ""))), c)
    check("-o json metadata.creationTimestamp is RFC 3339 UTC", True,
          bool(TIME_RE.match(md.get("creationTimestamp", ""))), c)
    check("-o json metadata.resourceVersion is a decimal string", True,
          str(md.get("resourceVersion", "")).isdigit(), c)
    y = k.ok("get", "cm", "c2", "-n", NS, "-o", "yaml")
    for field in ("apiVersion: v1", "kind: ConfigMap", "  name: c2", f"  namespace: {NS}",
                  f"  uid: {md['uid']}", f"  resourceVersion: \"{md['resourceVersion']}\"",
                  f"  creationTimestamp: \"{md['creationTimestamp']}\"", "  greeting: hello"):
        check(f"-o yaml has the line {field!r}", True, field in y.splitlines(), c)
    lst = k.obj("get", "cm", "-n", NS)
    check("-o json of a list: kind List", "List", lst.get("kind"), c)
    check("-o json of a list: items (and the CA bundle every namespace has)",
          ["c1", "c2", ROOT_CA],
          sorted(i["metadata"]["name"] for i in lst.get("items", [])), c)


def step_describe(c, k):
    out = k.ok("describe", "cm", "c2", "-n", NS)
    for rx in (r"^Name:\s+c2$", rf"^Namespace:\s+{NS}$", r"^Labels:\s+tier=web$", r"^Data$",
               r"^greeting:$", r"^hello$", r"^Events:\s+<none>$"):
        check(f"describe cm c2: a line matching {rx!r}", True, re.search(rx, out, re.M) is not None,
              c)


def step_large_object(c, k):
    """A valid 1 MiB configmap, created through haproxy several times in a row."""
    body = json.dumps({"apiVersion": "v1", "kind": "ConfigMap", "metadata": {"name": "big"},
                       "data": {"blob": "x" * LARGE_BYTES}})
    for i in range(LARGE_TRIES):
        expect_out(c, f"create -f - of a 1 MiB configmap through haproxy (try {i + 1})",
                   "configmap/big created", k.ok("create", "-f", "-", "-n", "default", input=body))
        got = k.obj("get", "cm", "big", "-n", "default").get("data", {}).get("blob", "")
        check("the 1 MiB value reads back whole", LARGE_BYTES, len(got), c)
        k.ok("delete", "cm", "big", "-n", "default")


def step_apply(c, k):
    v1, v2 = fixture("cm-apply-v1.yaml"), fixture("cm-apply-v2.yaml")
    expect_out(c, "apply -f (new object)", "configmap/c3 created", k.ok("apply", "-f", v1, "-n", NS))
    o1 = k.obj("get", "cm", "c3", "-n", NS)
    la = json.loads(o1["metadata"].get("annotations", {}).get(LAST_APPLIED, "null"))
    check("apply: last-applied annotation holds the applied data", {"a": "1", "b": "2"},
          (la or {}).get("data"), c)
    expect_out(c, "apply -f again", "configmap/c3 unchanged", k.ok("apply", "-f", v1, "-n", NS))
    o2 = k.obj("get", "cm", "c3", "-n", NS)
    check("apply unchanged: resourceVersion kept", o1["metadata"]["resourceVersion"],
          o2["metadata"]["resourceVersion"], c)
    # Changes made by others since the last apply must survive the next apply.
    k.ok("patch", "cm", "c3", "-n", NS, "--type=merge", "-p", '{"data":{"extra":"x"}}')
    k.ok("label", "cm", "c3", "keep=me", "-n", NS)
    expect_out(c, "apply -f modified file", "configmap/c3 configured",
               k.ok("apply", "-f", v2, "-n", NS))
    o3 = k.obj("get", "cm", "c3", "-n", NS)
    check("apply v2: data (b removed, a changed, c added, extra kept)",
          {"a": "10", "c": "3", "extra": "x"}, o3.get("data"), c)
    check("apply v2: labels (keep=me set by label kept)", {"app": "demo", "keep": "me"},
          o3["metadata"].get("labels"), c)
    la = json.loads(o3["metadata"].get("annotations", {}).get(LAST_APPLIED, "null"))
    check("apply v2: last-applied annotation updated", {"a": "10", "c": "3"},
          (la or {}).get("data"), c)
    check("apply v2: uid kept", o1["metadata"]["uid"], o3["metadata"]["uid"], c)


def step_labels(c, k):
    expect_out(c, "label c1", "configmap/c1 labeled", k.ok("label", "cm", "c1", "x=y", "-n", NS))
    expect_out(c, "label c2", "configmap/c2 labeled", k.ok("label", "cm", "c2", "x=z", "-n", NS))
    check("get -l x=y", ["configmap/c1"], k.names("get", "cm", "-n", NS, "-l", "x=y"), c)
    check("get -l 'x in (y)'", ["configmap/c1"],
          k.names("get", "cm", "-n", NS, "-l", "x in (y)"), c)
    check("get -l '!x'", ["configmap/c3", f"configmap/{ROOT_CA}"],
          k.names("get", "cm", "-n", NS, "-l", "!x"), c)
    check("get -l 'x notin (y)'", ["configmap/c2", "configmap/c3", f"configmap/{ROOT_CA}"],
          k.names("get", "cm", "-n", NS, "-l", "x notin (y)"), c)
    check("get -l x,tier=web", ["configmap/c2"],
          k.names("get", "cm", "-n", NS, "-l", "x,tier=web"), c)
    err = k.fails("label", "cm", "c1", "x=w", "-n", NS)
    check("label without --overwrite refuses to change x", True,
          "already has a value (y)" in err, c)
    expect_out(c, "annotate c1", "configmap/c1 annotated",
               k.ok("annotate", "cm", "c1", "note=hello world", "-n", NS))
    o = k.obj("get", "cm", "c1", "-n", NS)
    check("annotation stored", "hello world", o["metadata"].get("annotations", {}).get("note"), c)
    check("labels stored", {"x": "y"}, o["metadata"].get("labels"), c)


def step_field_selector(c, k):
    check("--field-selector metadata.name=c1", ["configmap/c1"],
          k.names("get", "cm", "-n", NS, "--field-selector", "metadata.name=c1"), c)
    check("--field-selector metadata.name!=c1",
          ["configmap/c2", "configmap/c3", f"configmap/{ROOT_CA}"],
          k.names("get", "cm", "-n", NS, "--field-selector", "metadata.name!=c1"), c)
    check("--field-selector metadata.namespace across namespaces", ["configmap/c1"],
          k.names("get", "cm", "-A", "--field-selector",
                  f"metadata.namespace={NS},metadata.name=c1"), c)


def step_patches(c, k):
    def data():
        return k.obj("get", "cm", "c1", "-n", NS).get("data")

    expect_out(c, "patch --type=merge", "configmap/c1 patched",
               k.ok("patch", "cm", "c1", "-n", NS, "--type=merge", "-p", '{"data":{"b":"2"}}'))
    check("data after merge patch", {"a": "1", "b": "2"}, data(), c)
    expect_out(c, "patch --type=json", "configmap/c1 patched",
               k.ok("patch", "cm", "c1", "-n", NS, "--type=json", "-p",
                    '[{"op":"add","path":"/data/c","value":"3"},{"op":"remove","path":"/data/a"}]'))
    check("data after JSON patch", {"b": "2", "c": "3"}, data(), c)
    expect_out(c, "patch --type=strategic", "configmap/c1 patched",
               k.ok("patch", "cm", "c1", "-n", NS, "--type=strategic", "-p",
                    '{"data":{"b":null,"d":"4"}}'))
    check("data after strategic patch", {"c": "3", "d": "4"}, data(), c)
    rv = k.obj("get", "cm", "c1", "-n", NS)["metadata"]["resourceVersion"]
    expect_out(c, "a patch that changes nothing", "configmap/c1 patched (no change)",
               k.ok("patch", "cm", "c1", "-n", NS, "-p", '{"data":{"c":"3"}}'))
    check("no-op patch keeps the resourceVersion", rv,
          k.obj("get", "cm", "c1", "-n", NS)["metadata"]["resourceVersion"], c)
    err = k.fails("patch", "cm", "c1", "-n", NS, "--type=json", "-p",
                  '[{"op":"test","path":"/data/c","value":"nope"}]')
    check("failed JSON patch test op: 422 Invalid (kubectl says \"is invalid\")", True,
          "is invalid" in err, c)
    check("failed JSON patch leaves data alone", {"c": "3", "d": "4"}, data(), c)
    err = k.fails("patch", "cm", "nope", "-n", NS, "--type=merge", "-p", '{"data":{"a":"1"}}')
    check("patch of a missing object: NotFound", True,
          'Error from server (NotFound): configmaps "nope" not found' in err, c)


def step_chunks(c, k):
    ns = "chunky"
    k.ok("create", "namespace", ns)
    for i in range(1, 6):
        k.ok("create", "configmap", f"k{i}", f"--from-literal=i={i}", "-n", ns)
    r = k.ok_full("get", "cm", "-n", ns, "--chunk-size=2", "-o", "name", "-v=6")
    check("get --chunk-size=2: every item once, in order",
          [f"configmap/k{i}" for i in range(1, 6)] + [f"configmap/{ROOT_CA}"],
          r.stdout.split(), c)
    pages = re.findall(r"GET https://\S+/configmaps\?(\S*limit=2\S*) 200", r.stderr)
    check("get --chunk-size=2: three pages", 3, len(pages), c)
    check("get --chunk-size=2: pages 2 and 3 follow a continue token", [False, True, True],
          ["continue=" in p for p in pages], c)
    header, rows = table(k.ok("get", "cm", "-n", ns, "--chunk-size=2"))
    check("get --chunk-size=2 (table): header once, six rows",
          (["NAME", "DATA", "AGE"], [f"k{i}" for i in range(1, 6)] + [ROOT_CA]),
          (header, [r[0] for r in rows]), c)
    # The same through the API: a continue token ends the list exactly.
    url = c.api_url(c.names[0]) + f"/api/v1/namespaces/{ns}/configmaps?limit=2"
    seen, cont = [], None
    for _ in range(6):
        st, _, body = c.request("GET", url + (f"&continue={cont}" if cont else ""))
        check("list page status", 200, st, c)
        page = json.loads(body)
        seen += [i["metadata"]["name"] for i in page["items"]]
        cont = page["metadata"].get("continue")
        if not cont:
            break
    check("raw pages: all items, in order", [f"k{i}" for i in range(1, 6)] + [ROOT_CA], seen, c)


def step_delete(c, k):
    expect_out(c, "delete cm c1", 'configmap "c1" deleted', k.ok("delete", "cm", "c1", "-n", NS))
    err = k.fails("get", "cm", "c1", "-n", NS)
    check("get of a deleted configmap", 'Error from server (NotFound): configmaps "c1" not found',
          err.strip(), c)
    err = k.fails("delete", "cm", "c1", "-n", NS)
    check("delete of a deleted configmap", 'Error from server (NotFound): configmaps "c1" not found',
          err.strip(), c)
    k.ok("label", "cm", "c2", "x=y", "--overwrite", "-n", NS)
    k.ok("label", "cm", "c3", "x=y", "-n", NS)
    out = k.ok("delete", "cm", "-l", "x=y", "-n", NS)
    check("delete -l x=y", ['configmap "c2" deleted', 'configmap "c3" deleted'],
          sorted(out.strip().splitlines()), c)
    r = k.run("get", "cm", "-n", NS, "--field-selector", f"metadata.name!={ROOT_CA}")
    check("get cm in an empty namespace (but for the CA bundle)", (0, "", f"No resources found in {NS} namespace."),
          (r.returncode, r.stdout, r.stderr.strip()), c)


def step_already_exists(c, k):
    k.ok("create", "configmap", "c1", "--from-literal=a=1", "-n", NS)
    err = k.fails("create", "configmap", "c1", "--from-literal=a=2", "-n", NS)
    check("create configmap twice", 'error: failed to create configmap: configmaps "c1" already exists',
          err.strip(), c)
    k.ok("create", "-f", fixture("cm-create.yaml"), "-n", NS)
    err = k.fails("create", "-f", fixture("cm-create.yaml"), "-n", NS)
    check("create -f twice", 'Error from server (AlreadyExists): error when creating '
          f'"{fixture("cm-create.yaml")}": configmaps "c2" already exists', err.strip(), c)
    check("the first c1 is untouched", {"a": "1"}, k.obj("get", "cm", "c1", "-n", NS).get("data"), c)


def step_all_namespaces(c, k):
    header, rows = table(k.ok("get", "cm", "-A"))
    check("get cm -A: columns", ["NAMESPACE", "NAME", "DATA", "AGE"], header, c)
    got = sorted((r[0], r[1]) for r in rows if r[0] in (NS, "chunky"))
    want = sorted([(NS, "c1"), (NS, "c2"), (NS, ROOT_CA), ("chunky", ROOT_CA)] +
                  [("chunky", f"k{i}") for i in range(1, 6)])
    check("get cm -A: rows of team-a and chunky", want, got, c)


def step_delete_namespace(c, k):
    expect_out(c, "delete ns", f'namespace "{NS}" deleted', k.ok("delete", "ns", NS, timeout=90))

    def gone():
        r = k.run("get", "ns", NS)
        return r.returncode != 0 and r.stderr.strip()

    err = wait_until("namespace team-a gone", gone, 30, c)
    check("get of a deleted namespace", f'Error from server (NotFound): namespaces "{NS}" not found',
          err, c)
    st, _, body = c.request("GET", c.api_url(c.names[1]) + f"/api/v1/namespaces/{NS}/configmaps")
    items = json.loads(body).get("items") if st == 200 else None
    check("configmaps of the deleted namespace (raw list on another replica)", (200, []),
          (st, items), c)
    check("get cm -A after delete ns: nothing of team-a", [],
          [r for r in table(k.ok("get", "cm", "-A"))[1] if r[0] == NS], c)
    err = k.fails("create", "configmap", "late", "-n", NS)
    check("create in a deleted namespace: NotFound", True,
          f'namespaces "{NS}" not found' in err, c)
    err = k.fails("delete", "ns", "default")
    check("delete ns default is refused", True, "Forbidden" in err or "forbidden" in err, c)


def test_kubectl_configmaps_and_namespaces():
    with Cluster(n=3, extra_flags=FLAGS) as c:
        c.start_all()
        c.wait_ready(READY_TIMEOUT_S)
        c.haproxy()
        k = Kube(c)
        failures = []  # later steps still run, so one run shows every broken behaviour
        for step in (step_version, step_api_resources, step_namespaces, step_create_protobuf,
                     step_create_file, step_get_formats, step_describe, step_apply, step_labels,
                     step_field_selector, step_patches, step_chunks, step_delete,
                     step_already_exists, step_all_namespaces, step_large_object,
                     step_delete_namespace):
            try:
                step(c, k)
            except TestFailure as e:
                failures.append(f"{step.__name__}: {e}")
            except (KeyError, TypeError, ValueError, AttributeError, IndexError) as e:
                failures.append(f"{step.__name__}: {type(e).__name__}: {e} (logs in {c.dir})")
        if failures:
            raise TestFailure(f"{len(failures)} step(s) failed:\n" + "\n".join(failures))


harness.main(test_kubectl_configmaps_and_namespaces)
