#!/usr/bin/python
# Copyright: authproxy.sidecar contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Start an OpenShift binary build from a local directory, as ``oc start-build --from-dir`` does."""
# Ansible wants DOCUMENTATION, EXAMPLES and RETURN before the imports (validate-modules).

from __future__ import annotations

DOCUMENTATION = r"""
module: openshift_binary_build
short_description: Start an OpenShift binary build from a local directory and wait for it
version_added: "0.1.0"
author:
  - authproxy.sidecar maintainers (@authproxy)
description:
  - Packs a local directory into a gzip-compressed tar archive and uploads it to the
    C(instantiatebinary) subresource of a BuildConfig, which starts a new Build with the
    archive as its source, the same request C(oc start-build --from-dir) makes.
  - Use it for BuildConfigs whose C(spec.source.type) is C(Binary).
    M(community.okd.openshift_build) starts builds too, but cannot upload a build context.
  - With O(wait=true) the module follows the Build until it is C(Complete), and fails when it
    ends C(Failed), C(Error) or C(Cancelled), or when O(wait_timeout) runs out, showing the
    last O(log_tail_lines) lines of the build log.
  - Every run starts a new Build, so the module always reports a change.
  - Connection and authentication work as in the C(kubernetes.core) modules.
extends_documentation_fragment:
  - authproxy.sidecar.k8s_auth_options
options:
  namespace:
    description: Namespace (OpenShift project) of the BuildConfig.
    type: str
    required: true
  build_config:
    description: Name of the BuildConfig to start a build of.
    type: str
    required: true
  src:
    description:
      - Local directory on the managed host (usually C(localhost)) that is the build context.
      - Its content goes into the archive with paths relative to it, so a C(Containerfile) or
        C(Dockerfile) at its top is at the top of the build context.
      - Regular files keep only their executable bit (modes C(0644) or C(0755)); owners and
        modification times are normalised, so the same tree always gives the same archive.
      - Symbolic links are stored as links, never followed. A link with an absolute target or
        one that leads outside O(src), and anything that is not a file, directory or link,
        make the module fail before anything is uploaded.
      - The archive is built in memory.
    type: path
    required: true
  wait:
    description:
      - Wait for the Build to finish.
      - When V(false), the module returns once the archive is uploaded.
    type: bool
    default: true
  wait_timeout:
    description: Seconds to wait for the Build to finish after the upload.
    type: int
    default: 900
  wait_sleep:
    description: Seconds between two reads of the Build while waiting.
    type: int
    default: 5
  log_tail_lines:
    description:
      - How many lines from the end of the build log the failure message shows.
      - V(0) does not read the log.
    type: int
    default: 50
requirements:
  - python >= 3.9
  - kubernetes >= 24.2.0
  - PyYAML >= 3.11
notes:
  - The API server accepts the upload only once the build pod runs, and gives up after five
    minutes, so the upload itself can take that long on a busy cluster.
  - In check mode nothing is sent to the cluster (not even discovery); the module only builds
    the archive to check O(src) and reports that it would start a build.
  - The BuildConfig must have a binary source, otherwise the API server rejects the request.
attributes:
  check_mode:
    description: Can run in check mode and return the changed status prediction without modifying the target.
    support: full
  diff_mode:
    description: Will return details on what has changed (or possibly needs changing in check mode).
    support: none
seealso:
  - module: community.okd.openshift_build
"""

EXAMPLES = r"""
- name: Build the app image from files/app and wait for the build
  authproxy.sidecar.openshift_binary_build:
    namespace: my-hello
    build_config: hello-app
    src: "{{ playbook_dir }}/../files/app"
  register: __sidecar_app_build

- name: Start a build with an explicit kubeconfig and context, without waiting
  authproxy.sidecar.openshift_binary_build:
    kubeconfig: ~/.kube/config
    context: my-hello/api-2-rahti-csc-fi:6443/me
    namespace: my-hello
    build_config: hello-proxy
    src: "{{ playbook_dir }}/proxy"
    wait: false

- name: Give a slow build 30 minutes and show 200 log lines if it fails
  authproxy.sidecar.openshift_binary_build:
    namespace: my-hello
    build_config: hello-app
    src: files/app
    wait_timeout: 1800
    log_tail_lines: 200
"""

