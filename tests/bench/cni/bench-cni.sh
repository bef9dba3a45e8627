#!/bin/bash
# CNI plugins, ours vs the reference (Debian's containernetworking-plugins) in one run: per pod,
# bridge+host-local ADD and DEL, and portmap (chained after bridge, two hostPorts) ADD and DEL.
# Everything runs inside network namespaces created here; the plugins' "host" is one of them, so
# the real host's links, sysctls, iptables and nftables are untouched.
# Usage: bench-cni.sh <our plugin dir> [reference dir]. Env: BENCH_PODS (default 20).
set -euo pipefail
ours=$1
ref=${2:-/usr/lib/cni}
pods=${BENCH_PODS:-20}
if [[ $EUID -ne 0 ]]; then echo "bench-cni: needs root" >&2; exit 77; fi
for p in bridge host-local portmap; do
  if [[ ! -x $ref/$p ]]; then
    echo "bench-cni: reference $p not in $ref (containernetworking-plugins)" >&2
    exit 77
  fi
done
command -v jq >/dev/null || { echo "bench-cni: needs jq" >&2; exit 77; }

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
ip -n "$host" link set lo up
for ((i = 0; i < pods; i++)); do ip netns add "$tag-p$i"; done

# The timed part runs inside the host namespace (no `ip netns exec` per call); bash's
# EPOCHREALTIME times each plugin run without forking a clock.
cat >"$work/inner.sh" <<'INNER'
set -euo pipefail
dir=$1 name=$2 subnet=$3 pods=$4 tag=$5 work=$6
bridge="{\"cniVersion\": \"1.0.0\", \"name\": \"$name\", \"type\": \"bridge\",
  \"bridge\": \"br-$name\", \"isGateway\": true, \"ipMasq\": true,
  \"ipam\": {\"type\": \"host-local\", \"dataDir\": \"$work/ipam\", \"subnet\": \"$subnet\"}}"
ports='[{"hostPort": 18080, "containerPort": 80, "protocol": "tcp"},
        {"hostPort": 18053, "containerPort": 53, "protocol": "udp"}]'
us() { local t=${EPOCHREALTIME/./}; echo "$t"; }
run() {  # run <plugin> <command> <pod> <conf> -> stdout of the plugin; adds to T_<plugin>_<cmd>
  local s e out
  s=$(us)
  out=$(CNI_COMMAND=$2 CNI_CONTAINERID=$name-$3 CNI_NETNS=/run/netns/$tag-p$3 CNI_IFNAME=eth0 \
    CNI_PATH=$dir "$dir/$1" <<<"$4") || { echo "$1 $2 failed: $out" >&2; exit 1; }
  e=$(us)
  echo "$1 $2 $((e - s))" >>"$work/times-$name"
  printf '%s' "$out"
}
: >"$work/times-$name"
declare -a pm
for ((i = 0; i < pods; i++)); do
  res=$(run bridge ADD "$i" "$bridge")
  pm[$i]=$(jq -nc --argjson prev "$res" --argjson ports "$ports" --arg name "$name" \
    --argjson i "$i" '{cniVersion: "1.0.0", name: $name, type: "portmap",
      capabilities: {portMappings: true}, prevResult: $prev,
      runtimeConfig: {portMappings: ($ports | map(.hostPort += $i))}}')
  run portmap ADD "$i" "${pm[$i]}" >/dev/null
done
for ((i = 0; i < pods; i++)); do
  run portmap DEL "$i" "${pm[$i]}" >/dev/null
  run bridge DEL "$i" "$bridge" >/dev/null
done
INNER

measure() {  # measure <dir> <name> <subnet>
  ip netns exec "$host" bash "$work/inner.sh" "$1" "$2" "$3" "$pods" "$tag" "$work"
}
sum() {  # sum <name> <plugin> <cmd> -> mean milliseconds
  awk -v p="$2" -v c="$3" -v n="$pods" '$1 == p && $2 == c { s += $3 } END { printf "%.2f", s / n / 1000 }' \
    "$work/times-$1"
}

ratio() { awk -v a="$1" -v b="$2" 'BEGIN { printf "%.3f", a / b }'; }

measure "$ours" warm 10.200.0.0/24
measure "$ref" warmref 10.201.0.0/24
measure "$ours" berth 10.210.0.0/24
measure "$ref" ref 10.211.0.0/24

printf '%-28s %10s %10s %8s\n' "per pod (ms, $pods pods)" berth reference ratio
for row in "bridge ADD" "bridge DEL" "portmap ADD" "portmap DEL"; do
  set -- $row
  b=$(sum berth "$1" "$2")
  r=$(sum ref "$1" "$2")
  label="$1 $2"
  [[ $1 == bridge ]] && label="bridge+host-local $2"
  printf '%-28s %10s %10s %8s\n' "$label" "$b" "$r" "$(ratio "$b" "$r")"
done
b=$(awk '$1 == "bridge" { s += $3 } END { print s }' "$work/times-berth")
r=$(awk '$1 == "bridge" { s += $3 } END { print s }' "$work/times-ref")
echo "bridge+host-local ADD+DEL ratio berth/reference: $(ratio "$b" "$r") (target 0.25)"
b=$(awk '$1 == "portmap" { s += $3 } END { print s }' "$work/times-berth")
r=$(awk '$1 == "portmap" { s += $3 } END { print s }' "$work/times-ref")
echo "portmap ADD+DEL ratio berth/reference: $(ratio "$b" "$r") (target 0.10)"
