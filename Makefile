# make deploy: install what is missing, then deploy locally with podman and verify.
# make test:   install what is missing, then lint and run the whole test suite.
SHELL := /bin/bash
.DEFAULT_GOAL := help

VENV := .venv
STAMPS := .make
BASE_IMAGE ?= docker.io/library/debian:bookworm-slim
PYTHON ?= python3

export PATH := $(CURDIR)/$(VENV)/bin:$(PATH)
export ANSIBLE_CONFIG := $(CURDIR)/ansible.cfg
export ANSIBLE_COLLECTIONS_PATH := $(CURDIR)/collections
export ANSIBLE_FORCE_COLOR ?= false

# Written by the podman-config step: where podman's defaults fail, the settings that work.
-include $(STAMPS)/podman.mk

# The local cluster (make cluster): where its kubeconfig and registry are.
LOCAL_CLUSTER := scripts/local-cluster/cluster.sh
export LOCAL_CLUSTER_DIR ?= $(HOME)/.local/state/authproxy-sidecar/local-cluster
LOCAL_KUBECONFIG := $(LOCAL_CLUSTER_DIR)/kubeconfig
LOCAL_REGISTRY := 127.0.0.1:5000

.PHONY: help setup setup-deploy deploy verify teardown test test-on-cluster test-modes test-beside-cluster lint compat collection unit \
	molecule molecule-default molecule-modes molecule-clusters \
	molecule-local-cluster molecule-local-cluster-core molecule-local-cluster-modes cluster cluster-build-background rclone-build-background cluster-down render bench bench-deploy bench-cluster clean oidc-demo oidc-demo-down

help:
	@echo "make deploy    install what is missing, deploy locally with podman, verify, print the URL"
	@echo "make test      install what is missing, run linters, the molecule scenarios and pytest"
	@echo "make cluster   start a single-node Kubernetes on this machine (built from source once, ~15 min)"
	@echo "make cluster-down  stop it and leave the machine as it was"
	@echo "make molecule-clusters  the OpenShift and Kubernetes scenarios on the current kubeconfig context, or why not"
	@echo "make compat    render and validate on the lowest and highest ansible-core claimed"
	@echo "make collection  sanity, units, galaxy-importer and the installed tarball used from another playbook"
	@echo "make verify    check the running deployment (401 / 401 / 200 Hello World)"
	@echo "make teardown  remove the deployment, its images and its credentials"
	@echo "make setup     install everything, the test tools too, deploy nothing"
	@echo "make setup-deploy  install only what deploying needs"
	@echo "make oidc-demo start a test Keycloak and deploy the oidc mode on podman, to sign in with a browser"
	@echo "make oidc-demo-down  remove both"
	@echo "make bench     redeploy locally and measure the auth cache against the alternatives (~12 min; ~3 more the first time)"
	@echo "make bench-deploy   time make deploy cold and warm, three times each (~5 min)"
	@echo "make bench-cluster  time deploys and a password change on the local cluster (make cluster first)"

# What deploying needs (make deploy, verify, teardown, render); setup adds what the tests need.
setup-deploy: $(STAMPS)/packages-deploy $(STAMPS)/venv-deploy collections/ansible_collections/authproxy/sidecar \
	$(STAMPS)/base-image $(STAMPS)/podman.mk

setup: setup-deploy $(STAMPS)/packages $(STAMPS)/venv $(STAMPS)/browser

$(STAMPS)/packages-deploy: scripts/install-packages.sh
	@mkdir -p $(STAMPS)
	scripts/install-packages.sh deploy
	@touch $@

$(STAMPS)/packages: scripts/install-packages.sh $(STAMPS)/packages-deploy
	scripts/install-packages.sh
	@touch $@

$(STAMPS)/venv-deploy: requirements.txt $(STAMPS)/packages-deploy
	test -x $(VENV)/bin/python || $(PYTHON) -m venv $(VENV)
	$(VENV)/bin/pip install --quiet --upgrade pip
	$(VENV)/bin/pip install --quiet -r requirements.txt
	@touch $@

