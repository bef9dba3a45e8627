#!/bin/bash
# bench-runtime.sh [BERTH_RUNTIME] — berth-runtime beside runc and crun, in one run, on the same
# bundles.
#
# For each runtime: wall time of `run` of /bin/true, and of `create`, `start` and `delete` each
# timed on its own (hyperfine; the steps that set a container up for the timed one run in
# hyperfine's untimed --prepare); then memory, measured in a separate pass so that measuring does
# not disturb the timings. Then, on one container that runs `sleep` from a second bundle (created
# and started once, untimed, after the memory pass above, and deleted at the end): wall time of
# `exec <id> /bin/true` and of `events --stats <id>` (one hyperfine run, no --prepare: the
# container stays as it is), then their memory in a separate pass as above.
# It prints; it never asserts on time. Exit status: 0, 1 if a runtime could not run the container
# at all (or an operation failed), 77 (ctest skip) when this machine lacks what the bench needs,
# 2 on a usage error. A command that a peer other than runc does not have (crun 1.8 has no
# `events`) is not a failure: its cells say n/a and a note below the table says why. berth-runtime
# and runc must have every command.
#
# Memory, two numbers per operation (median over BENCH_MEM_RUNS runs):
# - RSS: getrusage(RUSAGE_CHILDREN).ru_maxrss via `/usr/bin/time -f %M`: the largest resident set
#   of any one process among the runtime and the descendants it waited for. For `run` that is the
#   whole tree (runtime, its init helper, the container). It is a maximum, not a sum, and misses
#   processes the runtime leaves behind: the container init after `create`. For `exec`, the
#   process started in the container counts if the runtime waits for it (runc, crun and
#   berth-runtime all do without --detach).
# - new: the growth of memory.max_usage_in_bytes over the usage when the operation began, in a
#   cgroup v1 memory cgroup that holds the runtime and the container cgroups it creates: the memory
#   the whole tree newly charged at its peak, summed over its processes, including the init that
#   `create` leaves behind and kernel memory (namespaces, page tables, state files on tmpfs). Pages
#   of binaries and libraries already in the page cache are shared and were charged before, so they
#   are not counted: this can be below RSS. It also counts /usr/bin/time's own memory, equally
#   for every runtime; the report prints that baseline (/usr/bin/time running /bin/true).
#
# Why a private mount namespace, a PID namespace and a cgroup view of our own:
# - crun 1.8 refuses this hybrid layout (v1 controllers plus a bare cgroup2 at
#   /sys/fs/cgroup/unified): "cgroups in hybrid mode not supported". The host's mounts must not
#   change, so the bench runs in a private mount namespace (unshare -m, then mount --make-rprivate /)
#   and changes the mounts there only.
# - Hiding cgroup2 with a tmpfs over /sys/fs/cgroup/unified is not enough: crun then takes that
#   tmpfs for a hierarchy and writes into it, and crun puts a container without cgroupsPath at
#   /<id> from each hierarchy's root, where our tests must not go. So inside the namespace a tmpfs
#   replaces /sys/fs/cgroup, with no unified/, and each v1 hierarchy's mount point is a bind mount
#   of a cgroup the bench creates under its own cgroup (per /proc/self/cgroup). Every runtime sees
#   the same plain v1 layout and puts its containers under the bench's cgroups; runc behaves as it
#   does on the host, nesting under its own cgroup.
# - A PID namespace (unshare -p, this script is its init) so that the containers `create` leaves
#   behind are reaped by us, and so that all of them die with the namespace, even on SIGKILL.
# - State roots, bundle and logs live on a tmpfs mounted in the namespace: gone when it ends.
#
# Environment: BERTH_RUNTIME (if no argument), BENCH_RUNS (timed runs, default 20), BENCH_WARMUP
# (default 3), BENCH_MEM_RUNS (default 5), RUNC and CRUN (default: runc and crun from PATH).
set -euo pipefail