RETURN = r"""
build_config:
  description: Name of the BuildConfig the build was (or in check mode would be) started from.
  returned: always
  type: str
  sample: hello-app
build:
  description: Name of the Build that the upload started; V(null) in check mode.
  returned: always
  type: str
  sample: hello-app-3
phase:
  description:
    - The Build's last seen C(status.phase); C(Complete) when O(wait=true) and the module succeeds,
      otherwise the phase in the API server's answer to the upload (usually C(Running)).
    - V(null) in check mode.
  returned: always
  type: str
  sample: Complete
duration:
  description: Seconds from the start of the upload until the module returned.
  returned: always
  type: float
  sample: 94.2
log_tail:
  description: The last O(log_tail_lines) lines of the build log.
  returned: when the build failed or the wait timed out
  type: list
  elements: str
  sample: ["STEP 3/7: RUN pip install -r requirements.txt", "error: build error: exit status 1"]
"""

import copy
import gzip
import io
import json
import os
import stat
import tarfile
import time
from collections.abc import Callable, Iterator
from typing import Any, Protocol

from ansible_collections.kubernetes.core.plugins.module_utils.args_common import AUTH_ARG_SPEC
from ansible_collections.kubernetes.core.plugins.module_utils.k8s.client import get_api_client
from ansible_collections.kubernetes.core.plugins.module_utils.k8s.core import AnsibleK8SModule
from ansible_collections.kubernetes.core.plugins.module_utils.k8s.exceptions import CoreException

try:
    from kubernetes.client.exceptions import ApiException
except ImportError:  # reported by AnsibleK8SModule, which requires the kubernetes library

    class ApiException(Exception):  # type: ignore[no-redef]
        """Stands in for the kubernetes client's exception when the library is missing."""


try:
    from urllib3.exceptions import HTTPError as TransportError
except ImportError:  # urllib3 comes with the kubernetes library

    class TransportError(Exception):  # type: ignore[no-redef]
        """Stands in for urllib3's base exception when the library is missing."""


BUILD_API = "/apis/build.openshift.io/v1/namespaces/{namespace}"
SUCCEEDED = "Complete"
FAILED = ("Failed", "Error", "Cancelled")
# The API server reads the upload only once the build pod runs and waits up to five minutes for
# it, so the socket may stay silent that long: (connect, read) seconds.
UPLOAD_TIMEOUT = (30, 600)
READ_TIMEOUT = (30, 60)
FILE_MODE = 0o644
EXECUTABLE_MODE = 0o755
LINK_MODE = 0o777


class RawResponse(Protocol):
    """A response read with serialize=False (urllib3's HTTPResponse)."""

    @property
    def data(self) -> bytes: ...


class ApiRequester(Protocol):
    """What the module needs from kubernetes' DynamicClient: one raw request."""

    def request(self, method: str, path: str, body: bytes | None = None, **params: object) -> RawResponse: ...


class ArchiveError(Exception):
    """The build context cannot be packed as it is."""


class BuildWaitTimeout(Exception):
    """The Build did not finish in time."""

    def __init__(self, name: str, phase: str | None, timeout: int) -> None:
        super().__init__(f"Build {name} did not finish within {timeout} s; its last phase was {phase}.")
        self.phase = phase


def _context_paths(root: str, relative: str = "") -> Iterator[str]:
    """Yield every path under root relative to it, depth first, sorted, without following links."""
    directory = os.path.join(root, relative) if relative else root
    for name in sorted(os.listdir(directory)):
        path = f"{relative}/{name}" if relative else name
        yield path
        if stat.S_ISDIR(os.lstat(os.path.join(root, path)).st_mode):
            yield from _context_paths(root, path)


