"""Secrets are encrypted at rest (CIS 1.2.27-1.2.28; issue 4, "Data at rest").

One 3-replica cluster made by `triarch init` (which writes D/pki/encryption.yaml and
points every replica's triarchd.yaml at it) with a small snapshot threshold, so the
Raft log is compacted into snapshot files during the test:

- test_cis_1_2_27_encryption_provider_config_set: init wrote the key file (0600,
  aesgcm first, identity last) and every replica's config names it.
- test_cis_1_2_28_secrets_not_in_data_dir: a Secret's value (data and stringData)
  reads back through kubectl, and neither it nor its base64 appears in any byte of
  any replica's data dir (Raft segments, snapshots) once a snapshot was taken;
  a ConfigMap's value does (so the search itself works).
- test_watch_and_delete_decrypt: watches (raw-bytes mode, initial state, selector
  mode) and the DELETE response carry the plaintext.
- test_cis_1_2_28_key_rotation: a new key is added on every replica, made first,
  `triarch secrets reencrypt` rewrites every Secret, the old key is dropped, and
  every Secret still reads.
- test_wrong_key_answers_500: a replica restarted with the wrong key material (or
  without the key) answers 500 InternalError naming the secret and the problem for
  Secrets, and serves everything else.
"""

import base64
import http.client
import json
import os
import secrets
import stat
import string
import sys
import time
import urllib.parse

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import harness  # noqa: E402
from harness import Cluster, Kube, TestFailure, check, wait_until  # noqa: E402

# A snapshot every 64 Raft entries (16 kept after it): FILLER writes after the
# secrets force several on every replica. The floor the server applies is below this.
FLAGS = ["--election-timeout-ms", "300", "--heartbeat-ms", "50", "--snapshot-threshold", "64",
         "--snapshot-trailing", "16"]
FILLER = 200
READY_TIMEOUT_S = 60
NS = "default"
SECRETS = f"/api/v1/namespaces/{NS}/secrets"


def rand_value():
    """40 random capital letters. Snapshots are lz4-compressed: lz4 keeps a string
    as a literal unless 4+ of its bytes repeat something earlier, and runs of four
    capitals occur nowhere else in our JSON (hex uids, lowercase keys), so a value
    stored in plaintext would be found in a snapshot as it is in a log segment."""
    return "".join(secrets.choice(string.ascii_uppercase) for _ in range(40))


def b64(s):
    return base64.b64encode(s.encode()).decode()


def data_dir_bytes(c):
    """{path: bytes} of every file in every replica's data dir. A file that libraft
    removes between the listing and the read (a segment compacted away) is gone:
    nothing of it can be found later either."""
    out = {}
    for name in c.names:
        for root, _, files in os.walk(c.data_dir(name)):
            for f in files:
                p = os.path.join(root, f)
                try:
                    with open(p, "rb") as fh:
                        out[p] = fh.read()
                except FileNotFoundError:
                    pass
    return out


def found_in(files, needle):
    return sorted(p for p, b in files.items() if needle.encode() in b)


def key_file(c):
    return os.path.join(c.dir, "pki", "encryption.yaml")


def write_config(c, keys, path=None):
    """An EncryptionConfiguration for secrets: aesgcm with keys [(name, b64)], identity."""
    lines = ["apiVersion: apiserver.config.k8s.io/v1", "kind: EncryptionConfiguration",
             "resources:", "  - resources: [secrets]", "    providers:", "      - aesgcm:",
             "          keys:"]
    for name, secret in keys:
        lines += [f"            - name: {name}", f"              secret: {secret}"]
    lines.append("      - identity: {}")
    path = path or key_file(c)
    fd = os.open(path + ".tmp", os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "w") as f:
        f.write("\n".join(lines) + "\n")
    os.replace(path + ".tmp", path)
    return path


def current_key1(c):
    with open(key_file(c)) as f:
        text = f.read()
    secret = text.split("secret:", 1)[1].split()[0]
    return secret


def restart_all(c):
    """Rolling restart, one replica at a time, each back and ready before the next."""
    for name in c.names:
        check(f"{name} stops cleanly", 0, c.stop(name), c)
        c.start(name)
        c.wait_ready(READY_TIMEOUT_S)
    c.wait_leader(READY_TIMEOUT_S)


def secret_value(k, name, key):
    out = k.ok("get", "secret", name, "-n", NS, "-o", f"jsonpath={{.data.{key}}}")
    return base64.b64decode(out).decode()


