"""make bench-cluster: the role on the local Kubernetes (make cluster), timed.

Deploys into a namespace of its own with the Service a NodePort on 127.0.0.1 (as the cluster
tests do), and prints: the first deploy into the empty namespace until the role has verified
Hello World, a redeploy with nothing changed, and a password change: how long the role's run
took and when the new password was first accepted and the old one first refused, from the
start of that run. Numbers, not assertions.
"""

from __future__ import annotations

import sys
import tempfile
import threading
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "tests/cluster"))

from local_cluster import (  # noqa: E402  (the cluster tests' own helpers, not a copy)
    Cluster,
    cluster_dir,
    cluster_script,
    find_kubectl,
    http_status,
    node_port_inputs,
    run_playbook,
)

NAMESPACE = "bench-cluster"
NODE_PORT = 30130
URL = f"http://127.0.0.1:{NODE_PORT}/"
OLD, NEW = "bench password 1", "bench password 2"


def deploy(cluster: Cluster, tmp_path: Path, password: str) -> float:
    """Seconds the role's deploy took, to a verified Hello World."""
    users = [{"name": "admin", "password": password}]
    inputs = node_port_inputs(NAMESPACE, NODE_PORT, sidecar_app_users=users)
    started = time.monotonic()
    result = run_playbook("deploy.yml", inputs, tmp_path, cluster.kubeconfig)
    if result.returncode != 0:
        sys.exit(f"the deploy failed:\n{result.stdout[-4000:]}{result.stderr[-2000:]}")
    return time.monotonic() - started


class PasswordWatch(threading.Thread):
    """When, from its start, the new password was first accepted and the old one first refused.
    The old one is tried once a second and only until refused: wrong passwords are throttled per
    client, and the role's own verification comes from the same address."""

    def __init__(self) -> None:
        super().__init__(daemon=True)
        self.started = time.monotonic()
        self.done = threading.Event()
        self.new_first: float | None = None
        self.old_refused: float | None = None

    def run(self) -> None:
        next_old = 0.0
        while not self.done.wait(0.2):
            now = time.monotonic() - self.started
            if self.new_first is None and http_status(URL, user="admin", password=NEW) == 200:
                self.new_first = now
            if self.old_refused is None and now >= next_old:
                next_old = now + 1
                if http_status(URL, user="admin", password=OLD) == 401:
                    self.old_refused = now


def seconds(value: float | None) -> str:
    return "never" if value is None else f"{value:.1f} s"


def main() -> None:
    status = cluster_script("status", check=False)
    if status.returncode != 0:
        sys.exit(f"the local cluster does not run; `make cluster` starts it: {status.stdout.strip()}")
    directory = cluster_dir()
    cluster = Cluster(directory, directory / "kubeconfig", find_kubectl())
    cluster.delete_namespace(NAMESPACE)
    with tempfile.TemporaryDirectory() as temporary:
        tmp_path = Path(temporary)
        first = deploy(cluster, tmp_path, OLD)
        warm = deploy(cluster, tmp_path, OLD)
        watch = PasswordWatch()
        watch.start()
        rotation = deploy(cluster, tmp_path, NEW)
        time.sleep(10)  # the old password's cached answers expire within the TTL (5 s)
        watch.done.set()
        watch.join()
    cluster.delete_namespace(NAMESPACE)
    print(f"cluster deploy to verified Hello World: first {first:.1f} s (empty namespace), warm {warm:.1f} s")
    print(
        f"cluster password change: role run {rotation:.1f} s; new password first accepted at "
        f"{seconds(watch.new_first)}, old first refused at {seconds(watch.old_refused)} after its start"
    )


if __name__ == "__main__":
    sys.exit(main())
