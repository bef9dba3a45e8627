#!/bin/bash
# The main job: builds berth, then `berth up` runs a whole cluster — API server, controllers,
# scheduler, kubelet, CRI, service proxy and CNI — and kubectl deploys three web servers behind a
# Service and reaches them through its ClusterIP and its NodePort. The demo image (busybox-static
# from Debian, as an OCI archive) is imported from the node's airgap image directory at start, so
# no registry is needed. The node runs in a network namespace of the demo's own (its address on a
# veth pair inside it), so nothing it sends can leave the machine; `berth down --purge` removes
# everything at the end.
set -euo pipefail
cd "$(dirname -- "${BASH_SOURCE[0]}")/.."
scripts/deps.sh
scripts/build.sh >/dev/null

build=$PWD/${BUILD_DIR:-build}
berth=$build/bin/berth
work=$(mktemp -d /tmp/berth-demo.XXXXXX)
data=$work/data
readonly ns=berth-demo-$$ node_ip=10.201.0.1
up_pid=
cleanup() {
  if [[ -n $up_pid ]]; then
    nsenter --net="/run/netns/$ns" "$berth" down --data-dir "$data" --purge || true
  fi
  ip netns del "$ns" 2>/dev/null || true
  rm -rf -- "$work"
}
trap cleanup EXIT

ip netns add "$ns"
ip -n "$ns" link set lo up
ip -n "$ns" link add node0 type veth peer name node1
ip -n "$ns" addr add "$node_ip/24" dev node0
ip -n "$ns" link set node0 up
ip -n "$ns" link set node1 up
ip -n "$ns" route add default dev node0
# nsenter enters the network namespace only: `ip netns exec` would also remount /sys, hiding the
# cgroup hierarchies the kubelet needs.
in_node() { nsenter --net="/run/netns/$ns" "$@"; }

mkdir -p "$data/agent/images"
tests/fixtures/make-oci-image.sh "$data/agent/images/busybox.tar" busybox:demo >/dev/null

step() { printf '\n$ %s\n' "$*"; "$@"; }
# --cgroup-root: the node's cgroups nest under the demo's own (a relative root).
printf '\n$ berth up --data-dir %s --node-name demo --node-ip %s --bind-address %s --cgroup-root berth-demo &\n' \
  "$data" "$node_ip" "$node_ip"
in_node "$berth" up --data-dir "$data" --node-name demo --node-ip "$node_ip" \
  --bind-address "$node_ip" --cgroup-root berth-demo >"$work/berth-up.log" 2>&1 &
up_pid=$!
export KUBECONFIG=$data/admin.kubeconfig
kubectl() { in_node env kubectl "$@"; }
for _ in $(seq 600); do
  [[ -s $KUBECONFIG ]] && kubectl get node demo >/dev/null 2>&1 && break
  kill -0 "$up_pid" 2>/dev/null || { cat "$work/berth-up.log"; exit 1; }
  sleep 0.1
done
grep -E '^(berth up:|export)' "$work/berth-up.log"
step kubectl wait --for=condition=Ready node/demo --timeout=120s
step kubectl get nodes -o wide
step kubectl create deployment web --image=busybox:demo --replicas=3 --port=8080 -- \
  sh -c 'mkdir -p /www && hostname >/www/index.html && exec httpd -f -p 8080 -h /www'
step kubectl rollout status deployment/web --timeout=120s
step kubectl expose deployment web --port=80 --target-port=8080 --type=NodePort
step kubectl get pods,services,endpointslices -o wide
cluster_ip=$(kubectl get service web -o jsonpath='{.spec.clusterIP}')
node_port=$(kubectl get service web -o jsonpath='{.spec.ports[0].nodePort}')
for _ in $(seq 100); do
  in_node wget -qO- -T 2 "http://$cluster_ip/" >/dev/null 2>&1 && break
  sleep 0.1
done
printf '\n# The ClusterIP spreads requests over the three pods (each answers its name):\n'
for _ in 1 2 3 4 5 6; do step in_node wget -qO- -T 2 "http://$cluster_ip/"; done
step in_node wget -qO- -T 2 "http://$node_ip:$node_port/"
step kubectl scale deployment web --replicas=1
step kubectl rollout status deployment/web --timeout=120s
step kubectl get pods -o wide
