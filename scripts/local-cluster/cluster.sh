#!/usr/bin/env bash
# A real single-node Kubernetes on this machine, for trying the role and for `make test`:
# etcd, kube-apiserver (RBAC), kube-controller-manager, kube-scheduler, kubelet on containerd
# with runc, a CNI bridge, kube-proxy (iptables) and an image registry on 127.0.0.1, plus
# OpenShift's Route CRD. Nothing is downloaded but Go modules and Debian packages.
#
#   cluster.sh build      build the binaries (cached by the pinned versions; seconds when cached)
#   cluster.sh up         build, start everything, write the kubeconfig, wait until the node is Ready
#   cluster.sh down       stop everything and leave the machine as it was found
#   cluster.sh status     say whether it runs
#   cluster.sh user NAME NAMESPACE
#                         a kubeconfig for user NAME whose only rights are `admin` in NAMESPACE
#                         (created if missing), printed as a path
#   cluster.sh namespace NAME
#                         create namespace NAME if missing
#   cluster.sh snapshot   what the cluster may change on this machine, to compare before and after
#
# Where things live (each overridable through the environment):
#   LOCAL_CLUSTER_DIR     config, certificates, logs, etcd and registry data, kubeconfigs
#                         (default ~/.local/state/authproxy-sidecar/local-cluster)
#   LOCAL_CLUSTER_CACHE   the built binaries, one folder per set of pinned versions
#                         (default ~/.cache/authproxy-sidecar/local-cluster)
#   /var/lib/authproxy-local-cluster, /run/authproxy-local-cluster
#                         kubelet and containerd data: kept apart from configuration and logs,
#                         because the kubelet turns its root directory into a shared mount
set -euo pipefail

here=$(cd "$(dirname "$0")" && pwd)
state=${LOCAL_CLUSTER_DIR:-${XDG_STATE_HOME:-$HOME/.local/state}/authproxy-sidecar/local-cluster}
cache=${LOCAL_CLUSTER_CACHE:-${XDG_CACHE_HOME:-$HOME/.cache}/authproxy-sidecar/local-cluster}
data=/var/lib/authproxy-local-cluster
run=/run/authproxy-local-cluster

kubernetes_version=v1.37.2
node_name=authproxy-local
# The node's address is the gateway of the pods' bridge: an interface of this machine that
# only the cluster uses (a kubelet refuses a loopback node IP).
bridge=authproxy0
pod_cidr=10.244.0.0/24
node_ip=10.244.0.1
service_cidr=10.96.0.0/24
network_name=authproxy-local-cluster
api_port=${LOCAL_CLUSTER_API_PORT:-6443}
etcd_port=${LOCAL_CLUSTER_ETCD_PORT:-2379}
registry=${LOCAL_CLUSTER_REGISTRY:-127.0.0.1:5000}
pause_image=$registry/authproxy-local-cluster/pause:3.10
# Every pull that is not from the registry above is sent to this address, where nothing
# listens: no image can come from outside this machine, whatever name a manifest gives.
pull_blackhole=http://127.0.0.1:9
context=authproxy-local

components=(etcd docker-registry containerd kubelet kube-apiserver kube-controller-manager kube-scheduler kube-proxy)
# Kernel settings the cluster changes (forwarding for the pods, NodePorts on 127.0.0.1, and those
# a kubelet sets at start); cluster.sh down puts back what they were.
sysctls=(net.ipv4.ip_forward net.ipv4.conf.all.route_localnet vm.overcommit_memory vm.panic_on_oom
  kernel.panic kernel.panic_on_oops kernel.keys.root_maxkeys kernel.keys.root_maxbytes)

log() { printf '%s cluster: %s\n' "$(date +%T)" "$*" >&2; }
die() {
  log "$*"
  exit 1
}

build_key() {
  cat "$here"/kubernetes/go.mod "$here"/kubernetes/go.sum "$here"/etcd/go.mod "$here"/etcd/go.sum \
    "$here"/pause.Containerfile | sha256sum | cut -c1-16
}
bin_dir() { echo "$cache/$(build_key)/bin"; }

