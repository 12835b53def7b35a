"""The role carries its own parts: a collection reduced to what the packaging rules expect to be
enough (galaxy.yml, meta/, plugins/, roles/, playbooks/) renders, given the app's build context,
and says which variable to set when the example app's context is not there."""

from __future__ import annotations

import json
import shutil
import subprocess
import sys
import sysconfig
from pathlib import Path

from combinations import COMMON
from conftest import ansible_environment
from manifest_schemas import directory_errors
from repository import ROOT

KEPT = ["galaxy.yml", "meta", "plugins", "roles", "playbooks"]


def reduced_collection(base: Path) -> Path:
    """A copy of the collection with only KEPT, where Ansible looks for authproxy.sidecar."""
    target = base / "ansible_collections/authproxy/sidecar"
    target.mkdir(parents=True)
    for name in KEPT:
        source = ROOT / name
        if source.is_dir():
            shutil.copytree(source, target / name)
        else:
            shutil.copy2(source, target / name)
    return target


def render(collection: Path, home: Path, inputs: dict[str, object]) -> subprocess.CompletedProcess[str]:
    env = ansible_environment(home) | {
        # The reduced copy and the dependencies from the `ansible` package, not the repository.
        "ANSIBLE_COLLECTIONS_PATH": f"{collection.parents[2]}:{sysconfig.get_paths()['purelib']}",
    }
    return subprocess.run(
        [
            str(Path(sys.executable).parent / "ansible-playbook"),
            str(collection / "playbooks/render.yml"),
            "-e",
            json.dumps(COMMON | {"sidecar_app_platform": "openshift"} | inputs),
        ],
        cwd=home.parent,
        env=env,
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )


def test_a_reduced_collection_names_the_app_build_context_to_set(tmp_path: Path) -> None:
    collection = reduced_collection(tmp_path / "collections")
    out = tmp_path / "out"
    result = render(collection, tmp_path / "home", {"sidecar_app_render_dir": str(out)})
    assert result.returncode != 0, result.stdout
    assert 'sidecar_app_app_build_context = "' in result.stdout
    assert "is not allowed: use a directory with a Containerfile: your app's build context" in result.stdout
    assert not out.exists()


def test_a_reduced_collection_renders_with_the_apps_build_context_given(tmp_path: Path) -> None:
    collection = reduced_collection(tmp_path / "collections")
    out = tmp_path / "out"
    inputs = {"sidecar_app_render_dir": str(out), "sidecar_app_app_build_context": str(ROOT / "files/app")}
    result = render(collection, tmp_path / "home", inputs)
    assert result.returncode == 0, result.stdout[-5000:]
    assert "buildconfig-hello-sidecar-proxy" in " ".join(path.name for path in out.iterdir())
    assert directory_errors(out) == []
    # The proxy image was staged from the role's own build context.
    staged = tmp_path / "home/.local/state/authproxy-sidecar/hello-sidecar/build/proxy"
    assert {"Containerfile", "start-nginx", "verifier.py", "auth_cache_key.js", "nginx.conf"} <= {
        path.name for path in staged.iterdir()
    }