$(STAMPS)/venv: requirements.txt requirements-dev.txt $(STAMPS)/venv-deploy $(STAMPS)/packages
	$(VENV)/bin/pip install --quiet -r requirements.txt -r requirements-dev.txt
	@touch $@

# The collection finds itself through this link (gitignored), as if installed.
collections/ansible_collections/authproxy/sidecar:
	@mkdir -p collections/ansible_collections/authproxy
	ln -sfn ../../.. $@

# playwright-core for the oidc tests' browser, exactly as locked; it drives Debian's chromium and
# downloads no browser.
$(STAMPS)/browser: tests/browser/package-lock.json $(STAMPS)/packages
	@mkdir -p $(STAMPS)
	PLAYWRIGHT_SKIP_BROWSER_DOWNLOAD=1 npm ci --prefix tests/browser --no-audit --no-fund
	@touch $@

$(STAMPS)/base-image: scripts/ensure-base-image.sh $(STAMPS)/packages-deploy
	scripts/ensure-base-image.sh $(BASE_IMAGE)
	@touch $@

$(STAMPS)/podman.mk: scripts/podman-config.sh files/podman/containers.conf $(STAMPS)/base-image
	scripts/podman-config.sh $(BASE_IMAGE) > $@.tmp
	mv $@.tmp $@

deploy: setup-deploy
	ansible-playbook playbooks/deploy.yml -e sidecar_app_base_image=$(BASE_IMAGE) $(DEPLOY_ARGS)

# A test OpenID Provider and the oidc mode beside it; oidc-demo-down removes both.
oidc-demo: setup
	scripts/oidc-demo.sh

oidc-demo-down: setup
	scripts/oidc-demo.sh down

verify: setup-deploy
	ansible-playbook playbooks/verify.yml

teardown: setup-deploy
	ansible-playbook playbooks/teardown.yml

render: $(STAMPS)/venv-deploy collections/ansible_collections/authproxy/sidecar
	ansible-playbook playbooks/render.yml -e sidecar_app_platform=$(or $(PLATFORM),openshift) -e sidecar_app_render_dir=$(or $(DIR),render) $(RENDER_ARGS)

lint: setup
	yamllint --strict .
	ansible-lint
	ruff check .
	ruff format --check .

# The podman scenarios: the default one, then the auth and files modes against their real
# servers (slapd, an S3 server, Keycloak and chromium) on this machine.
molecule: molecule-default molecule-modes

molecule-default: setup
	molecule test

molecule-modes: setup
	molecule test -s ldap
	molecule test -s files
	molecule test -s oidc

# The cluster scenarios, against the current kubeconfig context. scripts/cluster-reachable.py
# exits 0 when the scenario can run, 77 (skip) after printing one line that says why not; any
# other status is a failure of the check itself and fails the target.
CLUSTER_SCENARIOS := openshift kubernetes
molecule-clusters: setup
	@for scenario in $(CLUSTER_SCENARIOS); do \
	  status=0; $(VENV)/bin/python scripts/cluster-reachable.py $$scenario || status=$$?; \
	  case $$status in \
	    0) molecule test -s $$scenario || exit 1 ;; \
	    77) ;; \
	    *) echo "scripts/cluster-reachable.py $$scenario failed with status $$status" >&2; exit 1 ;; \
	  esac; \
	done

# A real Kubernetes here: etcd, kube-apiserver, controller-manager, scheduler, kubelet on
# containerd, kube-proxy, a CNI bridge and a registry on $(LOCAL_REGISTRY), with OpenShift's Route CRD.
# Under a lock: make test's parts may ask for it at the same time; the second one waits, then
# finds it running. -o: the cluster's daemons, started by `up`, must not inherit and hold it.
# The background build's log is shown once, by the first that finds it.
cluster: setup
	flock -o $(STAMPS)/cluster.lock $(LOCAL_CLUSTER) up
	@flock -o $(STAMPS)/cluster.lock sh -c 'test ! -f $(STAMPS)/cluster-build.log \
	  || { echo "--- the background build:"; cat $(STAMPS)/cluster-build.log; \
	       mv $(STAMPS)/cluster-build.log $(STAMPS)/cluster-build.log.shown; }'