def _member(root: str, path: str) -> tarfile.TarInfo:
    """Describe one path as a tar member with normalised owner, time and mode."""
    full = os.path.join(root, path)
    status = os.lstat(full)
    info = tarfile.TarInfo(path)
    info.mtime = 0
    info.uid = info.gid = 0
    info.uname = info.gname = ""
    if stat.S_ISDIR(status.st_mode):
        info.type = tarfile.DIRTYPE
        info.mode = EXECUTABLE_MODE
    elif stat.S_ISREG(status.st_mode):
        info.size = status.st_size
        info.mode = EXECUTABLE_MODE if status.st_mode & 0o111 else FILE_MODE
    elif stat.S_ISLNK(status.st_mode):
        target = os.readlink(full)
        resolved = os.path.realpath(full)
        if os.path.isabs(target) or os.path.commonpath([root, resolved]) != root:
            raise ArchiveError(
                f"{path} is a symbolic link to {target}, which is absolute or outside the build "
                f"context {root}; links are archived as links, so use a relative link inside it "
                "or copy the file in"
            )
        info.type = tarfile.SYMTYPE
        info.linkname = target
        info.mode = LINK_MODE
    else:
        raise ArchiveError(f"{path} in {root} is not a regular file, directory or symbolic link")
    return info


def build_context_archive(src: str) -> bytes:
    """Pack the directory src as a deterministic gzip-compressed tar archive with relative paths."""
    root = os.path.realpath(src)
    if not os.path.isdir(root):
        raise ArchiveError(f"src {src} is not a directory")
    buffer = io.BytesIO()
    # mtime=0 and no file name keep the gzip header, and so the archive, the same on every run.
    compressed = gzip.GzipFile(fileobj=buffer, mode="wb", mtime=0)
    with compressed, tarfile.open(fileobj=compressed, mode="w", format=tarfile.PAX_FORMAT) as archive:
        for path in _context_paths(root):
            info = _member(root, path)
            if info.isreg():
                with open(os.path.join(root, path), "rb") as content:
                    archive.addfile(info, content)
            else:
                archive.addfile(info)
    return buffer.getvalue()


def _json(response: RawResponse) -> dict[str, Any]:
    """Decode the JSON body of a raw (serialize=False) response."""
    decoded = json.loads(response.data.decode("utf-8"))
    if not isinstance(decoded, dict):
        raise ValueError(f"expected a JSON object from the API server, got {decoded!r}")
    return decoded


def start_binary_build(
    client: ApiRequester, namespace: str, build_config: str, archive: bytes
) -> dict[str, Any]:
    """POST the archive to the BuildConfig's instantiatebinary subresource; return the new Build."""
    path = f"{BUILD_API.format(namespace=namespace)}/buildconfigs/{build_config}/instantiatebinary"
    response = client.request(
        "POST",
        path,
        body=archive,
        content_type="application/octet-stream",
        header_params={"Accept": "application/json"},
        serialize=False,
        _request_timeout=UPLOAD_TIMEOUT,
    )
    return _json(response)


def get_build(client: ApiRequester, namespace: str, name: str) -> dict[str, Any]:
    """Read a Build."""
    path = f"{BUILD_API.format(namespace=namespace)}/builds/{name}"
    return _json(client.request("GET", path, serialize=False, _request_timeout=READ_TIMEOUT))


def build_log_tail(client: ApiRequester, namespace: str, name: str, lines: int) -> list[str]:
    """Return the last lines of a Build's log."""
    if lines <= 0:
        return []
    path = f"{BUILD_API.format(namespace=namespace)}/builds/{name}/log"
    response = client.request(
        "GET",
        path,
        query_params=[("tailLines", lines)],
        header_params={"Accept": "text/plain, */*"},
        serialize=False,
        _request_timeout=READ_TIMEOUT,
    )
    return response.data.decode("utf-8", errors="replace").splitlines()[-lines:]


def build_phase(build: dict[str, Any]) -> str | None:
    """The Build's status.phase, if it has one yet."""
    return (build.get("status") or {}).get("phase")


def wait_for_build(
    client: ApiRequester,
    namespace: str,
    name: str,
    timeout: int,
    sleep: float,
    clock: Callable[[], float] = time.monotonic,
    pause: Callable[[float], None] = time.sleep,
) -> dict[str, Any]:
    """Read the Build until its phase is terminal; return it, or raise BuildWaitTimeout."""
    deadline = clock() + timeout
    while True:
        build = get_build(client, namespace, name)
        phase = build_phase(build)
        if phase == SUCCEEDED or phase in FAILED:
            return build
        if clock() >= deadline:
            raise BuildWaitTimeout(f"{namespace}/{name}", phase, timeout)
        pause(max(0.0, min(sleep, deadline - clock())))