self=$(realpath -- "${BASH_SOURCE[0]}")
readonly self
readonly fixtures_dir=${self%/*}/../../fixtures
readonly cgroup_root=/sys/fs/cgroup
readonly python=/usr/bin/python3 # Debian's; the python3 on PATH may be someone's pyenv
readonly gnu_time=/usr/bin/time
readonly kSkip=77

# The order of the columns; berth-runtime first, it is what the ratios are about.
readonly -a kRuntimes=(berth-runtime runc crun)
# Operations that go through a container's life, each on a container of the /bin/true bundle.
readonly -a kLifecycleOps=(run create start delete)
# Operations on a running container: the one of the sleep bundle, id kRunningId.
readonly -a kRunningOps=(exec events)
readonly -a kOps=("${kLifecycleOps[@]}" "${kRunningOps[@]}")
readonly kRunningId=running
declare -A kOpLabel=([run]="run /bin/true" [create]=create [start]=start [delete]=delete
  [exec]="exec /bin/true" [events]="events --stats")
readonly kOpLabel
# A running op's arguments after `RUNTIME --root ROOT`; words without spaces or quotes.
declare -A kOpArgs=([exec]="exec $kRunningId /bin/true" [events]="events --stats $kRunningId")
readonly kOpArgs
# Runtimes that must have every command; a command another runtime lacks is reported as n/a.
readonly -a kRequired=(berth-runtime runc)

log() { echo "bench-runtime: $*" >&2; }

skip() {
  echo "bench-runtime: SKIP: $*"
  exit "$kSkip"
}

die() {
  log "$*"
  exit 2
}

# Quotes one word for hyperfine's --shell=none splitting, which follows POSIX shell quoting.
sq() {
  local s=${1//\'/\'\\\'\'}
  printf "'%s'" "$s"
}

is_count() { [[ "$1" =~ ^[1-9][0-9]*$ ]]; }

# ---------------------------------------------------------------------------------------------
# Outside the namespaces: checks, the bench cgroups (created and removed from the host's view),
# the work directory. Everything else happens in inner_main.
# ---------------------------------------------------------------------------------------------

preflight() {
  [[ $EUID -eq 0 ]] ||
    skip "needs root: runtimes create namespaces, mounts and cgroups (run as root or via sudo)"
  local tool
  for tool in hyperfine jq unshare findmnt; do
    command -v "$tool" >/dev/null || skip "$tool not found (apt-get install $tool)"
  done
  [[ -x "$gnu_time" ]] || skip "$gnu_time not found (apt-get install time)"
  [[ -x "$python" ]] || skip "$python not found (apt-get install python3-minimal)"
  [[ -x /bin/busybox ]] || skip "/bin/busybox not found (apt-get install busybox-static)"
  [[ "$(stat -f -c %T "$cgroup_root/memory" 2>/dev/null)" == cgroupfs ]] ||
    skip "no cgroup v1 memory hierarchy at $cgroup_root/memory: this bench is for v1/hybrid hosts"
  is_count "$BENCH_RUNS" || die "BENCH_RUNS must be a positive integer, not '$BENCH_RUNS'"
  is_count "$BENCH_MEM_RUNS" || die "BENCH_MEM_RUNS must be a positive integer"
  [[ "$BENCH_WARMUP" =~ ^[0-9]+$ ]] || die "BENCH_WARMUP must be a non-negative integer"
}

# Prints "name path" for each runtime that is there, and says why for each one that is not.
find_runtimes() {
  local berth=$1 runc_path crun_path
  if [[ -n "$berth" && -x "$berth" && ! -d "$berth" ]]; then
    echo "berth-runtime $(realpath -- "$berth")"
  else
    log "berth-runtime: not built${berth:+ ($berth)}"
  fi
  if runc_path=$(command -v "${RUNC:-runc}"); then
    echo "runc $(realpath -- "$runc_path")"
  else
    log "runc: not installed"
  fi
  if crun_path=$(command -v "${CRUN:-crun}"); then
    echo "crun $(realpath -- "$crun_path")"
  else
    log "crun: not installed"
  fi
}

# Each v1 hierarchy mounted at /sys/fs/cgroup/NAME, as "NAME HOST_DIR_OF_OUR_OWN_CGROUP".
own_v1_cgroups() {
  local ctrls path name mnt fsroot
  while IFS=: read -r _ ctrls path; do
    [[ -n "$ctrls" ]] || continue # the cgroup2 line: hidden from the runtimes, see the top
    name=${ctrls#name=}
    mnt=$cgroup_root/$name
    [[ "$(findmnt -n -o FSTYPE --mountpoint "$mnt" 2>/dev/null)" == cgroup ]] || continue
    # When the host itself is a container, a mount may show a subtree of the hierarchy.
    fsroot=$(findmnt -n -o FSROOT --mountpoint "$mnt")
    [[ "$fsroot" == / ]] || path=${path#"$fsroot"}
    echo "$name $mnt${path%/}"
  done </proc/self/cgroup
}

# What earlier runs left when they were SIGKILLed (their owner pid, in the name, is gone):
# empty bench cgroups under PARENT, and empty work dirs.
is_stale() { [[ "$1" =~ ^[0-9]+$ ]] && ! kill -0 "$1" 2>/dev/null; }

remove_stale_cgroups() {
  local parent=$1 dir
  for dir in "$parent"/berth-bench-*; do
    if [[ -d "$dir" ]] && is_stale "${dir##*-}"; then
      find "$dir" -depth -type d -exec rmdir {} + 2>/dev/null || true
    fi
  done
}

remove_stale_workdirs() {
  local dir pid
  for dir in /tmp/berth-bench.*; do
    pid=${dir#/tmp/berth-bench.}
    if [[ -d "$dir" ]] && is_stale "${pid%%.*}"; then
      rmdir "$dir" 2>/dev/null || true
    fi
  done
}

# Our cgroup in every v1 hierarchy; in memory, a `ctl` child holds the bench itself so that the
# parent's peak counts only what a measured operation adds (see measure_memory).
make_bench_cgroups() {
  local name own dir
  while read -r name own; do
    remove_stale_cgroups "$own"
    dir=$own/berth-bench-$$
    mkdir "$dir"
    bench_cgroup_dirs+=("$dir")
    if [[ "$name" == cpuset ]]; then
      # A v1 cpuset takes no task until it has cpus and mems.
      cat "$own/cpuset.cpus" >"$dir/cpuset.cpus"
      cat "$own/cpuset.mems" >"$dir/cpuset.mems"
    fi
    if [[ "$name" == memory ]]; then
      mkdir "$dir/ctl"
    fi
    BENCH_CGROUPS+="$name $dir"$'\n'
  done < <(own_v1_cgroups)
}

# Runs last, when the namespaces are gone and with them every process in them: what is left are
# empty cgroups (ours, and any a runtime did not remove) and the empty work dir.
outer_cleanup() {
  trap '' INT TERM HUP
  if [[ -n "${launcher:-}" ]] && kill -0 "$launcher" 2>/dev/null; then
    # Only if this shell exits before the namespace's init: kill it (--kill-child) and wait until
    # it is gone, which the kernel allows only once every process in the namespace is gone.
    local inner
    inner=$(child_of "$launcher")
    kill -KILL "$launcher" 2>/dev/null || true
    wait "$launcher" 2>/dev/null || true
    if [[ -n "$inner" ]]; then
      wait_pid_exit "$inner"
    fi
  fi
  local dir
  for dir in "${bench_cgroup_dirs[@]}"; do
    [[ -d "$dir" ]] || continue
    find "$dir" -depth -type d -exec rmdir {} + ||
      log "could not remove cgroup $dir (processes left in it?)"
  done
  if [[ -n "${BENCH_WORK:-}" ]]; then
    rmdir "$BENCH_WORK" || log "could not remove $BENCH_WORK"
  fi
}

outer_main() {
  [[ $# -le 1 ]] || die "usage: $0 [BERTH_RUNTIME]"
  local berth=${1:-${BERTH_RUNTIME:-}}
  export BENCH_RUNS=${BENCH_RUNS:-20} BENCH_WARMUP=${BENCH_WARMUP:-3}
  export BENCH_MEM_RUNS=${BENCH_MEM_RUNS:-5}
  preflight

  export BENCH_RUNTIMES
  BENCH_RUNTIMES=$(find_runtimes "$berth")
  [[ -n "$BENCH_RUNTIMES" ]] || skip "no runtime to benchmark"

  bench_cgroup_dirs=()
  BENCH_WORK=
  trap outer_cleanup EXIT
  trap 'exit 130' INT
  trap 'exit 143' TERM HUP
  remove_stale_workdirs
  export BENCH_WORK BENCH_CGROUPS=
  BENCH_WORK=$(mktemp -d "/tmp/berth-bench.$$.XXXXXX")
  make_bench_cgroups

  # --kill-child: if this shell is SIGKILLed, the namespace's init (and every container) dies too.
  unshare --mount --pid --fork --mount-proc --kill-child -- "$self" __inner &
  launcher=$!
  trap stop_inner INT TERM HUP
  local rc
  while :; do
    rc=0
    wait "$launcher" || rc=$?
    # `wait` also returns when a trapped signal arrives; go on waiting for the inner cleanup.
    kill -0 "$launcher" 2>/dev/null || break
  done
  exit "$rc"
}

# unshare ignores INT and TERM while it waits for its child, so a signal meant for the bench is
# passed to that child, the namespace's init, which cleans up and exits. Ctrl-C reaches it
# directly as well (same process group); a second signal does no harm.
stop_inner() {
  local inner
  inner=$(child_of "$launcher")
  if [[ -n "$inner" ]]; then
    kill -TERM "$inner" 2>/dev/null || true
  fi
}

# The pid of PARENT's child, from /proc/*/stat (this kernel has no /proc/PID/task/TID/children).
child_of() {
  local parent=$1 dir line ppid
  for dir in /proc/[0-9]*; do
    read -r line 2>/dev/null <"$dir/stat" || continue
    read -r _ ppid _ <<<"${line##*) }"
    if [[ "$ppid" == "$parent" ]]; then
      echo "${dir#/proc/}"
      # Explicit status: a bare `return` in a trap handler returns the status of the command
      # the trap interrupted.
      return 0
    fi
  done
  return 0
}

# ---------------------------------------------------------------------------------------------
# Inside: PID 1 of a new PID namespace, in a private mount namespace.
# ---------------------------------------------------------------------------------------------

# See the top of the file for why.
setup_cgroup_view() {
  local stage=$BENCH_WORK/cgroup-view name dir
  local -a names=()
  while read -r name dir; do
    [[ -n "$name" ]] || continue
    if [[ "$name" == memory ]]; then
      echo 0 >"$dir/ctl/cgroup.procs"
    else
      echo 0 >"$dir/cgroup.procs"
    fi
    mkdir -p "$stage/$name"
    mount --bind "$dir" "$stage/$name"
    names+=("$name")
  done <<<"$BENCH_CGROUPS"
  # Combined hierarchies (cpu,cpuacct) come with symlinks (cpu -> cpu,cpuacct); keep them.
  local -a links=()
  local link
  for link in "$cgroup_root"/*; do
    [[ -L "$link" ]] && links+=("${link##*/}=$(readlink "$link")")
  done
  # Unmount, not just cover, the namespace's copies of the host's cgroup mounts: runc looks up
  # hierarchies in /proc/self/mountinfo, which still lists covered mounts, and would take them.
  # This only touches our namespace's copies: refuse if any mount would propagate.
  if grep -q ' shared:' /proc/self/mountinfo; then
    log "mount namespace is not private; refusing to unmount $cgroup_root"
    exit 1
  fi
  umount --recursive "$cgroup_root"
  mount -t tmpfs -o mode=0755,size=64k berth-bench-cgroups "$cgroup_root"
  for name in "${names[@]}"; do
    mkdir "$cgroup_root/$name"
    mount --move "$stage/$name" "$cgroup_root/$name"
  done
  for link in "${links[@]}"; do
    ln -s "${link#*=}" "$cgroup_root/${link%%=*}"
  done
}

