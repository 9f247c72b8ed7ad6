"""table_lists: `kubectl get` of lists larger than one rendering batch (Table rows
are rendered on the thread pool in batches of 256 and joined in key order): every
object exactly once, in key order, unpaged and with --chunk-size, and with a
selector (the sequential path).
"""

import concurrent.futures
import os
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import harness  # noqa: E402
from harness import Cluster, Kube, check  # noqa: E402

FLAGS = ["--election-timeout-ms", "300", "--heartbeat-ms", "50"]
N = 700  # spans three batches
NS = "many"


def create_all(c):
    url = c.api_url("r1") + f"/api/v1/namespaces/{NS}/configmaps"

    def one(i):
        body = {"apiVersion": "v1", "kind": "ConfigMap",
                "metadata": {"name": f"cm-{i:04d}", "labels": {"half": str(i % 2)}},
                "data": {"i": str(i)}}
        st, _, _ = c.request("POST", url, body)
        return st

    with concurrent.futures.ThreadPoolExecutor(8) as pool:
        codes = list(pool.map(one, range(N)))
    check("every create answered 201", [201] * N, codes, c)


def names_of_table(out):
    lines = out.splitlines()
    return lines[0].split(), [line.split()[0] for line in lines[1:] if line.strip()]


def test_table_lists():
    with Cluster(n=1, extra_flags=FLAGS) as c:
        c.start_all()
        c.wait_ready(60)
        c.haproxy()
        k = Kube(c)
        k.ok("create", "namespace", NS)
        create_all(c)
        want = [f"cm-{i:04d}" for i in range(N)] + ["kube-root-ca.crt"]
        header, rows = names_of_table(k.ok("get", "cm", "-n", NS))
        check("unpaged Table: header", ["NAME", "DATA", "AGE"], header, c)
        check("unpaged Table: every object once, in key order", want, rows, c)
        header, rows = names_of_table(k.ok("get", "cm", "-n", NS, "--chunk-size=300"))
        check("Table in pages of 300: every object once, in key order", want, rows, c)
        _, rows = names_of_table(k.ok("get", "cm", "-n", NS, "-l", "half=1"))
        check("Table with a selector (sequential path)", [n for n in want[:-1] if int(n[3:]) % 2],
              rows, c)
        out = k.ok("get", "cm", "-A", "--no-headers")
        check("all namespaces: the many ones all there", N,
              sum(1 for line in out.splitlines() if line.split()[0] == NS and
                  line.split()[1].startswith("cm-")), c)


if __name__ == "__main__":
    harness.args()
    harness.main(test_table_lists)
