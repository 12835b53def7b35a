"""The OpenShift and Kubernetes objects the role makes, for every combination of inputs.

Each set of objects is what the role rendered (playbooks/render.yml) or applied to the fake
cluster (playbooks/deploy.yml) for one combination (combinations.py; made by the object_sets
fixture, conftest.py). Every object is validated strictly (unknown fields rejected, as
`oc apply --validate=strict` does) against the JSON schema of its kind from a real OpenShift
4.17 cluster, then the objects are checked against each other and against the inputs.
"""

from __future__ import annotations

import base64
import json
import shutil
import stat
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import bcrypt
import jsonschema
import pytest
from combinations import APP_IMAGE, COMBINATIONS, CSC_PROJECT, OBJECT_SETS, PROXY_IMAGE, object_sets_with
from manifest_schemas import SCHEMAS, errors, schema_path, validator
from playbook_runs import PASSWORD, play
from role_objects import ObjectSet, load_objects

# What the generator (openapi2jsonschema) writes: the unversioned "latest draft" URI, which
# jsonschema maps to no draft of its own.
SCHEMA_URI = "http://json-schema.org/schema#"
# The keywords draft 4 defines; the schemas must use no others (x-kubernetes-* annotations and
# descriptions aside), so validating them as draft 4 means what their authors meant.
DRAFT4_KEYWORDS = set(jsonschema.Draft4Validator.VALIDATORS) | {"$schema", "id", "description", "default"}
INTERNAL_REGISTRY = "image-registry.openshift-image-registry.svc:5000"
PROXY_PORT = 8081
OPENSHIFT = object_sets_with(sidecar_app_platform="openshift")
KUBERNETES = object_sets_with(sidecar_app_platform="kubernetes")
APPLIED = [name for name in OBJECT_SETS if name.startswith("applied/")]
PUSHED = [name for name in object_sets_with(sidecar_app_image_build="podman") if name in APPLIED]
RAHTI2 = object_sets_with(sidecar_app_platform_preset="rahti2")


def schema_keywords(node: dict[str, Any]) -> Iterator[str]:
    """The keywords of a schema and of every schema nested in it (not property names, not values)."""
    yield from node
    for child in node.get("properties", {}).values():
        yield from schema_keywords(child)
    for key in ("items", "additionalProperties"):
        if isinstance(node.get(key), dict):
            yield from schema_keywords(node[key])
    for child in node.get("oneOf", []):
        yield from schema_keywords(child)


def pod_spec(object_set: ObjectSet) -> dict[str, Any]:
    spec: dict[str, Any] = object_set.pod_template["spec"]
    return spec


def containers(object_set: ObjectSet) -> dict[str, dict[str, Any]]:
    return {container["name"]: container for container in pod_spec(object_set)["containers"]}


def is_subset(selector: dict[str, str], labels: dict[str, str]) -> bool:
    return selector.items() <= labels.items()


def htpasswd(object_set: ObjectSet) -> str:
    data = object_set.one("Secret")["data"]["htpasswd"]
    return base64.b64decode(data).decode()


def test_schemas_are_self_contained_draft4_schemas() -> None:
    paths = sorted(SCHEMAS.glob("*.json"))
    assert paths, f"no schemas in {SCHEMAS} (set SIDECAR_APP_SCHEMAS)"
    for path in paths:
        text = path.read_text()
        schema = json.loads(text)
        assert schema["$schema"] == SCHEMA_URI, path.name
        assert '"$ref"' not in text, f"{path.name} refers outside itself"
        unknown = {
            keyword
            for keyword in schema_keywords(schema)
            if keyword not in DRAFT4_KEYWORDS and not keyword.startswith("x-kubernetes-")
        }
        assert not unknown, f"{path.name} uses keywords draft 4 does not know: {unknown}"
        jsonschema.Draft4Validator.check_schema(schema)
        assert schema["additionalProperties"] is False, f"{path.name} is not strict"


def test_every_object_validates_strictly_against_its_openshift_schema(object_set: ObjectSet) -> None:
    for file_name, obj in object_set.objects.items():
        problems = errors(obj)
        assert not problems, f"{file_name}: " + "; ".join(problems)


def test_the_schema_check_rejects_unknown_fields(object_sets: dict[str, ObjectSet]) -> None:
    deployment = object_sets["rendered/openshift-deployment-pushed-image-1-replica-no-host"].one("Deployment")
    typo = deployment | {"spec": deployment["spec"] | {"replica": 2}}
    assert not validator(schema_path(deployment)).is_valid(typo)