# Runtime name -> path, from BENCH_RUNTIMES.
declare -A runtime_path=()
load_runtimes() {
  local name path
  while read -r name path; do
    [[ -n "$name" ]] && runtime_path[$name]=$path
  done <<<"$BENCH_RUNTIMES"
}

state_root() { echo "$BENCH_WORK/state/$1"; }

# Removes every container of every runtime; the runtimes remove their cgroups. Processes would
# die with the namespace anyway, but cgroups and runtime bookkeeping would not.
inner_cleanup() {
  # A second Ctrl-C must not cut the cleanup short.
  trap '' INT TERM HUP
  if [[ -n "$bg_pid" ]]; then
    kill -KILL "$bg_pid" 2>/dev/null || true
    wait "$bg_pid" 2>/dev/null || true
  fi
  local name path root id
  for name in "${!runtime_path[@]}"; do
    path=${runtime_path[$name]}
    root=$(state_root "$name")
    [[ -d "$root" ]] || continue
    while read -r id; do
      if [[ -n "$id" ]]; then
        "$path" --root "$root" delete --force "$id" >/dev/null 2>&1 ||
          log "$name: could not delete container $id"
      fi
    done < <("$path" --root "$root" list --quiet 2>/dev/null || true)
  done
}

# Runs a command in the background and waits for it, so that INT and TERM run our trap at once:
# while a foreground command runs, bash holds the trap back, and drops it altogether if the
# command survives the signal (hyperfine does).
bg_pid=
run_bg() {
  "$@" &
  bg_pid=$!
  local rc=0
  wait "$bg_pid" || rc=$?
  bg_pid=
  return "$rc"
}