def create_secret(k, name, value, string_value=None):
    obj = {"apiVersion": "v1", "kind": "Secret", "metadata": {"name": name, "namespace": NS,
                                                              "labels": {"app": "enc"}},
           "data": {"pw": b64(value)}}
    if string_value is not None:
        obj["stringData"] = {"token": string_value}
    k.ok("create", "-f", "-", input=json.dumps(obj))


def get(c, replica, path):
    st, _, body = c.request("GET", c.api_url(replica) + path)
    try:
        return st, json.loads(body)
    except ValueError:
        return st, body


# ---------------------------------------------------------------- CIS 1.2.27

def test_cis_1_2_27_encryption_provider_config_set(c):
    path = key_file(c)
    mode = stat.S_IMODE(os.stat(path).st_mode)
    check("encryption.yaml mode", 0o600, mode, c)
    with open(path) as f:
        text = f.read()
    check("kind", True, "kind: EncryptionConfiguration" in text, c)
    check("aesgcm first, identity last", True,
          0 < text.index("aesgcm:") < text.index("identity: {}"), c)
    key = base64.b64decode(current_key1(c))
    check("key length (AES-256)", 32, len(key), c)
    for name in c.names:
        with open(os.path.join(c.dir, name, "triarchd.yaml")) as f:
            cfg = f.read()
        check(f"{name}'s triarchd.yaml names the key file", True,
              f'encryption-provider-config: "{path}"' in cfg, c)
    with open(c.log_path(c.names[0]), errors="replace") as f:
        check("replica logs encryption at rest on", True,
              "providers=\"secrets: aesgcm(key1) identity\"" in f.read(), c)


# ---------------------------------------------------------------- CIS 1.2.28

def test_cis_1_2_28_secrets_not_in_data_dir(c, k, vals):
    create_secret(k, "s1", vals["data"], vals["string"])
    check("data reads back", vals["data"], secret_value(k, "s1", "pw"), c)
    check("stringData reads back (as data)", vals["string"], secret_value(k, "s1", "token"), c)
    k.ok("create", "configmap", "control", "-n", NS, f"--from-literal=v={vals['cm']}")
    # enough writes after the secret for every replica to take a snapshot
    url = c.api_url(c.names[0]) + f"/api/v1/namespaces/{NS}/configmaps"
    for i in range(FILLER):
        st, _, body = c.request("POST", url, {"apiVersion": "v1", "kind": "ConfigMap",
                                              "metadata": {"name": f"filler-{i}"},
                                              "data": {"k": "x" * 64}})
        check(f"filler {i} created", 201, st, c)

    def snapshots():
        per = {n: [f for f in os.listdir(c.data_dir(n)) if f.startswith("snapshot-")]
               for n in c.names}
        return per if all(per.values()) else None

    per = wait_until("a snapshot file in every data dir", snapshots, 60, c)
    print(f"snapshots: { {n: sorted(v) for n, v in per.items()} }", flush=True)
    files = data_dir_bytes(c)
    where = found_in(files, vals["cm"])
    check("the ConfigMap's value is in the data dir (the search works)", True, len(where) > 0, c)
    check("the ConfigMap's value is in a snapshot (the search reads snapshots)", True,
          any("/snapshot-" in p for p in where), c)
    for what in ("data", "string"):
        check(f"files holding the secret's {what} value", [], found_in(files, vals[what]), c)
        check(f"files holding the base64 of the secret's {what} value", [],
              found_in(files, b64(vals[what])), c)
    check("encrypted values are in the data dir", True,
          len(found_in(files, "k8s:enc:aesgcm:v1:key1:")) > 0, c)
    # still readable after the snapshots, on every replica
    for name in c.names:
        st, obj = get(c, name, f"{SECRETS}/s1")
        check(f"GET s1 on {name}", 200, st, c)
        check(f"s1 data on {name}", b64(vals["data"]), obj["data"]["pw"], c)


# ---------------------------------------------------------------- watch, delete

def watch_lines(c, replica, query, until, timeout=20):
    """Reads a watch stream until until(event) is true; returns the events seen."""
    u = urllib.parse.urlsplit(c.api_url(replica))
    conn = http.client.HTTPSConnection(u.hostname, u.port, timeout=timeout,
                                       context=c.client.ssl_context())
    events = []
    try:
        conn.request("GET", f"{SECRETS}?watch=1&timeoutSeconds={timeout}&{query}")
        resp = conn.getresponse()
        check(f"watch {query} status", 200, resp.status, c)
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            line = resp.readline()
            if not line:
                break
            if not line.strip():
                continue  # an idle watch's heartbeat
            check("no ciphertext in a watch event", False, b"k8s:enc:" in line, c)
            ev = json.loads(line)
            events.append(ev)
            if until(ev):
                return events
    finally:
        conn.close()
    raise TestFailure(f"watch {query}: the event waited for never came; got "
                      f"{[(e['type'], e['object'].get('metadata', {}).get('name')) for e in events]}"
                      f" (logs in {c.dir})")