def test_objects_are_the_expected_ones_numbered_in_apply_order(object_set: ObjectSet) -> None:
    name, build = object_set.name, object_set.get("sidecar_app_image_build", "cluster")
    expected = [f"00-secret-{name}-htpasswd.yml"]
    if build == "cluster":
        expected += [f"imagestream-{name}-app", f"imagestream-{name}-proxy"]
        expected += [f"buildconfig-{name}-app", f"buildconfig-{name}-proxy"]
    expected += [
        f"{object_set.get('sidecar_app_workload_kind', 'Deployment').lower()}-{name}",
        f"service-{name}",
        f"{'route' if object_set.platform == 'openshift' else 'ingress'}-{name}",
        f"networkpolicy-{name}",
    ]
    numbered = expected[:1] + [f"{n:02d}-{base}.yml" for n, base in enumerate(expected[1:], start=1)]
    assert sorted(object_set.objects) == numbered


def test_every_object_is_named_namespaced_and_labelled(object_set: ObjectSet) -> None:
    for file_name, obj in object_set.objects.items():
        metadata = obj["metadata"]
        assert metadata["namespace"] == object_set.namespace, file_name
        assert metadata["name"].startswith(object_set.name), file_name
        assert is_subset(
            {
                "app.kubernetes.io/name": object_set.name,
                "app.kubernetes.io/instance": object_set.name,
                "app.kubernetes.io/managed-by": "authproxy.sidecar",
            },
            metadata["labels"],
        ), file_name


def test_files_are_readable_by_all_but_the_secret_only_by_its_owner(render: ObjectSet) -> None:
    assert render.directory
    for path in render.directory.iterdir():
        mode = stat.S_IMODE(path.stat().st_mode)
        assert mode == (0o600 if path.name.startswith("00-secret-") else 0o644), path.name


def test_workload_and_service_select_the_pods_and_reach_nginx(object_set: ObjectSet) -> None:
    labels = object_set.pod_template["metadata"]["labels"]
    workload_selector = object_set.workload["spec"]["selector"]
    if object_set.workload["kind"] == "Deployment":
        workload_selector = workload_selector["matchLabels"]
    assert is_subset(workload_selector, labels)
    service = object_set.one("Service")
    assert is_subset(service["spec"]["selector"], labels)
    assert service["spec"]["selector"] == workload_selector
    named_ports = {
        port["name"]: port["containerPort"]
        for container in containers(object_set).values()
        for port in container.get("ports", [])
    }
    http = {"name": "http", "protocol": "TCP", "port": PROXY_PORT, "targetPort": "http"}
    assert service["spec"]["ports"] == [http]
    assert named_ports == {"http": PROXY_PORT}


@pytest.mark.parametrize("name", OPENSHIFT)
def test_route_is_an_edge_route_to_a_service_port(object_sets: dict[str, ObjectSet], name: str) -> None:
    object_set = object_sets[name]
    route, service = object_set.one("Route"), object_set.one("Service")
    assert route["spec"]["to"] == {"kind": "Service", "name": service["metadata"]["name"], "weight": 100}
    assert route["spec"]["port"]["targetPort"] in {port["name"] for port in service["spec"]["ports"]}
    assert route["spec"]["tls"] == {"termination": "edge", "insecureEdgeTerminationPolicy": "Redirect"}
    assert not object_set.of_kind("Ingress")


@pytest.mark.parametrize("name", OPENSHIFT)
def test_route_has_the_host_given_or_the_presets_or_none(
    object_sets: dict[str, ObjectSet], name: str
) -> None:
    object_set = object_sets[name]
    spec = object_set.one("Route")["spec"]
    if object_set.route_host:
        assert spec["host"] == object_set.route_host
    else:
        assert "host" not in spec


@pytest.mark.parametrize("name", KUBERNETES)
def test_ingress_leads_to_a_service_port_with_the_host_class_and_tls_given(
    object_sets: dict[str, ObjectSet], name: str
) -> None:
    object_set = object_sets[name]
    ingress, service = object_set.one("Ingress"), object_set.one("Service")
    (rule,) = ingress["spec"]["rules"]
    (path,) = rule["http"]["paths"]
    backend = path["backend"]["service"]
    assert backend["name"] == service["metadata"]["name"]
    assert backend["port"]["name"] in {port["name"] for port in service["spec"]["ports"]}
    assert (path["path"], path["pathType"]) == ("/", "Prefix")
    host = object_set.get("sidecar_app_route_host", "")
    assert rule.get("host", "") == host
    assert ingress["spec"].get("ingressClassName", "") == object_set.get("sidecar_app_ingress_class_name", "")
    tls_secret = object_set.get("sidecar_app_ingress_tls_secret", "")
    if tls_secret:
        assert ingress["spec"]["tls"] == [{"secretName": tls_secret} | ({"hosts": [host]} if host else {})]
    else:
        assert "tls" not in ingress["spec"]
    assert not object_set.of_kind("Route")