# make test starts the build while lint and the podman scenarios run; `make cluster` then waits
# for it to finish.
cluster-build-background: setup
	@echo "building the local cluster in the background, log in $(STAMPS)/cluster-build.log"
	@$(LOCAL_CLUSTER) build > $(STAMPS)/cluster-build.log 2>&1 &

# molecule/files's S3 server is rclone's `serve s3`, built from its Go module once and cached
# (scripts/build-rclone.sh): make test starts that build too, and the scenario waits for it.
rclone-build-background: setup
	@echo "building rclone for the tests' S3 server in the background, log in $(STAMPS)/rclone-build.log"
	@scripts/build-rclone.sh > $(STAMPS)/rclone-build.log 2>&1 &

cluster-down:
	$(LOCAL_CLUSTER) down

# The cluster scenarios on the local cluster, never skipped: molecule/kubernetes as a cluster
# admin, then as a user who is only admin of one existing namespace, molecule/openshift for what
# a Kubernetes API server with the Route CRD serves, and the modes' scenarios: molecule/ldap-kubernetes
# (slapd on the pods' bridge), molecule/files-kubernetes (the S3 store on that bridge) and
# molecule/oidc-kubernetes (Keycloak on that bridge). Images
# are built by podman and pushed to the local registry; the Service is a NodePort on 127.0.0.1
# (no ingress controller here).
LOCAL_CLUSTER_ENV := K8S_AUTH_KUBECONFIG=$(LOCAL_KUBECONFIG) SIDECAR_APP_REGISTRY=$(LOCAL_REGISTRY)/authproxy \
	SIDECAR_APP_REGISTRY_TLS_VERIFY=false SIDECAR_APP_SERVICE_TYPE=NodePort
molecule-local-cluster: molecule-local-cluster-core molecule-local-cluster-modes

molecule-local-cluster-core: cluster
	$(LOCAL_CLUSTER_ENV) SIDECAR_APP_NODE_PORT=30081 SIDECAR_APP_PUBLIC_URL=http://127.0.0.1:30081/ \
	  molecule test -s kubernetes
	@# tests/cluster reads this user's requests from the audit log: only this run's.
	: > $(LOCAL_CLUSTER_DIR)/logs/audit.log
	tenant=$$($(LOCAL_CLUSTER) user authproxy-tenant authproxy-tenant) && \
	  $(LOCAL_CLUSTER_ENV) K8S_AUTH_KUBECONFIG=$$tenant MOLECULE_NAMESPACE=authproxy-tenant \
	  SIDECAR_APP_NODE_PORT=30082 SIDECAR_APP_PUBLIC_URL=http://127.0.0.1:30082/ molecule test -s kubernetes
	@echo "molecule/openshift on the local cluster: the Route is applied and validated by the API server; router" \
	  "admission, ProjectRequest, BuildConfig builds and DeploymentConfig rollouts need OpenShift's own" \
	  "controllers and stay proven by tests/fake_cluster"
	$(LOCAL_CLUSTER) namespace authproxy-openshift >/dev/null && \
	  $(LOCAL_CLUSTER_ENV) MOLECULE_NAMESPACE=authproxy-openshift SIDECAR_APP_NAMESPACE_CREATE=false \
	  SIDECAR_APP_ROUTE_WAIT_ADMITTED=false SIDECAR_APP_NODE_PORT=30083 SIDECAR_APP_PUBLIC_URL=http://127.0.0.1:30083/ \
	  molecule test -s openshift

molecule-local-cluster-modes: cluster
	$(MOLECULE_LDAP_KUBERNETES)
	$(MOLECULE_FILES_KUBERNETES)
	$(MOLECULE_OIDC_KUBERNETES)