def is_event(ev, typ, name):
    return ev["type"] == typ and ev["object"].get("metadata", {}).get("name") == name


def test_watch_and_delete_decrypt(c, k, vals):
    replica = c.names[1]
    # initial state as ADDED events (synthetic, from a range read)
    evs = watch_lines(c, replica, "", lambda e: is_event(e, "ADDED", "s1"))
    check("initial ADDED carries plaintext", b64(vals["data"]), evs[-1]["object"]["data"]["pw"], c)
    # live events in raw-bytes mode (no selector): stored bytes are opened first
    st, lst = get(c, replica, SECRETS)
    check("list secrets", 200, st, c)
    rv = lst["metadata"]["resourceVersion"]
    other = rand_value()
    create_secret(k, "s-watch", other)
    evs = watch_lines(c, replica, f"resourceVersion={rv}",
                      lambda e: is_event(e, "ADDED", "s-watch"))
    check("live ADDED carries plaintext", b64(other), evs[-1]["object"]["data"]["pw"], c)
    # selector mode (objects parsed, transitions computed)
    k.ok("label", "secret", "s-watch", "-n", NS, "phase=two")
    evs = watch_lines(c, replica, f"resourceVersion={rv}&labelSelector=phase%3Dtwo",
                      lambda e: is_event(e, "ADDED", "s-watch"))
    check("selector watch carries plaintext", b64(other), evs[-1]["object"]["data"]["pw"], c)
    # DELETE answers with the object as it was
    st, _, body = c.request("DELETE", c.api_url(replica) + f"{SECRETS}/s-watch")
    check("delete s-watch", 200, st, c)
    check("DELETE response carries plaintext", b64(other), json.loads(body)["data"]["pw"], c)
    evs = watch_lines(c, replica, f"resourceVersion={rv}",
                      lambda e: is_event(e, "DELETED", "s-watch"))
    check("DELETED event carries plaintext", b64(other), evs[-1]["object"]["data"]["pw"], c)


# ---------------------------------------------------------------- rotation

def reencrypt(c):
    r = harness.triarch("secrets", "reencrypt", "--kubeconfig", c.kubeconfig, timeout=300)
    if r.returncode != 0:
        raise TestFailure(f"triarch secrets reencrypt: exit {r.returncode}\n{r.stderr}"
                          f"(logs in {c.dir})")
    return r.stderr


def test_cis_1_2_28_key_rotation(c, k, vals):
    key1 = current_key1(c)
    key2 = base64.b64encode(os.urandom(32)).decode()
    rv_before = k.obj("get", "secret", "s1", "-n", NS)["metadata"]["resourceVersion"]
    # 1. every replica learns key2 (reads only), 2. key2 becomes the writing key
    write_config(c, [("key1", key1), ("key2", key2)])
    restart_all(c)
    check("s1 after adding key2", vals["data"], secret_value(k, "s1", "pw"), c)
    write_config(c, [("key2", key2), ("key1", key1)])
    restart_all(c)
    check("s1 (key1) readable with key2 first", vals["data"], secret_value(k, "s1", "pw"), c)
    fresh = rand_value()
    create_secret(k, "s-new", fresh)
    check("new secret readable", fresh, secret_value(k, "s-new", "pw"), c)
    check("new writes use key2", True,
          len(found_in(data_dir_bytes(c), "k8s:enc:aesgcm:v1:key2:")) > 0, c)
    # 3. rewrite everything under key2
    n = len(k.names("get", "secrets", "-A"))
    err = reencrypt(c)
    print(err, flush=True)
    check("progress reaches n/total", True, f"{n}/{n}" in err, c)
    check("no failure", True, " 0 failed" in err, c)
    rv_after = k.obj("get", "secret", "s1", "-n", NS)["metadata"]["resourceVersion"]
    check("s1 rewritten (new resourceVersion)", True, rv_after != rv_before, c)
    err = reencrypt(c)
    check("a second run has nothing stale to rewrite", True, "0 rewritten" in err, c)
    # 4. drop key1: everything still reads
    write_config(c, [("key2", key2)])
    restart_all(c)
    check("s1 with key1 gone", vals["data"], secret_value(k, "s1", "pw"), c)
    check("s1 stringData with key1 gone", vals["string"], secret_value(k, "s1", "token"), c)
    check("s-new with key1 gone", fresh, secret_value(k, "s-new", "pw"), c)
    names = k.names("get", "secrets", "-A")
    check("every secret lists", n, len(names), c)
    return key2


