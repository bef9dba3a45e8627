#!/bin/bash
# CNI plugins, ours vs the reference (Debian's containernetworking-plugins) in one run: per pod,
# bridge+host-local ADD and DEL, and portmap (chained after bridge, two hostPorts) ADD and DEL.
# Everything runs inside network namespaces created here; the plugins' "host" is one of them, so
# the real host's links, sysctls, iptables and nftables are untouched.
# Usage: bench-cni.sh <our plugin dir> <reference dir> <bench tools dir>: the tools (built in
# tests/bench/tools) are bench_timed_run, which runs each plugin as a CNI runtime does and times
# it, and bench_veth_floor, the kernel's floor for the same veth pairs (made and deleted by bare
# netlink), printed beside the ratios. Env: BENCH_PODS (default 20), BENCH_ROUNDS (default 2).
# Ratios are of the median pod's ADD+DEL; means are printed beside them (one slow outlier on a
# shared machine moves a mean of 20 a lot).
set -euo pipefail
if [[ $# -ne 3 ]]; then
  echo "usage: bench-cni.sh <our plugin dir> <reference dir> <bench tools dir>" >&2
  exit 2
fi
ours=$1
ref=$2
tools=$3
pods=${BENCH_PODS:-20}
rounds=${BENCH_ROUNDS:-2}
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

# The timed part runs inside the host namespace (no `ip netns exec` per call). bench_timed_run
# times each plugin from its spawn to its exit, the way a runtime runs it: timed in bash, each
# run would also carry the ~1 ms fork of the shell itself.
cat >"$work/inner.sh" <<'INNER'
set -euo pipefail
dir=$1 name=$2 subnet=$3 pods=$4 tag=$5 work=$6 timer=$7
bridge="{\"cniVersion\": \"1.0.0\", \"name\": \"$name\", \"type\": \"bridge\",
  \"bridge\": \"br-$name\", \"isGateway\": true, \"ipMasq\": true,
  \"ipam\": {\"type\": \"host-local\", \"dataDir\": \"$work/ipam\", \"subnet\": \"$subnet\"}}"
ports='[{"hostPort": 18080, "containerPort": 80, "protocol": "tcp"},
        {"hostPort": 18053, "containerPort": 53, "protocol": "udp"}]'
run() {  # run <plugin> <command> <pod> <conf> -> stdout of the plugin; adds to times-<name>
  local out
  out=$(CNI_COMMAND=$2 CNI_CONTAINERID=$name-$3 CNI_NETNS=/run/netns/$tag-p$3 CNI_IFNAME=eth0 \
    CNI_PATH=$dir "$timer" "$dir/$1" <<<"$4") || { echo "$1 $2 failed: $out" >&2; exit 1; }
  echo "$1 $2 ${out%%$'\n'*} $name $3" >>"$work/times-$name"
  printf '%s' "${out#*$'\n'}"
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

measure() {  # measure <dir> <name> <subnet>: appends to $work/times-<name>
  ip netns exec "$host" bash "$work/inner.sh" "$1" "$2" "$3" "$pods" "$tag" "$work" \
    "$tools/bench_timed_run"
}

# One warm-up round each (page cache, the table and bridge created, kernel slabs), then rounds
# alternating which side goes first, so the machine's drift hits both alike. Each round has its
# own network (bridge, subnet, IPAM dir) and removes every pod before the next.
measure "$ours" warm 10.200.0.0/24
measure "$ref" warmref 10.201.0.0/24
for ((r = 0; r < rounds; r++)); do
  if ((r % 2 == 0)); then
    measure "$ours" "berth$r" "10.210.$r.0/24"
    measure "$ref" "ref$r" "10.211.$r.0/24"
  else
    measure "$ref" "ref$r" "10.211.$r.0/24"
    measure "$ours" "berth$r" "10.210.$r.0/24"
  fi
  cat "$work/times-berth$r" >>"$work/times-berth"
  cat "$work/times-ref$r" >>"$work/times-ref"
done

# stat <name> <plugin> <cmd|ALL> <mean|median> -> milliseconds per pod (ALL: ADD+DEL of one pod)
stat() {
  awk -v p="$2" -v c="$3" '$1 == p && (c == "ALL" || $2 == c) { v[$4 "/" $5] += $3 }
    END { for (k in v) print v[k] }' "$work/times-$1" | sort -n |
    awk -v how="$4" '{ a[NR] = $1; s += $1 }
      END {
        if (how == "mean") m = s / NR
        else m = (NR % 2) ? a[(NR + 1) / 2] : (a[NR / 2] + a[NR / 2 + 1]) / 2
        printf "%.2f", m / 1000
      }'
}
ratio() { awk -v a="$1" -v b="$2" 'BEGIN { printf "%.3f", a / b }'; }

printf '%-26s %9s %9s %7s   %9s %9s %7s\n' "per pod (ms), $pods x $rounds" "berth" "ref" "ratio" \
  "berth" "ref" "ratio"
printf '%-26s %27s   %27s\n' "" "median" "mean"
for row in "bridge ADD" "bridge DEL" "bridge ALL" "portmap ADD" "portmap DEL" "portmap ALL"; do
  set -- $row
  label="$1 $2"
  [[ $1 == bridge ]] && label="bridge+host-local $2"
  [[ $2 == ALL ]] && label="${label% ALL} ADD+DEL"
  bm=$(stat berth "$1" "$2" median) rm=$(stat ref "$1" "$2" median)
  ba=$(stat berth "$1" "$2" mean) ra=$(stat ref "$1" "$2" mean)
  printf '%-26s %9s %9s %7s   %9s %9s %7s\n' "$label" "$bm" "$rm" "$(ratio "$bm" "$rm")" \
    "$ba" "$ra" "$(ratio "$ba" "$ra")"
done
# The kernel alone, in the same namespaces: a veth pair made and deleted by bare netlink calls,
# back to back. The deletion waits for an RCU barrier, ~16 ms of any bridge plugin's DEL (one
# run's barrier can be shorter or longer, with where the grace period stands).
read -r floor _ <<<"$(ip netns exec "$host" "$tools/bench_veth_floor" "$((pods * rounds))" \
  "/run/netns/$tag-p0")"
printf 'kernel floor (veth pair made and deleted by bare netlink): %s ms per pod = %s of the reference\n' \
  "$floor" "$(ratio "$floor" "$(stat ref bridge ALL median)")"
echo "bridge+host-local ADD+DEL ratio berth/reference (median per pod): $(ratio \
  "$(stat berth bridge ALL median)" "$(stat ref bridge ALL median)") (target 0.25)"
echo "portmap ADD+DEL ratio berth/reference (median per pod): $(ratio \
  "$(stat berth portmap ALL median)" "$(stat ref portmap ALL median)") (target 0.10)"