cmd_build() {
  local bin started
  bin=$(bin_dir)
  # One build at a time (make test starts one in the background): a second waits for the first.
  mkdir -p "$cache"
  exec 9>"$cache/build.lock"
  flock 9
  if [ -x "$bin/kube-apiserver" ] && [ -x "$bin/etcd" ] && [ -x "$bin/pause" ]; then
    exec 9>&-
    return 0
  fi
  # Go's own installer puts it in /usr/local/go, which a non-login shell may not have on PATH.
  command -v go >/dev/null || PATH=$PATH:/usr/local/go/bin
  command -v go >/dev/null || die "Go is needed to build the cluster (go 1.26 or later on PATH)"
  mkdir -p "$bin.tmp"
  started=$(date +%s)
  log "building etcd (go.etcd.io/etcd/server/v3, pinned in $here/etcd/go.mod)"
  (cd "$here/etcd" && go build -trimpath -buildvcs=false -ldflags '-s -w' -o "$bin.tmp/etcd" .)
  log "building Kubernetes $kubernetes_version (k8s.io/kubernetes, pinned in $here/kubernetes/go.mod); ~15 min on 2 cores"
  local ldflags="-s -w"
  local version_package
  for version_package in k8s.io/component-base/version k8s.io/client-go/pkg/version; do
    ldflags+=" -X $version_package.gitVersion=$kubernetes_version -X $version_package.gitMajor=1"
    ldflags+=" -X $version_package.gitMinor=37 -X $version_package.gitTreeState=clean"
  done
  (cd "$here/kubernetes" && go build -trimpath -buildvcs=false -ldflags "$ldflags" -o "$bin.tmp/" \
    k8s.io/kubernetes/cmd/kube-apiserver k8s.io/kubernetes/cmd/kube-controller-manager \
    k8s.io/kubernetes/cmd/kube-scheduler k8s.io/kubernetes/cmd/kubelet \
    k8s.io/kubernetes/cmd/kube-proxy k8s.io/kubernetes/cmd/kubectl)
  # The pod sandbox ("pause") image's program ships in the Kubernetes module.
  local module_dir
  module_dir=$(cd "$here/kubernetes" && go list -m -f '{{.Dir}}' k8s.io/kubernetes)
  gcc -Os -static -DVERSION="$kubernetes_version" -o "$bin.tmp/pause" "$module_dir/build/pause/linux/pause.c"
  rm -rf "$bin"
  mv "$bin.tmp" "$bin"
  exec 9>&-
  log "built in $(($(date +%s) - started)) s into $bin"
}

# --- certificates and kubeconfigs -------------------------------------------------------------
pki=$state/pki

make_ca() {
  openssl req -x509 -newkey rsa:2048 -nodes -days 30 -subj "/CN=authproxy-local-cluster-ca" \
    -keyout "$pki/ca.key" -out "$pki/ca.crt" 2>/dev/null
}

# make_cert NAME SUBJECT EXTENSIONS: a key and a certificate signed by the cluster's CA.
make_cert() {
  local name=$1 subject=$2 extensions=$3
  openssl req -newkey rsa:2048 -nodes -subj "$subject" -keyout "$pki/$name.key" -out "$pki/$name.csr" 2>/dev/null
  printf '%s\n' "$extensions" >"$pki/$name.ext"
  openssl x509 -req -in "$pki/$name.csr" -CA "$pki/ca.crt" -CAkey "$pki/ca.key" -CAcreateserial \
    -days 30 -extfile "$pki/$name.ext" -out "$pki/$name.crt" 2>/dev/null
  rm -f "$pki/$name.csr" "$pki/$name.ext"
  chmod 0600 "$pki/$name.key"
}

client_ext='extendedKeyUsage=clientAuth
keyUsage=critical,digitalSignature,keyEncipherment'

# make_kubeconfig FILE CERT: a kubeconfig that authenticates with the certificate CERT.
make_kubeconfig() {
  local file=$1 cert=$2 user=${3:-$2}
  cat >"$file" <<EOF
apiVersion: v1
kind: Config
clusters:
  - name: $context
    cluster:
      server: https://127.0.0.1:$api_port
      certificate-authority-data: $(base64 -w0 "$pki/ca.crt")
users:
  - name: $user
    user:
      client-certificate-data: $(base64 -w0 "$pki/$cert.crt")
      client-key-data: $(base64 -w0 "$pki/$cert.key")
contexts:
  - name: $context
    context:
      cluster: $context
      user: $user
current-context: $context
EOF
  chmod 0600 "$file"
}