def test_network_policy_admits_only_nginx_port_of_the_pods(object_set: ObjectSet) -> None:
    policy = object_set.one("NetworkPolicy")["spec"]
    assert is_subset(policy["podSelector"]["matchLabels"], object_set.pod_template["metadata"]["labels"])
    assert policy["policyTypes"] == ["Ingress"]
    assert policy["ingress"] == [{"ports": [{"protocol": "TCP", "port": PROXY_PORT}]}]


def test_every_secret_a_pod_mounts_is_rendered_and_none_uses_string_data(object_set: ObjectSet) -> None:
    mounted = {
        volume["secret"]["secretName"] for volume in pod_spec(object_set)["volumes"] if "secret" in volume
    }
    rendered = {secret["metadata"]["name"] for secret in object_set.of_kind("Secret")}
    assert mounted == {f"{object_set.name}-htpasswd"}
    assert mounted <= rendered
    assert all("stringData" not in obj for obj in object_set.objects.values())


def test_secret_holds_a_2y_bcrypt_hash_of_the_given_password(object_set: ObjectSet) -> None:
    secret = object_set.one("Secret")
    assert secret["type"] == "Opaque"
    assert set(secret["data"]) == {"htpasswd"}
    user, hashed = htpasswd(object_set).rstrip("\n").split(":", 1)
    assert user == "admin"
    assert hashed.startswith("$2y$")
    assert bcrypt.checkpw(PASSWORD.encode(), hashed.encode())
    assert PASSWORD not in json.dumps(object_set.objects)


def test_pods_run_unprivileged(object_set: ObjectSet) -> None:
    spec = pod_spec(object_set)
    assert spec["securityContext"] == {"runAsNonRoot": True, "seccompProfile": {"type": "RuntimeDefault"}}
    assert spec["automountServiceAccountToken"] is False
    assert not {"hostNetwork", "hostPID", "hostIPC"} & set(spec)
    assert not [volume for volume in spec["volumes"] if "hostPath" in volume]
    # The verifier runs from the proxy image (sidecar_app_auth_cache, on by default).
    assert set(containers(object_set)) == {"app", "proxy", "verifier"}
    for name, container in containers(object_set).items():
        context = container["securityContext"]
        assert context["allowPrivilegeEscalation"] is False, name
        assert context["runAsNonRoot"] is True, name
        assert context["readOnlyRootFilesystem"] is True, name
        assert context["capabilities"] == {"drop": ["ALL"]}, name
        assert context["seccompProfile"] == {"type": "RuntimeDefault"}, name
        assert "privileged" not in context, name
        assert all("hostPort" not in port for port in container.get("ports", [])), name
    # OpenShift picks the UID from the project's range; a fixed one would fail its restricted SCC.
    assert "runAsUser" not in json.dumps(object_set.objects)


def test_images_are_named_as_the_image_build_makes_them(object_set: ObjectSet) -> None:
    images = {name: container["image"] for name, container in containers(object_set).items()}
    build, name = object_set.get("sidecar_app_image_build", "cluster"), object_set.name
    if build == "none":
        assert images == {"app": APP_IMAGE, "proxy": PROXY_IMAGE, "verifier": PROXY_IMAGE}
        return
    prefix = f"{INTERNAL_REGISTRY}/{object_set.namespace}" if build == "cluster" else object_set.registry
    assert images["verifier"] == images["proxy"]
    for component, image in images.items():
        if component == "verifier":
            continue
        repository, _colon, tag = image.rpartition(":")
        assert repository == f"{prefix}/{name}-{component}"
        assert len(tag) == 12
        assert all(c in "0123456789abcdef" for c in tag)
    if build == "cluster":
        outputs = {
            bc["metadata"]["name"]: bc["spec"]["output"]["to"] for bc in object_set.of_kind("BuildConfig")
        }
        assert outputs == {
            f"{name}-{component}": {"kind": "ImageStreamTag", "name": image.rpartition("/")[2]}
            for component, image in images.items()
            if component != "verifier"
        }
        assert {stream["metadata"]["name"] for stream in object_set.of_kind("ImageStream")} == set(outputs)
    else:
        assert not object_set.of_kind("BuildConfig")
        assert not object_set.of_kind("ImageStream")


