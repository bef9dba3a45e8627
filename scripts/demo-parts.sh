#!/bin/bash
# The node's parts one by one (the README's main job is scripts/demo.sh, `berth up`): builds berth
# and runs a demo container with berth-runtime from a busybox-static
# rootfs: create, state, start, exec into it, list, kill, delete — as runc would be driven. Then a
# two-pod network: each pod a network namespace wired by our bridge + host-local CNI plugins
# (berth-cnitool), pod A's container held by berth-monitor (its CRI log shown), pod B pinging A.
# Last, berth-server on 127.0.0.1 with its own data dir, driven by kubectl.
set -euo pipefail
cd "$(dirname -- "${BASH_SOURCE[0]}")/.."
scripts/deps.sh
scripts/build.sh >/dev/null

repo=$PWD
build=$repo/${BUILD_DIR:-build}
runtime=$build/runtime/berth-runtime
monitor=$build/shim/monitor/berth-monitor
server=$build/controlplane/berth-server
cnitool=$build/cni-bin/berth-cnitool
work=$(mktemp -d /tmp/berth-demo.XXXXXX)
root=$work/state
# The pod network's names, unique to this run: two network namespaces and a bridge.
readonly ns_a=berth-demo-a-$$ ns_b=berth-demo-b-$$ bridge=bdemo$$
cni() { "$cnitool" --conf-dir "$work/net.d" --bin-dir "$build/cni-bin" --cache-dir "$work/cni" "$@"; }
server_pid=
cleanup() {
  [[ -n $server_pid ]] && kill "$server_pid" 2>/dev/null && wait "$server_pid" 2>/dev/null
  for id in demo pod-a pod-b; do
    "$runtime" --root "$root" delete --force "$id" >/dev/null 2>&1 || true
  done
  if [[ -d $work/net.d ]]; then
    cni del pod-a "/run/netns/$ns_a" >/dev/null 2>&1 || true
    cni del pod-b "/run/netns/$ns_b" >/dev/null 2>&1 || true
  fi
  ip netns del "$ns_a" 2>/dev/null || true
  ip netns del "$ns_b" 2>/dev/null || true
  ip link del "$bridge" 2>/dev/null || true
  rm -rf -- "$work"
}
trap cleanup EXIT

tests/fixtures/make-bundle.sh "$work/bundle" -- sh -c \
  'echo "hello from $(hostname), pid $$ in its own namespaces"; exec sleep 1000' >/dev/null
cd "$work/bundle"
step() { printf '\n$ %s\n' "$*"; "$@"; }
step "$runtime" --version
step "$runtime" --root "$root" create demo
step "$runtime" --root "$root" state demo
step "$runtime" --root "$root" start demo
step "$runtime" --root "$root" exec demo sh -c 'echo "exec: $(id)"; ps'
step "$runtime" --root "$root" list
step "$runtime" --root "$root" kill demo KILL
# kill only sends the signal: wait (bounded) until the init is gone before deleting.
for _ in $(seq 200); do
  "$runtime" --root "$root" state demo | grep -q '"stopped"' && break
  sleep 0.01
done
step "$runtime" --root "$root" state demo
step "$runtime" --root "$root" delete demo

"$repo"/tests/fixtures/make-bundle.sh "$work/once" -- \
  sh -c 'echo "run: foreground, exit status travels back"; exit 3' >/dev/null
cd "$work/once"
step "$runtime" --root "$root" run once || echo "exit status: $?"

# Two pods on one bridge: network namespaces wired by our CNI plugins through berth-cnitool.
cd "$repo"
mkdir -p "$work/net.d"
cat >"$work/net.d/10-demo.conflist" <<CONF
{"cniVersion": "1.1.0", "name": "berth-demo", "plugins": [
  {"type": "bridge", "bridge": "$bridge", "isGateway": true,
   "ipam": {"type": "host-local", "dataDir": "$work/ipam",
            "ranges": [[{"subnet": "10.244.77.0/24"}]]}}]}
CONF
ip netns add "$ns_a"
ip netns add "$ns_b"
printf '\n$ berth-cnitool add pod-a /run/netns/%s\n' "$ns_a"
ip_a=$(cni add pod-a "/run/netns/$ns_a" | tee /dev/stderr | jq -r '.ips[0].address' | cut -d/ -f1)
cni add pod-b "/run/netns/$ns_b" >/dev/null

# A pod's container joins its network namespace by path (and may ping: CAP_NET_RAW).
pod_bundle() { # NAME NETNS ARGS...
  local name=$1 ns=$2
  shift 2
  tests/fixtures/make-bundle.sh "$work/$name" -- "$@" >/dev/null
  jq --arg ns "/run/netns/$ns" '
      .linux.namespaces |= map(if .type == "network" then .path = $ns else . end)
      | .process.capabilities.bounding += ["CAP_NET_RAW"]
      | .process.capabilities.effective += ["CAP_NET_RAW"]
      | .process.capabilities.permitted += ["CAP_NET_RAW"]' \
    "$work/$name/config.json" >"$work/$name/config.tmp"
  mv "$work/$name/config.tmp" "$work/$name/config.json"
}
pod_bundle pod-a "$ns_a" sh -c 'echo "pod A: up"; echo "pod A: on stderr" >&2; exec sleep 1000'
pod_bundle pod-b "$ns_b" ping -c 3 "$ip_a"

# Pod A's container runs under berth-monitor, which writes the kubelet's CRI log format; the
# monitor detaches and reports the container's pid on its sync fd.
step "$monitor" --id pod-a --bundle "$work/pod-a" --runtime "$runtime" \
  --runtime-arg=--root="$root" --log-path "$work/pod-a.log" --exit-file "$work/pod-a.exit" \
  --socket-dir "$work/pod-a.sock" --sync-fd 3 3>"$work/pod-a.sync"
for _ in $(seq 500); do [[ -s $work/pod-a.sync ]] && break; sleep 0.01; done
step cat "$work/pod-a.sync"
step "$runtime" --root "$root" start pod-a
for _ in $(seq 500); do grep -q "on stderr" "$work/pod-a.log" 2>/dev/null && break; sleep 0.01; done
step cat "$work/pod-a.log"
cd "$work/pod-b"
step "$runtime" --root "$root" run pod-b
step "$runtime" --root "$root" kill pod-a KILL
for _ in $(seq 500); do [[ -s $work/pod-a.exit ]] && break; sleep 0.01; done
step cat "$work/pod-a.exit"

# berth-server: the Kubernetes API on an embedded SQLite store, its CA and an admin kubeconfig
# generated in its data dir at first start (port 0: any free port, written into the kubeconfig).
cd "$repo"
"$server" --bind-address 127.0.0.1 --secure-port 0 --data-dir "$work/server" \
  >"$work/server.log" 2>&1 &
server_pid=$!
export KUBECONFIG=$work/server/admin.kubeconfig
for _ in $(seq 1000); do
  [[ -s $KUBECONFIG ]] && kubectl get --raw /readyz >/dev/null 2>&1 && break
  kill -0 "$server_pid" 2>/dev/null || { cat "$work/server.log"; exit 1; }
  sleep 0.01
done
step kubectl version
step kubectl get namespaces
step kubectl create configmap greeting --from-literal=hello=world
step kubectl get configmap greeting -o jsonpath='{.data.hello}{"\n"}'
step kubectl run web --image=busybox --labels=app=web -- sleep 1000
# No scheduler or kubelet yet (berth up will bring them): the pod waits, Pending.
step kubectl get pods -o wide
step kubectl auth can-i create deployments --as=system:serviceaccount:default:default || true