make_pki() {
  mkdir -p "$pki" && chmod 0700 "$pki"
  make_ca
  make_cert apiserver "/CN=kube-apiserver" "extendedKeyUsage=serverAuth
subjectAltName=IP:127.0.0.1,IP:${service_cidr%.*}.1,DNS:localhost,DNS:kubernetes,DNS:kubernetes.default,DNS:kubernetes.default.svc"
  make_cert kubelet-serving "/CN=system:node:$node_name/O=system:nodes" "extendedKeyUsage=serverAuth
subjectAltName=IP:$node_ip,DNS:$node_name"
  make_cert apiserver-kubelet-client "/CN=kube-apiserver-kubelet-client/O=system:masters" "$client_ext"
  make_cert admin "/CN=authproxy-local-admin/O=system:masters" "$client_ext"
  make_cert controller-manager "/CN=system:kube-controller-manager" "$client_ext"
  make_cert scheduler "/CN=system:kube-scheduler" "$client_ext"
  make_cert kubelet "/CN=system:node:$node_name/O=system:nodes" "$client_ext"
  make_cert kube-proxy "/CN=system:kube-proxy" "$client_ext"
  openssl genrsa -out "$pki/sa.key" 2048 2>/dev/null
  openssl rsa -in "$pki/sa.key" -pubout -out "$pki/sa.pub" 2>/dev/null
  local name
  for name in controller-manager scheduler kubelet kube-proxy; do
    make_kubeconfig "$state/config/$name.kubeconfig" "$name"
  done
  # A user name of its own: this kubeconfig is merged into the user's, where "admin" may exist.
  make_kubeconfig "$state/config/admin.kubeconfig" admin "$context-admin"
  cp "$state/config/admin.kubeconfig" "$state/kubeconfig"
}

# --- configuration files ----------------------------------------------------------------------
write_config() {
  local config=$state/config
  mkdir -p "$config/cni" "$config/containerd/certs.d/$registry"

  cat >"$config/registry.yml" <<EOF
version: 0.1
log:
  level: warn
storage:
  filesystem:
    rootdirectory: $state/registry
  delete:
    enabled: true
http:
  addr: $registry
EOF

  cat >"$config/containerd.toml" <<EOF
version = 2
root = "$data/containerd"
state = "$run/containerd"

[grpc]
  address = "$run/containerd.sock"

[plugins."io.containerd.internal.v1.opt"]
  path = "$data/containerd-opt"

[plugins."io.containerd.grpc.v1.cri"]
  sandbox_image = "$pause_image"
  # The kubelet asks for a negative oom_score_adj, which needs CAP_SYS_RESOURCE; sandboxes such
  # as this machine do not give it, and runc then fails every pod sandbox.
  restrict_oom_score_adj = true
  [plugins."io.containerd.grpc.v1.cri".containerd]
    default_runtime_name = "runc"
    [plugins."io.containerd.grpc.v1.cri".containerd.runtimes.runc]
      runtime_type = "io.containerd.runc.v2"
      [plugins."io.containerd.grpc.v1.cri".containerd.runtimes.runc.options]
        SystemdCgroup = false
  [plugins."io.containerd.grpc.v1.cri".cni]
    bin_dir = "/usr/lib/cni"
    conf_dir = "$config/cni"
  [plugins."io.containerd.grpc.v1.cri".registry]
    config_path = "$config/containerd/certs.d"
EOF

  cat >"$config/containerd/certs.d/$registry/hosts.toml" <<EOF
server = "http://$registry"

[host."http://$registry"]
  capabilities = ["pull", "resolve"]
EOF

  cat >"$config/cni/10-$network_name.conflist" <<EOF
{
  "cniVersion": "1.0.0",
  "name": "$network_name",
  "plugins": [
    {
      "type": "bridge",
      "bridge": "$bridge",
      "isGateway": true,
      "ipMasq": true,
      "hairpinMode": true,
      "ipam": {
        "type": "host-local",
        "dataDir": "$data/cni-ipam",
        "ranges": [[{"subnet": "$pod_cidr", "gateway": "$node_ip"}]],
        "routes": [{"dst": "0.0.0.0/0"}]
      }
    },
    {"type": "portmap", "capabilities": {"portMappings": true}}
  ]
}
EOF

  cat >"$config/kubelet.yml" <<EOF
apiVersion: kubelet.config.k8s.io/v1beta1
kind: KubeletConfiguration
address: $node_ip
healthzBindAddress: 127.0.0.1
authentication:
  anonymous:
    enabled: false
  webhook:
    enabled: true
  x509:
    clientCAFile: $pki/ca.crt
authorization:
  mode: Webhook
tlsCertFile: $pki/kubelet-serving.crt
tlsPrivateKeyFile: $pki/kubelet-serving.key
containerRuntimeEndpoint: unix://$run/containerd.sock
# This machine: cgroup v1 without systemd, no swap accounting, no CAP_SYS_RESOURCE.
cgroupDriver: cgroupfs
failCgroupV1: false
cgroupsPerQOS: false
enforceNodeAllocatable: []
failSwapOn: false
evictionHard:
  memory.available: "100Mi"
localStorageCapacityIsolation: false
imageGCHighThresholdPercent: 100
hairpinMode: hairpin-veth
serializeImagePulls: false
EOF

  # Who asked for what (never a request's body): the tests read it to prove that a namespace
  # admin's run asks for nothing outside its namespace.
  cat >"$config/audit-policy.yml" <<EOF
apiVersion: audit.k8s.io/v1
kind: Policy
omitStages: [RequestReceived]
rules:
  - level: None
    userGroups: ["system:nodes", "system:serviceaccounts"]
  - level: None
    users: ["system:kube-controller-manager", "system:kube-scheduler", "system:kube-proxy", "system:apiserver"]
  - level: Metadata
EOF

  cat >"$config/kube-proxy.yml" <<EOF
apiVersion: kubeproxy.config.k8s.io/v1alpha1
kind: KubeProxyConfiguration
clientConnection:
  kubeconfig: $config/kube-proxy.kubeconfig
hostnameOverride: $node_name
mode: iptables
clusterCIDR: $pod_cidr
# NodePorts answer on 127.0.0.1 only: nothing of the cluster is reachable from other hosts.
nodePortAddresses: [127.0.0.1/32]
bindAddress: 127.0.0.1
metricsBindAddress: 127.0.0.1:10249
healthzBindAddress: 127.0.0.1:10256
conntrack:
  maxPerCore: 0
  tcpEstablishedTimeout: 0s
  tcpCloseWaitTimeout: 0s
EOF
}

