"""Field schemas with the real kubectl: `kubectl explain` walks a Deployment down to
its containers from /openapi/v3; `kubectl apply -f` of a Deployment (twice, then
with a changed image) computes its patches from the served schema without
"unable to find api field" warnings (kubectl 1.27 too, from /openapi/v2); `kubectl create -f` of a Deployment with a
typo deep in spec fails with Kubernetes' strict decoding error, and with
--validate=false the typo is dropped with a warning."""

import json
import os
import sys
import tempfile

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import harness  # noqa: E402
from harness import KUBECTL, Cluster, check  # noqa: E402

import subprocess  # noqa: E402

# kubectl 1.27 reads /openapi/v2 (protobuf) to compute apply patches.
KUBECTL_V2 = "/usr/lib/google-cloud-sdk/bin/kubectl.1.27"
FLAGS = ["--election-timeout-ms", "300", "--heartbeat-ms", "50"]
READY_TIMEOUT_S = 60  # sanitizer builds start slowly on a loaded 2-core machine


def deployment(image, extra_container=None):
    c = {"name": "web", "image": image, "ports": [{"containerPort": 80}],
         "env": [{"name": "A", "value": "1"}],
         "resources": {"limits": {"cpu": "500m", "memory": "64Mi"}}}
    c.update(extra_container or {})
    return {"apiVersion": "apps/v1", "kind": "Deployment",
            "metadata": {"name": "web", "namespace": "default", "labels": {"app": "web"}},
            "spec": {"replicas": 1, "selector": {"matchLabels": {"app": "web"}},
                     "strategy": {"rollingUpdate": {"maxSurge": "25%", "maxUnavailable": 0}},
                     "template": {"metadata": {"labels": {"app": "web"}},
                                  "spec": {"containers": [c]}}}}


def kubectl(c, cache, *argv, body=None, binary=KUBECTL):
    r = subprocess.run([binary, "--kubeconfig", c.kubeconfig, "--cache-dir", cache, *argv],
                       capture_output=True, text=True, timeout=60,
                       input=json.dumps(body) if body is not None else None)
    return r


def test_schema():
    with Cluster(n=1, extra_flags=FLAGS) as c, tempfile.TemporaryDirectory() as cache:
        c.start_all()
        c.wait_ready(READY_TIMEOUT_S)
        c.haproxy()

        r = kubectl(c, cache, "explain", "deployment.spec.template.spec.containers")
        check("explain containers exit code", 0, r.returncode, c)
        check("explain names the field", True, "imagePullPolicy" in r.stdout, c)
        r = kubectl(c, cache, "explain", "deployment.spec.strategy.rollingUpdate.maxSurge")
        check("explain maxSurge exit code", 0, r.returncode, c)

        for image in ("nginx:1.25", "nginx:1.25", "nginx:1.26"):
            r = kubectl(c, cache, "apply", "-f", "-", body=deployment(image))
            check(f"apply {image} exit code ({r.stderr})", 0, r.returncode, c)
            check(f"apply {image} warnings", "", r.stderr.strip(), c)
        r = kubectl(c, cache, "get", "deployment", "web", "-o", "json")
        obj = json.loads(r.stdout)
        ctr = obj["spec"]["template"]["spec"]["containers"]
        check("one container after applies", 1, len(ctr), c)
        check("image updated by apply", "nginx:1.26", ctr[0]["image"], c)

        if os.path.exists(KUBECTL_V2):
            for image in ("nginx:1.25", "nginx:1.25", "nginx:1.26"):
                d = deployment(image)
                d["metadata"]["name"] = "web-v2"
                r = kubectl(c, cache, "apply", "-f", "-", body=d, binary=KUBECTL_V2)
                check(f"1.27 apply {image} exit code ({r.stderr})", 0, r.returncode, c)
                check(f"1.27 apply {image} warnings", "", r.stderr.strip(), c)

        typo = deployment("nginx", {"imagee": "x"})
        typo["metadata"]["name"] = "typo"
        r = kubectl(c, cache, "create", "-f", "-", body=typo)
        check("create with a typo fails", 1, r.returncode, c)
        want = 'strict decoding error: unknown field "spec.template.spec.containers[0].imagee"'
        check(f"strict error ({r.stderr})", True, want in r.stderr, c)

        r = kubectl(c, cache, "create", "--validate=false", "-f", "-", body=typo)
        check(f"lenient create exit code ({r.stderr})", 0, r.returncode, c)
        r = kubectl(c, cache, "get", "deployment", "typo", "-o", "json")
        got = json.loads(r.stdout)["spec"]["template"]["spec"]["containers"][0]
        check("typo dropped", False, "imagee" in got, c)


harness.main(test_schema)