def api_error_message(error: ApiException) -> str:
    """The API server's own message from an error response, else its status line."""
    body = getattr(error, "body", None)
    if body:
        try:
            message = json.loads(body).get("message")
        except (ValueError, AttributeError):
            message = None
        if message:
            return f"{error.status} {error.reason}: {message}"
    return f"{error.status} {error.reason}"


def safe_log_tail(client: ApiRequester, namespace: str, name: str, lines: int) -> list[str]:
    """The log tail, or one line saying why it could not be read (a failure must not hide)."""
    try:
        return build_log_tail(client, namespace, name, lines)
    except ApiException as error:
        return [f"(build log unavailable: {api_error_message(error)})"]
    except TransportError as error:
        return [f"(build log unavailable: {error})"]


def argument_spec() -> dict[str, Any]:
    spec = copy.deepcopy(AUTH_ARG_SPEC)
    spec.update(
        namespace={"type": "str", "required": True},
        build_config={"type": "str", "required": True},
        src={"type": "path", "required": True},
        wait={"type": "bool", "default": True},
        wait_timeout={"type": "int", "default": 900},
        wait_sleep={"type": "int", "default": 5},
        log_tail_lines={"type": "int", "default": 50},
    )
    return spec


def run(module: AnsibleK8SModule) -> None:
    params = module.params
    namespace: str = params["namespace"]
    build_config: str = params["build_config"]
    # Nothing has changed until the API server has accepted the upload and made a Build.
    result: dict[str, Any] = {
        "changed": False,
        "build_config": build_config,
        "build": None,
        "phase": None,
        "duration": 0.0,
    }
    try:
        archive = build_context_archive(params["src"])
    except (ArchiveError, OSError) as error:
        module.fail_json(msg=f"Cannot pack the build context: {error}", **result)
    if module.check_mode:
        module.exit_json(
            **dict(result, changed=True),
            msg=f"Would upload {len(archive)} bytes from {params['src']} and start a build "
            f"of {namespace}/{build_config}",
        )

    started = time.monotonic()
    target = f"BuildConfig {namespace}/{build_config}"
    try:
        client = get_api_client(module=module).client
        build = start_binary_build(client, namespace, build_config, archive)
    except CoreException as error:
        module.fail_from_exception(error)
    except ApiException as error:
        module.fail_json(msg=f"Cannot start a binary build of {target}: {api_error_message(error)}", **result)
    except (TransportError, ValueError) as error:
        module.fail_json(msg=f"Cannot start a binary build of {target}: {error}", **result)

    name = (build.get("metadata") or {}).get("name")
    if not name:
        module.fail_json(msg=f"The API server started a build of {target} but named no Build", **result)
    result.update(changed=True, build=name, phase=build_phase(build))
    if not params["wait"]:
        module.exit_json(**dict(result, duration=round(time.monotonic() - started, 1)))

    try:
        build = wait_for_build(client, namespace, name, params["wait_timeout"], params["wait_sleep"])
    except BuildWaitTimeout as error:
        log_tail = safe_log_tail(client, namespace, name, params["log_tail_lines"])
        result.update(phase=error.phase, duration=round(time.monotonic() - started, 1), log_tail=log_tail)
        module.fail_json(msg="\n".join([str(error), *log_tail]), **result)
    except ApiException as error:
        module.fail_json(msg=f"Cannot read Build {namespace}/{name}: {api_error_message(error)}", **result)
    except (TransportError, ValueError) as error:
        module.fail_json(msg=f"Cannot read Build {namespace}/{name}: {error}", **result)

    phase = build_phase(build)
    result.update(phase=phase, duration=round(time.monotonic() - started, 1))
    if phase != SUCCEEDED:
        status = build.get("status") or {}
        log_tail = safe_log_tail(client, namespace, name, params["log_tail_lines"])
        reason = ": ".join(part for part in (status.get("reason"), status.get("message")) if part)
        headline = f"Build {namespace}/{name} ended {phase}" + (f" ({reason})" if reason else "")
        module.fail_json(msg="\n".join([headline, *log_tail]), log_tail=log_tail, **result)
    module.exit_json(**result)


def main() -> None:
    module = AnsibleK8SModule(argument_spec=argument_spec(), supports_check_mode=True)
    run(module)


if __name__ == "__main__":
    main()