# --- processes --------------------------------------------------------------------------------
# start NAME COMMAND...: run in the background, output to logs/NAME.log, pid in pids/NAME.
start() {
  local name=$1
  shift
  log "starting $name"
  setsid "$@" >>"$state/logs/$name.log" 2>&1 </dev/null &
  echo $! >"$state/pids/$name"
}

running() {
  local pid
  pid=$(cat "$state/pids/$1" 2>/dev/null) || return 1
  kill -0 "$pid" 2>/dev/null
}

# wait_for WHAT SECONDS COMMAND...: until COMMAND succeeds, or fail with the log of WHAT.
wait_for() {
  local what=$1 seconds=$2 deadline
  shift 2
  deadline=$(($(date +%s) + seconds))
  until "$@" >/dev/null 2>&1; do
    if ! running "$what" || [ "$(date +%s)" -ge "$deadline" ]; then
      log "$what did not come up; last lines of $state/logs/$what.log:"
      tail -n 30 "$state/logs/$what.log" >&2 || true
      exit 1
    fi
    sleep 0.5
  done
}

kubectl_admin() { "$(bin_dir)/kubectl" --kubeconfig "$state/kubeconfig" "$@"; }

# What the machine looks like before the cluster starts: taken before anything is changed,
# written once the state folder exists.
record_baseline() {
  local snapshot=$1
  mkdir -p "$state/baseline"
  printf '%s\n' "$snapshot" >"$state/baseline/snapshot"
  sysctl -e "${sysctls[@]}" 2>/dev/null | sed 's/ = /=/' >"$state/baseline/sysctl"
  [ -e /run/containerd ] && touch "$state/baseline/run-containerd-existed"
  [ -e /var/lib/cni ] && touch "$state/baseline/var-lib-cni-existed"
  ip netns list 2>/dev/null | awk '{print $1}' >"$state/baseline/netns"
  for family in iptables ip6tables; do
    for table in filter nat mangle; do
      "$family" -t "$table" -S 2>/dev/null | awk '$1 == "-N" {print $2}'
    done
  done | sort -u >"$state/baseline/chains"
  return 0
}