def test_build_configs_build_the_containerfile_from_an_uploaded_context(object_set: ObjectSet) -> None:
    for build_config in object_set.of_kind("BuildConfig"):
        spec = build_config["spec"]
        assert spec["source"] == {"type": "Binary", "binary": {}}
        assert spec["strategy"]["type"] == "Docker"
        assert spec["strategy"]["dockerStrategy"]["dockerfilePath"] == "Containerfile"
        assert spec["strategy"]["dockerStrategy"]["buildArgs"] == [
            {"name": "BASE_IMAGE", "value": "docker.io/library/debian:bookworm-slim"}
        ]
        assert spec["triggers"] == []


def test_rollouts_keep_pods_up_and_have_no_image_change_triggers(object_set: ObjectSet) -> None:
    workload = object_set.workload
    spec = workload["spec"]
    assert spec["replicas"] == object_set.get("sidecar_app_replicas", 1)
    assert "image.openshift.io/triggers" not in workload["metadata"].get("annotations", {})
    if workload["kind"] == "Deployment":
        assert spec["strategy"]["type"] == "RollingUpdate"
        assert spec["strategy"]["rollingUpdate"] == {"maxSurge": 1, "maxUnavailable": 0}
        assert spec["progressDeadlineSeconds"] == 300
    else:
        assert spec["triggers"] == [{"type": "ConfigChange"}]
        assert spec["strategy"]["type"] == "Rolling"
        assert spec["strategy"]["rollingParams"]["maxUnavailable"] == 0
        assert spec["strategy"]["rollingParams"]["timeoutSeconds"] == 300


def test_render_into_a_used_directory_removes_the_files_of_objects_gone(
    object_sets: dict[str, ObjectSet], tmp_path: Path
) -> None:
    # A relative directory is taken from where ansible-playbook runs.
    first = object_sets["rendered/rahti2-deployment-cluster-build-3-replicas-no-host"]
    assert first.directory
    shutil.copytree(first.directory, tmp_path / "out")
    (tmp_path / "out/notes.txt").write_text("not ours\n")
    inputs = COMBINATIONS["kubernetes-deployment-pushed-image-1-replica-no-host"]
    inputs = inputs | {"sidecar_app_render_dir": "out"}
    play("playbooks/render.yml", extra_vars=inputs, home=tmp_path / "home", cwd=tmp_path).must_succeed()
    assert sorted(path.name for path in (tmp_path / "out").iterdir()) == [
        "00-secret-hello-sidecar-htpasswd.yml",
        "01-deployment-hello-sidecar.yml",
        "02-service-hello-sidecar.yml",
        "03-ingress-hello-sidecar.yml",
        "04-networkpolicy-hello-sidecar.yml",
        "notes.txt",
    ]
    objects = load_objects(tmp_path / "out")
    assert objects["03-ingress-hello-sidecar.yml"]["kind"] == "Ingress"
    assert objects["01-deployment-hello-sidecar.yml"] != first.objects["05-deployment-hello-sidecar.yml"]


def test_render_needs_a_directory_and_a_cluster_platform(tmp_path: Path) -> None:
    inputs = {"sidecar_app_platform": "podman"}
    output = play("playbooks/render.yml", extra_vars=inputs, home=tmp_path / "home", cwd=tmp_path).must_fail()
    assert "Give the directory to write to and the platform to render for" in output
    # Nothing was staged or written before the check refused.
    assert not (tmp_path / "home/.local/state").exists()


def test_render_refuses_a_deploymentconfig_on_kubernetes(tmp_path: Path) -> None:
    inputs = COMBINATIONS["kubernetes-deployment-pushed-image-1-replica-no-host"] | {
        "sidecar_app_workload_kind": "DeploymentConfig",
        "sidecar_app_render_dir": str(tmp_path / "render"),
    }
    output = play("playbooks/render.yml", extra_vars=inputs, home=tmp_path / "home").must_fail()
    assert "sidecar_app_workload_kind" in output
    assert not (tmp_path / "render").exists()