# Blocks until the container's process has exited (a zombie counts: the runtimes call that
# stopped). A pidfd, because the process is not our child and polling would burn a core.
wait_exited() {
  local path=$1 root=$2 id=$3 pid
  pid=$("$path" --root "$root" state "$id" | jq -r '.pid // 0')
  [[ "$pid" -gt 0 ]] || return 0
  wait_pid_exit "$pid"
}

# Blocks until process PID has exited (zombie or gone).
wait_pid_exit() {
  run_bg "$python" -c '
import os, select, sys
try:
    fd = os.pidfd_open(int(sys.argv[1]))
except ProcessLookupError:
    sys.exit(0)
select.select([fd], [], [])
' "$1"
}

# `__prepare MODE PATH ROOT BUNDLE ID`: hyperfine's untimed step before each timed one.
# Modes name the state the container is left in: absent, created, stopped.
prepare_main() {
  local mode=$1 path=$2 root=$3 bundle=$4 id=$5
  # The previous iteration left the container behind; a failure here shows up as "exists" below.
  "$path" --root "$root" delete --force "$id" >/dev/null 2>&1 || true
  [[ "$mode" != absent ]] || return 0
  "$path" --root "$root" create --bundle "$bundle" "$id" </dev/null >/dev/null
  [[ "$mode" != created ]] || return 0
  "$path" --root "$root" start "$id"
  wait_exited "$path" "$root" "$id"
}