cmd_up() {
  [ "$(id -u)" -eq 0 ] || die "the kubelet and containerd need root: run as root"
  if cmd_status >/dev/null 2>&1; then
    log "already running (cluster.sh down stops it)"
    return 0
  fi
  local name
  for name in "${components[@]}"; do
    running "$name" && die "$name from an earlier start still runs: run cluster.sh down first"
  done
  local started
  started=$(date +%s)
  cmd_build
  local bin
  bin=$(bin_dir)
  local before
  rm -rf "$state"
  before=$(cmd_snapshot)
  mkdir -p "$state"/{config,logs,pids,etcd,registry} "$data" "$run"
  chmod 0700 "$state"
  record_baseline "$before"
  make_pki
  write_config

  start etcd "$bin/etcd" --name "$node_name" --data-dir "$state/etcd" \
    --listen-client-urls "http://127.0.0.1:$etcd_port" --advertise-client-urls "http://127.0.0.1:$etcd_port" \
    --listen-peer-urls "http://127.0.0.1:$((etcd_port + 1))" \
    --initial-advertise-peer-urls "http://127.0.0.1:$((etcd_port + 1))" \
    --initial-cluster "$node_name=http://127.0.0.1:$((etcd_port + 1))" \
    --listen-metrics-urls "" --log-level warn
  start docker-registry docker-registry serve "$state/config/registry.yml"

  # The bridge exists before the kubelet, which takes its address as the node's.
  ip link add "$bridge" type bridge
  ip addr add "$node_ip/${pod_cidr#*/}" dev "$bridge"
  ip link set "$bridge" up
  sysctl -qw net.ipv4.ip_forward=1

  # HTTP(S)_PROXY: pulls from anywhere but loopback go to an address where nothing listens.
  start containerd env HTTP_PROXY="$pull_blackhole" HTTPS_PROXY="$pull_blackhole" NO_PROXY="127.0.0.1,localhost" \
    containerd --config "$state/config/containerd.toml"

  wait_for etcd 60 curl -fsS "http://127.0.0.1:$etcd_port/health"
  start kube-apiserver "$bin/kube-apiserver" \
    --etcd-servers "http://127.0.0.1:$etcd_port" \
    --bind-address 127.0.0.1 --secure-port "$api_port" \
    --advertise-address 127.0.0.1 --endpoint-reconciler-type none \
    --service-cluster-ip-range "$service_cidr" \
    --authorization-mode Node,RBAC \
    --enable-admission-plugins NodeRestriction \
    --client-ca-file "$pki/ca.crt" \
    --tls-cert-file "$pki/apiserver.crt" --tls-private-key-file "$pki/apiserver.key" \
    --kubelet-client-certificate "$pki/apiserver-kubelet-client.crt" \
    --kubelet-client-key "$pki/apiserver-kubelet-client.key" \
    --kubelet-preferred-address-types InternalIP \
    --service-account-issuer https://kubernetes.default.svc \
    --service-account-key-file "$pki/sa.pub" --service-account-signing-key-file "$pki/sa.key" \
    --audit-policy-file "$state/config/audit-policy.yml" --audit-log-path "$state/logs/audit.log" \
    --audit-log-maxsize 200 --audit-log-maxbackup 1 \
    --profiling=false
  wait_for kube-apiserver 120 kubectl_admin get --raw /readyz

  start kube-controller-manager "$bin/kube-controller-manager" \
    --kubeconfig "$state/config/controller-manager.kubeconfig" \
    --authentication-kubeconfig "$state/config/controller-manager.kubeconfig" \
    --authorization-kubeconfig "$state/config/controller-manager.kubeconfig" \
    --bind-address 127.0.0.1 --leader-elect=false \
    --controllers '*,-nodeipam' \
    --service-account-private-key-file "$pki/sa.key" --root-ca-file "$pki/ca.crt" \
    --cluster-signing-cert-file "$pki/ca.crt" --cluster-signing-key-file "$pki/ca.key" \
    --use-service-account-credentials
  start kube-scheduler "$bin/kube-scheduler" \
    --kubeconfig "$state/config/scheduler.kubeconfig" \
    --authentication-kubeconfig "$state/config/scheduler.kubeconfig" \
    --authorization-kubeconfig "$state/config/scheduler.kubeconfig" \
    --bind-address 127.0.0.1 --leader-elect=false

  wait_for docker-registry 30 curl -fsS "http://$registry/v2/"
  push_pause_image "$bin/pause"

  wait_for containerd 60 ctr --address "$run/containerd.sock" version
  start kubelet "$bin/kubelet" \
    --config "$state/config/kubelet.yml" \
    --kubeconfig "$state/config/kubelet.kubeconfig" \
    --root-dir "$data/kubelet" \
    --hostname-override "$node_name" --node-ip "$node_ip"
  start kube-proxy "$bin/kube-proxy" --config "$state/config/kube-proxy.yml"

  # OpenShift's own Route CRD, so that Routes are validated by the API server.
  kubectl_admin apply --server-side -f "$here/../../tests/data/openshift-route-crd/routes.crd.yaml" >/dev/null
  wait_for kube-apiserver 60 kubectl_admin wait --for condition=Established --timeout 5s crd/routes.route.openshift.io
  wait_for kubelet 120 kubectl_admin wait --for condition=Ready --timeout 5s "node/$node_name"
  wait_for kube-controller-manager 60 kubectl_admin get serviceaccount default --namespace default
  merge_user_kubeconfig
  log "ready in $(($(date +%s) - started)) s: kubectl --kubeconfig $state/kubeconfig (context $context), registry $registry"
}