@pytest.mark.parametrize("name", APPLIED)
def test_the_project_is_requested_as_oc_new_project_does_and_the_namespace_created(
    object_sets: dict[str, ObjectSet], name: str
) -> None:
    object_set = object_sets[name]
    k8s = object_set.applied("kubernetes.core.k8s")
    # kubernetes.core.k8s reads an object before it writes; a non-admin may not read a project.
    assert not [args for args in k8s if args.get("kind") in ("Project", "ProjectRequest")]
    assert not [
        args for args in k8s if args.get("definition", {}).get("kind") in ("Project", "ProjectRequest")
    ]
    if object_set.platform == "kubernetes":
        assert not object_set.applied("community.okd.k8s")
        (namespace,) = [args for args in k8s if args.get("kind") == "Namespace"]
        assert (namespace["api_version"], namespace["name"]) == ("v1", object_set.namespace)
        created = {"apiVersion": "v1", "kind": "Namespace", "metadata": {"name": object_set.namespace}}
        assert not list(validator(schema_path(created)).iter_errors(created))
        return
    # community.okd.k8s POSTs a ProjectRequest made from the definition when the Project is missing.
    (requested,) = object_set.applied("community.okd.k8s")
    request = requested["definition"] | {"kind": "ProjectRequest"}
    assert not list(validator(schema_path(request)).iter_errors(request))
    description = [object_set.get("sidecar_app_project_description", "")]
    if object_set.preset == "rahti2":
        description.append(f"csc_project: {CSC_PROJECT}")
    assert request == {
        "apiVersion": "project.openshift.io/v1",
        "kind": "ProjectRequest",
        "metadata": {"name": object_set.namespace},
        "displayName": object_set.get("sidecar_app_project_display_name", object_set.name),
        "description": "\n".join(filter(None, description)),
    }


@pytest.mark.parametrize("name", PUSHED)
def test_pushed_images_are_built_here_and_pushed_where_the_pods_pull_them(
    object_sets: dict[str, ObjectSet], name: str
) -> None:
    object_set = object_sets[name]
    images = {container["image"] for container in containers(object_set).values()}
    calls = object_set.applied("containers.podman.podman_image")
    built = [args for args in calls if "path" in args]
    pushed = [args for args in calls if args.get("push")]
    # Each image built once.
    assert sorted(args["name"] for args in built) == sorted(images)
    assert all(not args.get("push") for args in built)
    # The registry has neither (the fake cluster's runs cannot reach one): both are pushed.
    assert {args["name"] for args in pushed} == images
    for args in pushed:
        assert args["push_args"] == {"dest": args["name"]}
        assert args["name"].startswith(object_set.registry + "/")


def quantity(text: str) -> float:
    """The quantities the role's resources use: 500m, 1, 64Mi, 1Gi."""
    units = {"m": 1e-3, "Ki": 2**10, "Mi": 2**20, "Gi": 2**30}
    for suffix, factor in units.items():
        if text.endswith(suffix):
            return float(text.removesuffix(suffix)) * factor
    return float(text)


@pytest.mark.parametrize("name", RAHTI2)
def test_rahti2_limits_are_at_most_five_times_the_requests(
    object_sets: dict[str, ObjectSet], name: str
) -> None:
    for container_name, container in containers(object_sets[name]).items():
        resources = container["resources"]
        for resource in ("cpu", "memory"):
            limit, request = resources["limits"][resource], resources["requests"][resource]
            assert quantity(limit) <= 5 * quantity(request), (
                f"{container_name} {resource}: {limit} / {request}"
            )


@pytest.mark.parametrize("name", RAHTI2)
def test_rahti2_replicas_and_a_rolling_update_pod_fit_the_default_quota(
    object_sets: dict[str, ObjectSet], name: str
) -> None:
    object_set = object_sets[name]
    pods = object_set.get("sidecar_app_replicas", 1) + 1
    limits = [container["resources"]["limits"] for container in containers(object_set).values()]
    assert pods * sum(quantity(limit["cpu"]) for limit in limits) <= 4
    assert pods * sum(quantity(limit["memory"]) for limit in limits) <= 16 * 2**30


def test_app_workers_follow_the_cpu_limit(object_set: ObjectSet) -> None:
    app = containers(object_set)["app"]
    environment = {variable["name"]: variable.get("value") for variable in app["env"]}
    cores = {"500m": 0.5, "1500m": 1.5}[app["resources"]["limits"]["cpu"]]
    assert environment["WEB_CONCURRENCY"] == str(int(2 * cores + 1))