# Results, keyed "runtime op": seconds from hyperfine, KB and bytes from the memory pass.
declare -A t_median=() t_mean=() t_stddev=() m_rss=() m_new=()
declare -A status=() # runtime -> ok | FAILED
declare -A op_na=()  # "runtime op" -> why the runtime cannot do it (a command it does not have)

# One `run` outside of any measurement, so that a runtime that cannot run the container at all
# says why, instead of hyperfine's bare exit code.
smoke_test() {
  local name=$1 path=$2 root bundle=$BENCH_WORK/bundle log=$BENCH_WORK/$1.smoke.log
  root=$(state_root "$name")
  if run_bg "$path" --root "$root" run --bundle "$bundle" "smoke-$name" </dev/null >"$log" 2>&1
  then
    return 0
  fi
  echo "$name: FAILED to run /bin/true in a container:"
  sed 's/^/    /' "$log"
  return 1
}

time_runtime() {
  local name=$1 path=$2 root bundle=$BENCH_WORK/bundle json=$BENCH_WORK/$1.json
  root=$(state_root "$name")
  local rt prep
  rt="$(sq "$path") --root $(sq "$root")"
  prep="$(sq "$self") __prepare"
  local args
  args="$(sq "$path") $(sq "$root") $(sq "$bundle") life"
  if ! run_bg hyperfine --shell=none --style none --runs "$BENCH_RUNS" --warmup "$BENCH_WARMUP" \
    --export-json "$json" \
    -n run --prepare true "$rt run --bundle $(sq "$bundle") run" \
    -n create --prepare "$prep absent $args" "$rt create --bundle $(sq "$bundle") life" \
    -n start --prepare "$prep created $args" "$rt start life" \
    -n delete --prepare "$prep stopped $args" "$rt delete life" \
    >"$BENCH_WORK/$name.hyperfine.log" 2>&1; then
    echo "$name: FAILED under hyperfine:"
    sed 's/^/    /' "$BENCH_WORK/$name.hyperfine.log"
    diagnose_lifecycle "$path" "$root" "$bundle"
    return 1
  fi
  load_timings "$name" "$json"
}

# Reads hyperfine's --export-json output into t_median, t_mean and t_stddev; commands are named
# after their op (-n).
load_timings() {
  local name=$1 json=$2 op median mean stddev
  while read -r op median mean stddev; do
    t_median[$name $op]=$median
    t_mean[$name $op]=$mean
    t_stddev[$name $op]=$stddev
  done < <(jq -r '.results[] | "\(.command) \(.median) \(.mean) \(.stddev // 0)"' "$json")
}

# hyperfine does not say which command failed, nor show its stderr: go through the lifecycle once
# by hand and show the first step that fails.
diagnose_lifecycle() {
  local path=$1 root=$2 bundle=$3 log=$BENCH_WORK/diagnose.log
  echo "    one create, start, delete by hand:"
  step() {
    if "$path" --root "$root" "$@" </dev/null >"$log" 2>&1; then
      return 0
    fi
    echo "    \`$*\` failed:"
    sed 's/^/      /' "$log"
    return 1
  }
  "$path" --root "$root" delete --force diag >/dev/null 2>&1 || true
  step create --bundle "$bundle" diag && step start diag &&
    wait_exited "$path" "$root" diag && step delete diag &&
    echo "    all succeeded (a failure that comes and goes?)"
}

# Runs one command as described at the top; appends "RSS_KB NEW_BYTES" to OUT.
measure_memory() {
  local out=$1
  shift
  local memcg=$cgroup_root/memory tmp=$BENCH_WORK/measure
  run_bg measured_subshell "$memcg" "$tmp" "$@" || {
    echo "command failed: $*"
    sed 's/^/    /' "$tmp.err"
    return 1
  }
  local start peak rss
  read -r start <"$tmp.start"
  read -r peak <"$memcg/memory.max_usage_in_bytes"
  rss=$(tail -n 1 "$tmp.rss")
  echo "$rss $((peak - start))" >>"$out"
}

# In run_bg's child: moves itself (the bench stays in ctl) into the memory view's root, which
# holds nothing else but the containers, resets the peak there, and becomes /usr/bin/time.
measured_subshell() {
  local memcg=$1 tmp=$2 start
  shift 2
  echo 0 >"$memcg/cgroup.procs"
  # Builtins only from here to exec: a forked helper would be counted in the peak.
  echo 0 >"$memcg/memory.max_usage_in_bytes"
  read -r start <"$memcg/memory.max_usage_in_bytes"
  echo "$start" >"$tmp.start"
  exec "$gnu_time" -f %M -o "$tmp.rss" "$@" </dev/null >/dev/null 2>"$tmp.err"
}