# The pause image, from scratch, into the local registry that containerd pulls from.
push_pause_image() {
  local pause=$1 context_dir
  context_dir=$(mktemp -d)
  cp "$pause" "$context_dir/pause"
  cp "$here/pause.Containerfile" "$context_dir/Containerfile"
  podman build --quiet --tag "$pause_image" "$context_dir" >/dev/null
  podman push --quiet --tls-verify=false "$pause_image"
  podman rmi --force "$pause_image" >/dev/null
  rm -rf "$context_dir"
}

# As kind does: the context goes into ~/.kube/config (or $KUBECONFIG's first file) and becomes
# the current one; cluster.sh down takes it out again.
user_kubeconfig() {
  local first=${KUBECONFIG:-}
  first=${first%%:*}
  echo "${first:-$HOME/.kube/config}"
}

merge_user_kubeconfig() {
  local target merged
  target=$(user_kubeconfig)
  mkdir -p "$(dirname "$target")"
  merged=$(mktemp)
  KUBECONFIG="$state/kubeconfig:$target" "$(bin_dir)/kubectl" config view --flatten >"$merged"
  install -m 0600 "$merged" "$target"
  rm -f "$merged"
  "$(bin_dir)/kubectl" --kubeconfig "$target" config use-context "$context" >/dev/null
}

unmerge_user_kubeconfig() {
  local target kubectl
  target=$(user_kubeconfig)
  kubectl=$(bin_dir)/kubectl
  [ -f "$target" ] && [ -x "$kubectl" ] || return 0
  grep -q "name: $context\$" "$target" || return 0
  if [ "$("$kubectl" --kubeconfig "$target" config current-context 2>/dev/null)" = "$context" ]; then
    "$kubectl" --kubeconfig "$target" config unset current-context >/dev/null
  fi
  "$kubectl" --kubeconfig "$target" config delete-context "$context" >/dev/null 2>&1 || true
  "$kubectl" --kubeconfig "$target" config delete-cluster "$context" >/dev/null 2>&1 || true
  "$kubectl" --kubeconfig "$target" config delete-user "$context-admin" >/dev/null 2>&1 || true
}

cmd_namespace() {
  local namespace=${1:?usage: cluster.sh namespace NAME}
  kubectl_admin create namespace "$namespace" --dry-run=client -o yaml | kubectl_admin apply --server-side -f - >/dev/null
}

