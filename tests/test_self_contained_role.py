"""The role carries its own parts: a collection reduced to what the packaging rules expect to be
enough (galaxy.yml, meta/, plugins/, roles/, playbooks/) renders, given the app's build context,
and says which variable to set when the example app's context is not there."""

from __future__ import annotations

import shutil
import sysconfig
from pathlib import Path

from combinations import COMMON
from manifest_schemas import directory_errors
from playbook_runs import Played, play
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


def render(collection: Path, home: Path, inputs: dict[str, object]) -> Played:
    return play(
        collection / "playbooks/render.yml",
        extra_vars=COMMON | {"sidecar_app_platform": "openshift"} | inputs,
        home=home,
        cwd=home.parent,
        # The reduced copy and the dependencies from the `ansible` package, not the repository.
        env={"ANSIBLE_COLLECTIONS_PATH": f"{collection.parents[2]}:{sysconfig.get_paths()['purelib']}"},
    )


def test_a_reduced_collection_names_the_app_build_context_to_set(tmp_path: Path) -> None:
    collection = reduced_collection(tmp_path / "collections")
    out = tmp_path / "out"
    output = render(collection, tmp_path / "home", {"sidecar_app_render_dir": str(out)}).must_fail()
    assert 'sidecar_app_app_build_context = "' in output
    assert "is not allowed: use a directory with a Containerfile: your app's build context" in output
    assert not out.exists()


def test_a_reduced_collection_renders_with_the_apps_build_context_given(tmp_path: Path) -> None:
    collection = reduced_collection(tmp_path / "collections")
    out = tmp_path / "out"
    inputs = {"sidecar_app_render_dir": str(out), "sidecar_app_app_build_context": str(ROOT / "files/app")}
    render(collection, tmp_path / "home", inputs).must_succeed()
    assert "buildconfig-hello-sidecar-proxy" in " ".join(path.name for path in out.iterdir())
    assert directory_errors(out) == []
    # The proxy image was staged from the role's own build context.
    staged = tmp_path / "home/.local/state/authproxy-sidecar/hello-sidecar/build/localhost/proxy"
    assert {"Containerfile", "start-nginx", "verifier.py", "nginx.conf"} <= {
        path.name for path in staged.iterdir()
    }