MOLECULE_LDAP_KUBERNETES := $(LOCAL_CLUSTER_ENV) SIDECAR_APP_NODE_PORT=30084 \
	SIDECAR_APP_PUBLIC_URL=http://127.0.0.1:30084/ molecule test -s ldap-kubernetes
MOLECULE_FILES_KUBERNETES := $(LOCAL_CLUSTER_ENV) SIDECAR_APP_NODE_PORT=30085 \
	SIDECAR_APP_PUBLIC_URL=http://127.0.0.1:30085/ molecule test -s files-kubernetes
MOLECULE_OIDC_KUBERNETES := $(LOCAL_CLUSTER_ENV) SIDECAR_APP_NODE_PORT=30086 \
	SIDECAR_APP_PUBLIC_URL=http://127.0.0.1:30086/ molecule test -s oidc-kubernetes

# Render and validate strictly on the lowest and highest ansible-core meta/runtime.yml claims
# (noxfile.py); the venvs stay in .nox/ between runs.
compat: setup
	nox --sessions render

# The collection as its users get it: ansible-test sanity and units, galaxy-importer on the
# built tarball (noxfile.py); then the tarball installed into an empty path and used by another
# project's playbook (tests/consumer/): render and a podman deploy of its own (port 28081) on
# the lowest (compat's venv) and the highest ansible-core.
collection: setup compat
	nox --sessions sanity units importer
	pytest -m collection tests/consumer --durations=0

unit: setup
	pytest tests

# Measures, prints numbers, asserts nothing (see BENCHMARKS.md). Redeploys the local deployment.
bench: setup
	$(VENV)/bin/python bench/run.py

# make deploy cold and warm, alternating, timed (BENCHMARKS.md). Redeploys the local deployment.
bench-deploy: setup-deploy
	$(VENV)/bin/python bench/deploy.py

# The role on the local cluster, timed (make cluster first).
bench-cluster: setup
	$(VENV)/bin/python bench/cluster.py

# The suite ends with pytest, so its summary line closes the output.
# The tests of the local cluster fail, rather than skip, when it does not run.
# After lint, three parts side by side, each one's output shown whole when it ends (each mostly
# waits, on the cluster or on TTLs and refreshes, but the last):
# - the cluster's own scenarios, the oidc and files modes', then pytest's tests of the cluster;
# - the default scenario, then the ldap and files modes on podman against their real servers
#   here, then the ldap mode on the cluster (started by the first part that asks for it);
# - compat, collection, the oidc mode on podman and the rest of pytest.
# Last, alone, the tests that take the cluster down and up and compare the whole machine's
# links and rules with how they were.
# Each part prints the clock when it ends, to see which one the suite waits for.
test: export LOCAL_CLUSTER_REQUIRED := 1
test: lint cluster-build-background rclone-build-background
	@echo "--- the three parts start at $$(date +%T)"
	$(MAKE) --no-print-directory --jobs 3 --output-sync=target test-on-cluster test-modes test-beside-cluster
	@echo "--- the three parts ended at $$(date +%T)"
	pytest -m machine_state tests/cluster

test-on-cluster: molecule-local-cluster-core
	$(MOLECULE_OIDC_KUBERNETES)
	$(MOLECULE_FILES_KUBERNETES)
	pytest -m "not machine_state" tests/cluster
	@echo "--- $@ ended at $$(date +%T)"

# The recipe, not prerequisites: one after the other.
test-modes: setup
	molecule test
	molecule test -s ldap
	molecule test -s files
	$(MAKE) --no-print-directory cluster
	$(MOLECULE_LDAP_KUBERNETES)
	@echo "--- $@ ended at $$(date +%T)"

test-beside-cluster: collection
	molecule test -s oidc
	pytest --durations=15 tests --ignore=tests/cluster
	@echo "--- $@ ended at $$(date +%T)"

clean:
	rm -rf $(STAMPS) $(VENV) collections .nox
