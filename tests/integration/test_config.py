"""config: bad configuration is refused with a message naming the setting (exit 2),
and a data dir that cannot be started from is refused (exit 1), before anything is
written or served.
"""

import os
import subprocess
import sys
import tempfile

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import harness  # noqa: E402
from harness import Cluster, check, binary  # noqa: E402


def run(argv, timeout=30):
    return subprocess.run([binary("triarchd"), *argv], capture_output=True, text=True,
                          timeout=timeout)


def expect_refusal(what, argv, code, needle):
    r = run(argv)
    check(f"{what}: exit code", code, r.returncode)
    check(f"{what}: message mentions {needle!r} (got {r.stderr.strip()[:200]!r})", True,
          needle in r.stderr)


def test_config():
    with Cluster(n=3) as c:
        cfg = os.path.join(c.dir, "r1", "triarchd.yaml")
        bad = os.path.join(c.dir, "bad.yaml")

        def write_bad(text):
            with open(cfg) as f:
                base = f.read()
            with open(bad, "w") as f:
                f.write(base + text)

        write_bad("no-such-setting: 1\n")
        expect_refusal("unknown YAML key", ["--config", bad], 2, "no-such-setting")
        write_bad("election-timeout-ms: soon\n")
        expect_refusal("non-numeric value", ["--config", bad], 2, "election-timeout-ms")
        with open(bad, "w") as f:
            f.write("name: [unclosed\n")
        expect_refusal("YAML syntax error", ["--config", bad], 2, "line")
        expect_refusal("unknown flag", ["--config", cfg, "--bogus", "1"], 2, "--bogus")
        expect_refusal("missing required setting", ["--name", "r1"], 2, "data-dir")
        expect_refusal("bad cluster state", ["--config", cfg, "--initial-cluster-state", "maybe"],
                       2, "initial-cluster-state")
        expect_refusal("name not in initial-cluster", ["--config", cfg, "--name", "r9"], 2,
                       "initial-cluster")
        expect_refusal("plain listener off loopback",
                       ["--config", cfg, "--api-listen-plain", "0.0.0.0:0"], 2, "loopback")
        for flag, value, needle in (
                ("--service-cluster-ip-range", "10.96.0.0", "service-cluster-ip-range"),
                ("--service-cluster-ip-range", "10.96.0.0/31", "service-cluster-ip-range"),
                ("--service-cluster-ip-range", "fd00::/108", "service-cluster-ip-range"),
                ("--advertise-address", "0.0.0.0", "advertise-address"),
                ("--advertise-address", "api.example", "advertise-address"),
                ("--identity-lease-renew-interval-seconds", "15",
                 "identity-lease-renew-interval-seconds"),
                ("--identity-lease-duration-seconds", "100000", "identity-lease-duration-seconds")):
            expect_refusal(f"{flag} {value}", ["--config", cfg, flag, value], 2, needle)
        expect_refusal("api-listen and peer-listen on 0.0.0.0 without advertise-address",
                       ["--config", cfg, "--api-listen", "0.0.0.0:0", "--peer-listen",
                        "0.0.0.0:0"], 2, "advertise-address")
        empty = tempfile.mkdtemp(dir=c.dir)
        expect_refusal("existing state with an empty data dir",
                       ["--config", cfg, "--data-dir", empty, "--initial-cluster-state",
                        "existing"], 1, "refusing to start")
        check("nothing written to the refused data dir", [], os.listdir(empty), c)
        r = run(["--help"])
        check("--help exits 0", 0, r.returncode)
        check("--help lists the settings", True, "--peer-listen" in r.stdout)


harness.main(test_config)