cmd_user() {
  local name=${1:?usage: cluster.sh user NAME NAMESPACE} namespace=${2:?usage: cluster.sh user NAME NAMESPACE}
  cmd_status >/dev/null || die "the cluster is not running: run cluster.sh up first"
  mkdir -p "$state/users"
  if [ ! -f "$state/users/$name.kubeconfig" ]; then
    make_cert "user-$name" "/CN=$name" "$client_ext"
    make_kubeconfig "$state/users/$name.kubeconfig" "user-$name" "$name"
  fi
  cmd_namespace "$namespace"
  kubectl_admin create rolebinding "$name-admin" --clusterrole admin --user "$name" --namespace "$namespace" \
    --dry-run=client -o yaml | kubectl_admin apply --server-side -f - >/dev/null
  echo "$state/users/$name.kubeconfig"
}

cmd_status() {
  local name down=()
  for name in "${components[@]}"; do
    running "$name" || down+=("$name")
  done
  if [ ${#down[@]} -gt 0 ]; then
    echo "not running: ${down[*]}"
    return 1
  fi
  kubectl_admin get --raw /readyz >/dev/null 2>&1 || {
    echo "kube-apiserver does not answer"
    return 1
  }
  echo "running: kubectl --kubeconfig $state/kubeconfig; registry $registry"
}

stop() {
  local name=$1 pid
  pid=$(cat "$state/pids/$name" 2>/dev/null) || return 0
  if kill -0 "$pid" 2>/dev/null; then
    kill -TERM -- "-$pid" 2>/dev/null || kill -TERM "$pid" 2>/dev/null || true
    local waited=0
    while kill -0 "$pid" 2>/dev/null && [ $waited -lt 30 ]; do
      sleep 0.5
      waited=$((waited + 1))
    done
    kill -KILL -- "-$pid" 2>/dev/null || kill -KILL "$pid" 2>/dev/null || true
  fi
  rm -f "$state/pids/$name"
}

cmd_down() {
  [ "$(id -u)" -eq 0 ] || die "run as root"
  local bin
  bin=$(bin_dir)
  # Pods first, while the kubelet and containerd still run: stopping a sandbox lets the CNI
  # plugins take back what they set up (veth pairs, NAT rules, addresses).
  if running kube-apiserver && running kubelet; then
    log "deleting the pods"
    kubectl_admin delete pods --all --all-namespaces --grace-period 1 --wait=false >/dev/null 2>&1 || true
    kubectl_admin delete namespaces --all --wait=false \
      --field-selector 'metadata.name!=default,metadata.name!=kube-system,metadata.name!=kube-public,metadata.name!=kube-node-lease' \
      >/dev/null 2>&1 || true
    local deadline=$(($(date +%s) + 60))
    while [ "$(date +%s)" -lt $deadline ] &&
      [ -n "$(ctr --address "$run/containerd.sock" --namespace k8s.io tasks list --quiet 2>/dev/null)" ]; do
      sleep 1
    done
  fi
  local name
  for name in kube-proxy kubelet kube-scheduler kube-controller-manager kube-apiserver; do
    stop "$name"
  done
  # What the kubelet could not stop: kill the tasks and let containerd release their networks.
  if running containerd; then
    local task
    for task in $(ctr --address "$run/containerd.sock" --namespace k8s.io tasks list --quiet 2>/dev/null); do
      ctr --address "$run/containerd.sock" --namespace k8s.io tasks kill --signal SIGKILL "$task" >/dev/null 2>&1 || true
    done
  fi
  for name in containerd docker-registry etcd; do
    stop "$name"
  done
  pkill -f "containerd-shim-runc-v2 -namespace k8s.io -address $run/containerd.sock" 2>/dev/null || true

  # Mounts under the kubelet's and containerd's folders, deepest first.
  local mount_point
  for mount_point in $(awk '{print $5}' /proc/self/mountinfo | grep -E "^($data|$run)(/|$)" | sort -r || true); do
    umount -l "$mount_point" 2>/dev/null || true
  done
  # Network namespaces containerd made for pods (cni-<uuid>) that were not there before.
  local netns
  for netns in $(ip netns list 2>/dev/null | awk '/^cni-/{print $1}'); do
    grep -qx "$netns" "$state/baseline/netns" 2>/dev/null || ip netns delete "$netns" 2>/dev/null || true
  done
  ip link delete "$bridge" 2>/dev/null || true
  # kube-proxy's chains, the kubelet's (KUBE-*, both address families), and any NAT rule the
  # bridge plugin left for a pod of this network only (podman's CNI rules, which look alike,
  # name their own network).
  if [ -x "$bin/kube-proxy" ]; then
    "$bin/kube-proxy" --cleanup >/dev/null 2>&1 || true
  fi
  remove_new_chains
  remove_cni_rules
  if [ -f "$state/baseline/sysctl" ]; then
    local setting
    while read -r setting; do
      sysctl -qw "$setting" 2>/dev/null || true
    done <"$state/baseline/sysctl"
  fi
  [ -f "$state/baseline/run-containerd-existed" ] || rm -rf /run/containerd
  [ -f "$state/baseline/var-lib-cni-existed" ] || rm -rf /var/lib/cni
  unmerge_user_kubeconfig
  rm -rf "$data" "$run" "$state"
  log "stopped; nothing of the cluster is left (the build stays cached in $cache)"
}

# Chains named KUBE-* that were not there before the cluster: the rules that jump to them first.
remove_new_chains() {
  local family table chain rule
  for family in iptables ip6tables; do
    for table in filter nat mangle; do
      for chain in $("$family" -t "$table" -S 2>/dev/null | awk '$1 == "-N" && $2 ~ /^KUBE-/ {print $2}'); do
        grep -qx "$chain" "$state/baseline/chains" 2>/dev/null && continue
        while read -r rule; do
          if [ -n "$rule" ]; then eval "$family -t $table $rule" 2>/dev/null || true; fi
        done < <("$family" -t "$table" -S 2>/dev/null | grep -E -- "-j $chain( |\$)" | grep -v "^-A $chain " |
          sed 's/^-A/-D/' || true)
        "$family" -t "$table" -F "$chain" 2>/dev/null || true
      done
      for chain in $("$family" -t "$table" -S 2>/dev/null | awk '$1 == "-N" && $2 ~ /^KUBE-/ {print $2}'); do
        grep -qx "$chain" "$state/baseline/chains" 2>/dev/null || "$family" -t "$table" -X "$chain" 2>/dev/null || true
      done
    done
  done
}

remove_cni_rules() {
  local chain rule
  for chain in $(iptables -t nat -S | awk -v net="\"name: \\\"$network_name\\\"" \
    'index($0, net) && $1 == "-A" && $2 == "POSTROUTING" {for (i = 1; i <= NF; i++) if ($i == "-j") print $(i + 1)}' | sort -u); do
    while read -r rule; do
      if [ -n "$rule" ]; then eval "iptables -t nat $rule" || true; fi
    done < <(iptables -t nat -S POSTROUTING | grep -- "-j $chain\( \|$\)" | sed 's/^-A/-D/' || true)
    iptables -t nat -F "$chain" 2>/dev/null || true
    iptables -t nat -X "$chain" 2>/dev/null || true
  done
}

# What the cluster may change on this machine, in a stable order: processes, mounts, network
# links and namespaces, iptables chains and rules (without counters), the two sysctls.
cmd_snapshot() {
  echo "## processes"
  pgrep --list-name '^(etcd|kube-|kubelet|containerd|docker-registry)' | awk '{print $2}' | sort || true
  echo "## mounts"
  awk '{print $5}' /proc/self/mountinfo | grep -E "^($data|$run|/run/containerd|/var/lib/kubelet)" | sort || true
  echo "## links"
  ip -o link show | awk -F': ' '{print $2}' | sed 's/@.*//' | sort
  echo "## netns"
  ip netns list 2>/dev/null | awk '{print $1}' | sort
  local family table
  for family in iptables ip6tables; do
    for table in filter nat mangle; do
      echo "## $family $table"
      "$family" -t "$table" -S 2>/dev/null | sort
    done
  done
  echo "## sysctl"
  sysctl -e "${sysctls[@]}" 2>/dev/null
  echo "## folders"
  for folder in "$data" "$run" /run/containerd /var/lib/cni "$state"; do
    [ -e "$folder" ] && echo "$folder"
  done
  return 0
}

case ${1:-} in
  build) cmd_build ;;
  up) cmd_up ;;
  down) cmd_down ;;
  status) cmd_status ;;
  user) cmd_user "${@:2}" ;;
  namespace) cmd_namespace "${@:2}" ;;
  snapshot) cmd_snapshot ;;
  *)
    sed -n '2,/^set -euo/p' "$0" | sed '$d' >&2
    exit 2
    ;;
esac
