#!/bin/bash
# CNI plugins, ours vs the reference (Debian's containernetworking-plugins) in one run: ADD+DEL
# per pod for bridge+host-local, and with portmap chained when both sides have it. Everything
# happens inside network namespaces created here (the plugins' "host" is one of them).
# Usage: bench-cni.sh <our plugin dir> [reference dir]. Env: BENCH_PODS (default 20).
set -euo pipefail
ours=$1
ref=${2:-/usr/lib/cni}
pods=${BENCH_PODS:-20}
if [[ $EUID -ne 0 ]]; then echo "bench-cni: needs root" >&2; exit 77; fi
if [[ ! -x $ref/bridge || ! -x $ref/host-local ]]; then
  echo "bench-cni: reference plugins not in $ref (containernetworking-plugins)" >&2
  exit 77
fi

tag=bcni$$
host=$tag-h
work=$(mktemp -d /tmp/berth-bench-cni.XXXXXX)
cleanup() {
  for ((i = 0; i < pods; i++)); do ip netns del "$tag-p$i" 2>/dev/null || true; done
  ip netns del "$host" 2>/dev/null || true
  rm -rf "$work"
}
trap cleanup EXIT
ip netns add "$host"
for ((i = 0; i < pods; i++)); do ip netns add "$tag-p$i"; done

conf() {  # conf <name> <bridge> <subnet> <with portmap: 0|1>
  local plugin="{\"type\": \"bridge\", \"bridge\": \"$2\", \"isGateway\": true, \"ipMasq\": true,
    \"ipam\": {\"type\": \"host-local\", \"dataDir\": \"$work/ipam\", \"subnet\": \"$3\"}}"
  echo "{\"cniVersion\": \"1.0.0\", \"name\": \"$1\", \"type\": \"bridge\", ${plugin:1:-1}}"
}

now_ns() { date +%s%N; }

# run_pods <dir> <name> <bridge> <subnet> -> prints milliseconds for ADD+DEL of every pod
run_pods() {
  local dir=$1 name=$2 br=$3 subnet=$4 c start end
  c=$(conf "$name" "$br" "$subnet")
  start=$(now_ns)
  for ((i = 0; i < pods; i++)); do
    CNI_COMMAND=ADD CNI_CONTAINERID=$name-$i CNI_NETNS=/run/netns/$tag-p$i CNI_IFNAME=eth0 \
      CNI_PATH=$dir ip netns exec "$host" "$dir/bridge" <<<"$c" >"$work/out" ||
      { cat "$work/out" >&2; return 1; }
  done
  for ((i = 0; i < pods; i++)); do
    CNI_COMMAND=DEL CNI_CONTAINERID=$name-$i CNI_NETNS=/run/netns/$tag-p$i CNI_IFNAME=eth0 \
      CNI_PATH=$dir ip netns exec "$host" "$dir/bridge" <<<"$c" >"$work/out" ||
      { cat "$work/out" >&2; return 1; }
  done
  end=$(now_ns)
  echo $(((end - start) / 1000000))
}

# `ip netns exec` itself costs time on both sides; measured alone to subtract it.
start=$(now_ns)
for ((i = 0; i < 2 * pods; i++)); do ip netns exec "$host" true; done
base=$((($(now_ns) - start) / 1000000))

run_pods "$ours" warm cni-bw 10.200.0.0/24 >/dev/null
run_pods "$ref" warmref cni-bwr 10.201.0.0/24 >/dev/null
t_ours=$(run_pods "$ours" berth cni-b 10.210.0.0/24)
t_ref=$(run_pods "$ref" ref cni-r 10.211.0.0/24)
per() { echo "scale=2; ($1 - $base) / $pods" | bc; }
echo "bridge+host-local ADD+DEL per pod ($pods pods, ip-netns-exec overhead ${base} ms removed):"
echo "  berth:     $(per "$t_ours") ms"
echo "  reference: $(per "$t_ref") ms"
echo "  ratio berth/reference: $(echo "scale=3; ($t_ours - $base) / ($t_ref - $base)" | bc)"