median_of_column() {
  sort -n | awk '{ v[NR] = $1 } END { if (NR) print v[int((NR + 1) / 2)] }'
}

memory_runtime() {
  local name=$1 path=$2 root bundle=$BENCH_WORK/bundle dir=$BENCH_WORK/$1.mem i op
  root=$(state_root "$name")
  mkdir -p "$dir"
  for ((i = 0; i < BENCH_MEM_RUNS; i++)); do
    if ! {
      measure_memory "$dir/run" "$path" --root "$root" run --bundle "$bundle" mem-run &&
        measure_memory "$dir/create" "$path" --root "$root" create --bundle "$bundle" mem-life &&
        measure_memory "$dir/start" "$path" --root "$root" start mem-life &&
        wait_exited "$path" "$root" mem-life &&
        measure_memory "$dir/delete" "$path" --root "$root" delete mem-life
    }; then
      echo "$name: FAILED in the memory pass"
      return 1
    fi
  done
  load_memory "$name" "$dir" "${kLifecycleOps[@]}"
}

# The medians of the memory pass for NAME's OPS, from DIR/OP.
load_memory() {
  local name=$1 dir=$2 op
  shift 2
  for op in "$@"; do
    m_rss[$name $op]=$(cut -d' ' -f1 "$dir/$op" | median_of_column)
    m_new[$name $op]=$(cut -d' ' -f2 "$dir/$op" | median_of_column)
  done
}

# --- operations on a running container -------------------------------------------------------

is_required() {
  local required
  for required in "${kRequired[@]}"; do
    [[ "$1" != "$required" ]] || return 0
  done
  return 1
}

# The running ops NAME can do, one a line: those without an op_na entry.
available_running_ops() {
  local op
  for op in "${kRunningOps[@]}"; do
    [[ -n "${op_na[$1 $op]:-}" ]] || echo "$op"
  done
}

# Creates and starts kRunningId from the sleep bundle. Its stdio is the log file, so that it
# holds no pipe of ours open.
start_running() {
  local name=$1 path=$2 root bundle=$BENCH_WORK/bundle-sleep log=$BENCH_WORK/$1.running.log
  root=$(state_root "$name")
  "$path" --root "$root" delete --force "$kRunningId" >/dev/null 2>&1 || true
  if run_bg "$path" --root "$root" create --bundle "$bundle" "$kRunningId" </dev/null \
    >"$log" 2>&1 && run_bg "$path" --root "$root" start "$kRunningId" </dev/null >>"$log" 2>&1
  then
    return 0
  fi
  echo "$name: FAILED to start a container running sleep:"
  sed 's/^/    /' "$log"
  return 1
}

stop_running() {
  local name=$1 path=$2 root log=$BENCH_WORK/$1.running-delete.log
  root=$(state_root "$name")
  if run_bg "$path" --root "$root" delete --force "$kRunningId" </dev/null >"$log" 2>&1; then
    return 0
  fi
  echo "$name: FAILED to delete the running container:"
  sed 's/^/    /' "$log"
  return 1
}

# Each running op once, outside of any measurement, so that a failure says why. A runtime that
# is not required and does not have the op's command (`RUNTIME COMMAND --help` fails) gets an
# op_na entry instead of a failure.
smoke_running_ops() {
  local name=$1 path=$2 root log=$BENCH_WORK/$1.smoke-running.log op cmd why
  root=$(state_root "$name")
  local -a argv
  for op in "${kRunningOps[@]}"; do
    read -r -a argv <<<"${kOpArgs[$op]}"
    if run_bg "$path" --root "$root" "${argv[@]}" </dev/null >"$log" 2>&1; then
      continue
    fi
    cmd=${argv[0]}
    if ! is_required "$name" && ! "$path" "$cmd" --help >"$log.help" 2>&1; then
      why=$(grep -m 1 . "$log.help" || true)
      op_na[$name $op]="$name has no \`$cmd\` command (\`$name $cmd --help\`: ${why:-no output})"
      echo "$name: ${kOpLabel[$op]}: n/a: ${op_na[$name $op]}"
      continue
    fi
    echo "$name: FAILED to run \`${kOpArgs[$op]}\` in the running container:"
    sed 's/^/    /' "$log"
    return 1
  done
}

