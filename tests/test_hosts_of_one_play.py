"""Hosts of one play that deploy the same app from one controller share its state directory;
each stages the proxy's build context in a directory of its own, so each proxy image is built
from the nginx.conf of that host's settings, whatever the others render at the same time."""

from __future__ import annotations

from pathlib import Path

from combinations import COMBINATIONS
from role_objects import ObjectSet, render

BUILT_ON_THE_CLUSTER = COMBINATIONS["openshift-deployment-cluster-build-1-replica-host"]
HOSTS = {
    "plain": BUILT_ON_THE_CLUSTER,
    "with-login-free-path": BUILT_ON_THE_CLUSTER | {"sidecar_app_login_free_paths": ["/status"]},
}


def proxy_image(object_set: ObjectSet) -> str:
    containers = object_set.pod_template["spec"]["containers"]
    return next(str(container["image"]) for container in containers if container["name"] == "proxy")


def test_each_host_builds_its_proxy_from_its_own_nginx_conf(tmp_path: Path) -> None:
    rendered = render(tmp_path, HOSTS)
    build = rendered.home / ".local/state/authproxy-sidecar/hello-sidecar/build"
    confs = {host: (build / host / "proxy/nginx.conf").read_text() for host in HOSTS}
    assert 'location = "/status"' not in confs["plain"]
    assert 'location = "/status"' in confs["with-login-free-path"]
    images = {host: proxy_image(object_set) for host, object_set in rendered.sets.items()}
    assert images["plain"] != images["with-login-free-path"], images