# ---------------------------------------------------------------- wrong key

def expect_500(c, replica, what, needle):
    st, obj = get(c, replica, f"{SECRETS}/s1")
    check(f"{what}: GET s1 status", 500, st, c)
    check(f"{what}: Status reason", "InternalError", obj.get("reason"), c)
    msg = obj.get("message", "")
    for n in ('secrets "s1"', needle):
        check(f"{what}: message mentions {n!r} (got {msg!r})", True, n in msg, c)
    st, obj = get(c, replica, SECRETS)
    check(f"{what}: list secrets status", 500, st, c)
    st, obj = get(c, replica, f"/api/v1/namespaces/{NS}/configmaps/control")
    check(f"{what}: other resources still served", 200, st, c)
    st, obj = get(c, replica, "/api/v1/namespaces")
    check(f"{what}: namespaces still listed", 200, st, c)


def test_wrong_key_answers_500(c, key2):
    victim = c.names[-1]
    alt = os.path.join(c.dir, victim, "other-encryption.yaml")
    # same key name, other key material
    write_config(c, [("key2", base64.b64encode(os.urandom(32)).decode())], alt)
    c.stop(victim)
    c.start(victim, "--encryption-provider-config", alt)
    c.wait_ready(READY_TIMEOUT_S, names=[victim])
    expect_500(c, victim, "wrong key material", 'aesgcm key "key2" failed to authenticate')
    with open(c.log_path(victim), errors="replace") as f:
        check("the failure is logged", True, "cannot decrypt a stored value" in f.read(), c)
    # the key missing altogether
    write_config(c, [("key9", base64.b64encode(os.urandom(32)).decode())], alt)
    c.stop(victim)
    c.start(victim, "--encryption-provider-config", alt)
    c.wait_ready(READY_TIMEOUT_S, names=[victim])
    expect_500(c, victim, "unknown key", 'key "key2"')
    # reencrypt through that replica fails, and says why
    with open(c.kubeconfig) as f:
        text = f.read().replace(f"server: {c.api_url(c.names[0])}",
                                f"server: {c.api_url(victim)}")
    kc = os.path.join(c.dir, "victim.kubeconfig")
    with open(kc, "w") as f:
        f.write(text)
    r = harness.triarch("secrets", "reencrypt", "--kubeconfig", kc, timeout=120)
    check("reencrypt through a replica without the key: exit code", 1, r.returncode, c)
    for n in ("listing secrets: HTTP 500", 'key "key2"'):
        check(f"reencrypt's message mentions {n!r} (got {r.stderr!r})", True, n in r.stderr, c)
    # the other replicas were never affected
    st, obj = get(c, c.names[0], f"{SECRETS}/s1")
    check("a replica with the right key still reads s1", 200, st, c)
    # a config file that does not parse stops the replica at start (exit 2)
    with open(alt, "w") as f:
        f.write("kind: EncryptionConfiguration\n")
    c.stop(victim)
    p = c.start(victim, "--encryption-provider-config", alt)
    check("bad encryption config: exit code", 2, p.wait(timeout=30), c)
    with open(c.log_path(victim), errors="replace") as f:
        check("bad encryption config: message", True,
              "encryption-provider-config: " + alt in f.read(), c)


def test_encryption_at_rest():
    with Cluster(n=3, extra_flags=FLAGS) as c:
        c.start_all()
        c.wait_ready(READY_TIMEOUT_S)
        c.wait_leader(READY_TIMEOUT_S)
        k = Kube(c)
        vals = {"data": rand_value(), "string": rand_value(), "cm": rand_value()}
        steps = [
            ("test_cis_1_2_27_encryption_provider_config_set",
             lambda: test_cis_1_2_27_encryption_provider_config_set(c)),
            ("test_cis_1_2_28_secrets_not_in_data_dir",
             lambda: test_cis_1_2_28_secrets_not_in_data_dir(c, k, vals)),
            ("test_watch_and_delete_decrypt", lambda: test_watch_and_delete_decrypt(c, k, vals)),
        ]
        for name, fn in steps:
            fn()
            print(f"ok {name}", flush=True)
        key2 = test_cis_1_2_28_key_rotation(c, k, vals)
        print("ok test_cis_1_2_28_key_rotation", flush=True)
        test_wrong_key_answers_500(c, key2)
        print("ok test_wrong_key_answers_500", flush=True)


harness.main(test_encryption_at_rest)