time_running_ops() {
  local name=$1 path=$2 root json=$BENCH_WORK/$1.running.json op word cmd
  root=$(state_root "$name")
  local -a commands=() argv
  while read -r op; do
    [[ -n "$op" ]] || continue
    cmd="$(sq "$path") --root $(sq "$root")"
    read -r -a argv <<<"${kOpArgs[$op]}"
    for word in "${argv[@]}"; do cmd+=" $(sq "$word")"; done
    commands+=(-n "$op" "$cmd")
  done < <(available_running_ops "$name")
  [[ ${#commands[@]} -gt 0 ]] || return 0
  if ! run_bg hyperfine --shell=none --style none --runs "$BENCH_RUNS" --warmup "$BENCH_WARMUP" \
    --export-json "$json" "${commands[@]}" >"$BENCH_WORK/$name.hyperfine-running.log" 2>&1; then
    echo "$name: FAILED under hyperfine (running container):"
    sed 's/^/    /' "$BENCH_WORK/$name.hyperfine-running.log"
    return 1
  fi
  load_timings "$name" "$json"
}

memory_running_ops() {
  local name=$1 path=$2 root dir=$BENCH_WORK/$1.mem i op
  root=$(state_root "$name")
  mkdir -p "$dir"
  local -a ops argv
  mapfile -t ops < <(available_running_ops "$name")
  [[ ${#ops[@]} -gt 0 ]] || return 0
  for ((i = 0; i < BENCH_MEM_RUNS; i++)); do
    for op in "${ops[@]}"; do
      read -r -a argv <<<"${kOpArgs[$op]}"
      if ! measure_memory "$dir/$op" "$path" --root "$root" "${argv[@]}"; then
        echo "$name: FAILED in the memory pass (running container)"
        return 1
      fi
    done
  done
  load_memory "$name" "$dir" "${ops[@]}"
}

# Starts the running container, measures what runs in it, and deletes it whatever happened.
bench_running_ops() {
  local name=$1 path=$2 rc=0
  start_running "$name" "$path" || return 1
  smoke_running_ops "$name" "$path" && time_running_ops "$name" "$path" &&
    memory_running_ops "$name" "$path" || rc=1
  stop_running "$name" "$path" || rc=1
  return "$rc"
}

# What the memory harness itself adds to `new`: /usr/bin/time running /bin/true. (RSS does not
# include /usr/bin/time, only what it runs.)
baseline_new=
measure_baseline() {
  local out=$BENCH_WORK/baseline.mem i
  for ((i = 0; i < BENCH_MEM_RUNS; i++)); do
    measure_memory "$out" /bin/true || return 1
  done
  baseline_new=$(cut -d' ' -f2 "$out" | median_of_column)
}

bench_one() {
  local name=$1 path=${runtime_path[$1]}
  mkdir -p "$(state_root "$name")"
  echo "$name: $path ($("$path" --version 2>/dev/null | head -n 1 || true))"
  if smoke_test "$name" "$path" && time_runtime "$name" "$path" &&
    memory_runtime "$name" "$path" && bench_running_ops "$name" "$path"; then
    status[$name]=ok
  else
    status[$name]=FAILED
  fi
}

# --- report ----------------------------------------------------------------------------------

ms() { awk -v s="$1" 'BEGIN { printf "%.2f", s * 1000 }'; }
mb() { awk -v k="$1" 'BEGIN { printf "%.1f", k / 1024 }'; }
mb_bytes() { awk -v b="$1" 'BEGIN { printf "%.1f", b / 1048576 }'; }
ratio() { awk -v a="$1" -v b="$2" 'BEGIN { if (b > 0) printf "%.2fx", a / b; else print "n/a" }'; }
sum() { awk 'BEGIN { s = 0; for (i = 1; i < ARGC; i++) s += ARGV[i]; print s }' "$@"; }

# Why a column is empty.
absent_reason() {
  if [[ -n "${runtime_path[$1]:-}" ]]; then
    echo FAILED
  elif [[ "$1" == berth-runtime ]]; then
    echo "not built"
  else
    echo "not installed"
  fi
}

has_results() { [[ "${status[$1]:-}" == ok ]]; }

# The cell of the first table: "27.10 ms (RSS 10.2 MB)".
time_cell() {
  local name=$1 op=$2
  if ! has_results "$name"; then
    absent_reason "$name"
  elif [[ -n "${op_na[$name $op]:-}" ]]; then
    echo "n/a (see below)"
  elif [[ "$op" == cycle ]]; then
    echo "$(ms "$(sum "${t_median[$name create]}" "${t_median[$name start]}" \
      "${t_median[$name delete]}")") ms"
  else
    echo "$(ms "${t_median[$name $op]}") ms (RSS $(mb "${m_rss[$name $op]}") MB)"
  fi
}

ratio_cell() {
  local peer=$1 op=$2 b=berth-runtime
  if ! has_results "$b" || ! has_results "$peer" || [[ -n "${op_na[$b $op]:-}" ]] ||
    [[ -n "${op_na[$peer $op]:-}" ]]; then
    echo "n/a"
  elif [[ "$op" == cycle ]]; then
    ratio "$(sum "${t_median[$b create]}" "${t_median[$b start]}" "${t_median[$b delete]}")" \
      "$(sum "${t_median[$peer create]}" "${t_median[$peer start]}" "${t_median[$peer delete]}")"
  else
    echo "$(ratio "${t_median[$b $op]}" "${t_median[$peer $op]}")" \
      "(RSS $(ratio "${m_rss[$b $op]}" "${m_rss[$peer $op]}"))"
  fi
}

report() {
  local name op
  echo
  echo "time: median of $BENCH_RUNS runs; RSS: median of $BENCH_MEM_RUNS runs of the peak;" \
    "ratios: berth-runtime / peer (time, then RSS)"
  printf '%-22s' op
  for name in "${kRuntimes[@]}"; do printf '%-24s' "$name"; done
  printf '%-22s%s\n' berth/runc berth/crun
  for op in "${kLifecycleOps[@]}" cycle "${kRunningOps[@]}"; do
    if [[ "$op" == cycle ]]; then
      printf '%-22s' "create+start+delete*"
    else
      printf '%-22s' "${kOpLabel[$op]}"
    fi
    for name in "${kRuntimes[@]}"; do printf '%-24s' "$(time_cell "$name" "$op")"; done
    printf '%-22s%s\n' "$(ratio_cell runc "$op")" "$(ratio_cell crun "$op")"
  done
  echo "* sum of the three medians; exec and events run in a container running sleep"
  for op in "${kRunningOps[@]}"; do
    for name in "${kRuntimes[@]}"; do
      if has_results "$name" && [[ -n "${op_na[$name $op]:-}" ]]; then
        echo "n/a: $name ${kOpLabel[$op]}: ${op_na[$name $op]}"
      fi
    done
  done

  echo
  echo "details: time mean ± stddev (ms); new = memory newly charged by the whole process tree" \
    "at its peak, kernel objects included (memcg, MB)"
  printf '%-22s' op
  for name in "${kRuntimes[@]}"; do printf '%-30s' "$name"; done
  echo
  for op in "${kOps[@]}"; do
    printf '%-22s' "${kOpLabel[$op]}"
    for name in "${kRuntimes[@]}"; do
      if has_results "$name" && [[ -n "${op_na[$name $op]:-}" ]]; then
        printf '%-30s' "n/a"
      elif has_results "$name"; then
        printf '%-30s' "$(ms "${t_mean[$name $op]}") ± $(ms "${t_stddev[$name $op]}")  new $(
          mb_bytes "${m_new[$name $op]}")"
      else
        printf '%-30s' "$(absent_reason "$name")"
      fi
    done
    echo
  done
  echo "new of the memory harness alone (/usr/bin/time running /bin/true):" \
    "$(mb_bytes "$baseline_new") MB, included above, not subtracted"
}

inner_main() {
  trap inner_cleanup EXIT
  trap 'exit 130' INT
  trap 'exit 143' TERM HUP
  # unshare already made the mount namespace private; say so here too, as the bench relies on
  # it: none of the mounts below may propagate to the host.
  mount --make-rprivate /
  mount -t tmpfs -o mode=0700 berth-bench "$BENCH_WORK"
  setup_cgroup_view
  load_runtimes

  "$fixtures_dir/make-bundle.sh" "$BENCH_WORK/bundle" -- /bin/true
  "$fixtures_dir/make-bundle.sh" "$BENCH_WORK/bundle-sleep" -- sleep 1000000
  echo "kernel $(uname -r), $(nproc) CPUs, load average $(cut -d' ' -f1-3 /proc/loadavg);" \
    "timed runs $BENCH_RUNS (+$BENCH_WARMUP warmup), memory runs $BENCH_MEM_RUNS"
  echo "memory cgroup: $(awk '$1 == "memory" { print $2 }' <<<"$BENCH_CGROUPS")"
  measure_baseline
  local name failed=0
  for name in "${kRuntimes[@]}"; do
    [[ -n "${runtime_path[$name]:-}" ]] || continue
    bench_one "$name"
    [[ "${status[$name]}" == ok ]] || failed=1
  done
  report
  echo "load average at the end: $(cut -d' ' -f1-3 /proc/loadavg)"
  return "$failed"
}

main() {
  case "${1:-}" in
    __inner) inner_main ;;
    __prepare)
      shift
      prepare_main "$@"
      ;;
    *) outer_main "$@" ;;
  esac
}

main "$@"
