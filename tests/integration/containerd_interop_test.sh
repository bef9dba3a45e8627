#!/bin/bash
# containerd_interop_test.sh RUNTIME — Debian's containerd (1.6) drives RUNTIME through its runc
# v2 shim (io.containerd.runc.v2, option BinaryName): run, exec, pause/resume, kill, delete.
#
# RUNTIME is berth-runtime (ctest integration.containerd); /usr/sbin/runc checks the test itself.
# The test starts its own containerd (own config, socket, root and state dirs in a temp dir, CRI
# plugin disabled), imports a busybox OCI image it builds offline (containerd/make-oci-image.sh)
# and drives it with `ctr` in a containerd namespace of its own.
#
# Why the runtime is chosen per container and not in the config: with the CRI plugin disabled,
# containerd 1.6 has no config section for runc options (BinaryName/Root live in the CRI
# plugin's runtimes table), and ctr always sends its own runc options for io.containerd.runc.v2.
# `ctr run --runc-binary/--runc-root` set exactly the shim's BinaryName and Root options
# (options.json in the bundle shows them), and the shim keeps them for exec, pause, kill, delete.
#
# What the shim does outside the temp dir, and how it is cleaned: it listens on
# /run/containerd/s/<sha256(address/namespace/id)> whatever the config says; its runc root is the
# Root option + /<namespace> (here in the temp dir, so /run/containerd/runc is not used).
# Container cgroups use a relative cgroupsPath, which runc (and berth-runtime, like it) nests
# under the caller's cgroup: the shim's, which is containerd's, which is this script's.
#
# Needs root; exits 77 (ctest skip) without it or when a package can't be installed.
# Environment: BERTH_CTR_TIMEOUT — seconds for one ctr call (default 30). A failing step ends the
# test at once, so even a hung containerd keeps the whole run well under two minutes.
set -euo pipefail

readonly kImageRef=localhost/berth/busybox:test
ctr_timeout=${BERTH_CTR_TIMEOUT:-30} # cleanup lowers it: a hung containerd must not stall exit
kHelperDir=$(cd "$(dirname -- "${BASH_SOURCE[0]}")/containerd" && pwd)
readonly kHelperDir

# Set up by main; the EXIT trap reads them, so they are globals.
tmp=""          # the temp dir: containerd root/state/socket, runtime root, fifos, logs
sock=""         # containerd's grpc socket
ns=""           # the containerd namespace, unique per run
cg_parent=""    # relative cgroup parent of every container, unique per run
runtime=""      # the copy of RUNTIME the shim executes
runc_root=""    # the shim's Root option; the runtime gets --root $runc_root/$ns
snapshotter=""  # overlayfs, or native where the temp dir itself is on overlayfs
containerd_pid=""
container_ids=(fg1 c1)  # every id this test may create: their shim sockets are cleaned
created_run_dirs=()     # dirs under /run/containerd that did not exist before this test
passed=0
diagnosed=0 # fail() dumps the logs once; cleanup does for other failures (set -e)

log() { echo "containerd-interop: $*"; }

skip() {
  echo "SKIP: $*"
  exit 77
}

ok() {
  passed=$((passed + 1))
  echo "ok $passed - $*"
}

fail() {
  echo "not ok - $*"
  dump_diagnostics
  diagnosed=1
  exit 1
}

# Where a failure is explained: containerd's log (shim stderr is forwarded there at debug level),
# and the runtime's --log json lines, which the shim keeps in <bundle>/log.json.
dump_diagnostics() {
  [[ -n "$tmp" && -d "$tmp" ]] || return 0
  if [[ -f "$tmp/containerd.log" ]]; then
    # The shim's own stderr and its cleanup warnings arrive here as level=warning/error.
    echo "--- containerd.log (warnings and errors; last 60)"
    grep -E 'level=(warning|error|fatal)' "$tmp/containerd.log" | tail -n 60 || true
  fi
  local f
  while IFS= read -r f; do
    [[ -s "$f" ]] || continue
    echo "--- $f"
    tail -n 40 -- "$f"
  done < <(find "$tmp/state" -name log.json 2>/dev/null)
  echo "---"
}

ctr_() {
  timeout "$ctr_timeout" ctr --address "$sock" --namespace "$ns" "$@" </dev/null
}

# has_line LINE TEXT: TEXT has LINE. Not `producer | grep -q`: under pipefail, a producer that
# writes after grep -q has quit fails with SIGPIPE.
has_line() { grep -qxF -- "$1" <<<"$2"; }

# ---------------------------------------------------------------------------------------------
# Packages: containerd (with ctr and the shim), busybox-static for the image, jq for JSON.
ensure_packages() {
  local missing=() tool pkg
  for tool in containerd:containerd ctr:containerd containerd-shim-runc-v2:containerd \
    jq:jq sha256sum:coreutils; do
    pkg=${tool#*:}
    command -v "${tool%%:*}" >/dev/null || missing+=("$pkg")
  done
  # Static only: a dynamic busybox would not run in a rootfs without libc.
  if [[ ! -x /bin/busybox ]] || ldd /bin/busybox >/dev/null 2>&1; then
    missing+=(busybox-static)
  fi
  ((${#missing[@]})) || return 0
  mapfile -t missing < <(printf '%s\n' "${missing[@]}" | sort -u)
  log "installing ${missing[*]}"
  if ! { DEBIAN_FRONTEND=noninteractive apt-get update -qq &&
    DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends \
      "${missing[@]}" >/dev/null; }; then
    skip "could not install ${missing[*]} (apt-get failed; scripts/deps.sh installs them)"
  fi
}

# ---------------------------------------------------------------------------------------------
# cgroups. Mount points of every cgroup hierarchy (v1 controllers, name=systemd, cgroup2).
cgroup_mounts() {
  awk '{ for (i = 7; i <= NF; i++) if ($i == "-") {
           if ($(i + 1) == "cgroup" || $(i + 1) == "cgroup2") print $5
           break } }' /proc/self/mountinfo
}

# This run's cgroup parent in every hierarchy where it exists.
our_cgroup_dirs() {
  local mp
  while IFS= read -r mp; do
    find "$mp" -mindepth 1 -type d -name "$cg_parent" -prune -print 2>/dev/null || true
  done < <(cgroup_mounts)
}

# The directory of PID's cgroup in the hierarchy whose /proc/PID/cgroup controller field is
# CONTROLLERS ("freezer"; "" for cgroup2), or nothing.
cgroup_dir_of() {
  local pid=$1 controllers=$2 line path mp
  line=$(awk -F: -v c="$controllers" '$2 == c' "/proc/$pid/cgroup") || return 0
  [[ -n "$line" ]] || return 0
  path=${line#*:*:}
  if [[ -z "$controllers" ]]; then
    mp=$(awk '{ for (i = 7; i <= NF; i++) if ($i == "-") { if ($(i + 1) == "cgroup2") print $5
                break } }' /proc/self/mountinfo | head -n 1)
  else
    mp=$(awk -v c="$controllers" '{ for (i = 7; i <= NF; i++) if ($i == "-") {
           if ($(i + 1) == "cgroup" && ("," $(i + 3) ",") ~ ("," c ",")) print $5
           break } }' /proc/self/mountinfo | head -n 1)
  fi
  if [[ -n "$mp" ]]; then echo "$mp$path"; fi
}

# Frozen per the freezer in use: the v1 freezer hierarchy where there is one, else cgroup2.
freezer_state_of() {
  local pid=$1 dir
  dir=$(cgroup_dir_of "$pid" freezer)
  if [[ -n "$dir" ]]; then
    cat "$dir/freezer.state"
  else
    dir=$(cgroup_dir_of "$pid" "")
    if grep -qx 'frozen 1' "$dir/cgroup.events"; then echo FROZEN; else echo THAWED; fi
  fi
}

# ---------------------------------------------------------------------------------------------
# containerd
write_config() {
  # opt's default path is /opt/containerd on the host: keep it in the temp dir too.
  cat >"$tmp/config.toml" <<EOF
version = 2
root = "$tmp/root"
state = "$tmp/state"
disabled_plugins = ["io.containerd.grpc.v1.cri"]

[grpc]
  address = "$sock"

[debug]
  level = "debug"

[plugins."io.containerd.internal.v1.opt"]
  path = "$tmp/opt"
EOF
}

start_containerd() {
  write_config
  containerd --config "$tmp/config.toml" >"$tmp/containerd.log" 2>&1 &
  containerd_pid=$!
  # Bounded wait for the API, 20 s; give up early if containerd died.
  local i
  for ((i = 0; i < 200; i++)); do
    if timeout 5 ctr --address "$sock" version >/dev/null 2>&1; then
      ok "containerd $(ctr --version | awk '{print $3}') answers on $sock"
      return 0
    fi
    kill -0 "$containerd_pid" 2>/dev/null || fail "containerd exited at start"
    sleep 0.1
  done
  fail "containerd did not answer on $sock within 20 s"
}

stop_containerd() {
  [[ -n "$containerd_pid" ]] || return 0
  kill -TERM "$containerd_pid" 2>/dev/null || true
  local i
  for ((i = 0; i < 100; i++)); do
    kill -0 "$containerd_pid" 2>/dev/null || break
    sleep 0.1
  done
  kill -KILL "$containerd_pid" 2>/dev/null || true
  wait "$containerd_pid" 2>/dev/null || true
  containerd_pid=""
}

# ---------------------------------------------------------------------------------------------
# Test steps
task_field() { # task_field ID COLUMN — PID or STATUS of ID in `ctr task ls`
  ctr_ task ls | awk -v id="$1" -v col="$2" 'NR > 1 && $1 == id {
    print (col == "PID" ? $2 : $3) }'
}

wait_task_status() { # wait_task_status ID STATUS — bounded, 10 s
  local i
  for ((i = 0; i < 100; i++)); do
    [[ "$(task_field "$1" STATUS)" == "$2" ]] && return 0
    sleep 0.1
  done
  fail "task $1 not $2 within 10 s (ctr task ls: $(ctr_ task ls | tr '\n' ' '))"
}

import_image() {
  "$kHelperDir/make-oci-image.sh" "$tmp/busybox-oci.tar" "$kImageRef" ||
    fail "make-oci-image.sh"
  ctr_ images import --snapshotter "$snapshotter" "$tmp/busybox-oci.tar" >/dev/null ||
    fail "ctr images import"
  has_line "$kImageRef" "$(ctr_ images ls -q)" || fail "image $kImageRef not listed after import"
  ok "imported $kImageRef (OCI layout built offline)"
}

run_flags() { # the flags every `ctr run` gets: the runtime under test, fifos and cgroup in ours
  printf '%s\n' --runtime io.containerd.runc.v2 --runc-binary "$runtime" \
    --runc-root "$runc_root" --snapshotter "$snapshotter" --fifo-dir "$tmp/fifo" \
    --cgroup "$cg_parent/$1"
}

test_foreground_run() {
  local out rc=0 flags
  mapfile -t flags < <(run_flags fg1)
  out=$(ctr_ run --rm "${flags[@]}" "$kImageRef" fg1 sh -c 'echo hello; exit 3' \
    2>"$tmp/fg1.err") || rc=$?
  [[ "$out" == hello ]] || fail "foreground run printed '$out', not 'hello' ($(<"$tmp/fg1.err"))"
  [[ $rc -eq 3 ]] || fail "foreground run exited $rc, not 3 ($(<"$tmp/fg1.err"))"
  if has_line fg1 "$(ctr_ containers ls -q)"; then fail "run --rm left container fg1"; fi
  ok "ctr run --rm: output 'hello', exit status 3, container removed"
}

test_detached_run() {
  local flags pid
  mapfile -t flags < <(run_flags c1)
  # exec: pid 1 is sleep, so later checks can read its cmdline from inside the container.
  ctr_ run -d "${flags[@]}" --log-uri "file://$tmp/c1.log" "$kImageRef" c1 \
    sh -c 'echo started; exec sleep 3600' >/dev/null 2>"$tmp/c1.err" ||
    fail "ctr run -d c1: $(<"$tmp/c1.err")"
  wait_task_status c1 RUNNING
  pid=$(task_field c1 PID)
  [[ "$pid" =~ ^[0-9]+$ && -d /proc/$pid ]] || fail "task c1 has no live pid ($pid)"
  ok "ctr run -d: task c1 RUNNING, pid $pid"

  local i
  for ((i = 0; i < 100; i++)); do
    grep -q started "$tmp/c1.log" 2>/dev/null && break
    sleep 0.1
  done
  grep -q started "$tmp/c1.log" || fail "c1's output did not reach its log-uri file"
  ok "c1's stdout reached --log-uri"
}

# The shim ran RUNTIME: its options name it, RUNTIME's own state has the container with the pid
# containerd reports, and the state file is the one that runtime writes.
test_runtime_used() {
  local bundle=$tmp/state/io.containerd.runtime.v2.task/$ns/c1 pid state
  pid=$(task_field c1 PID)
  [[ "$(jq -r .binary_name "$bundle/options.json")" == "$runtime" ]] ||
    fail "bundle options.json binary_name is not $runtime: $(<"$bundle/options.json")"
  state=$("$runtime" --root "$runc_root/$ns" state c1) ||
    fail "$runtime --root $runc_root/$ns state c1 failed"
  [[ "$(jq -r .status <<<"$state")" == running ]] || fail "runtime state: $state"
  [[ "$(jq -r .pid <<<"$state")" == "$pid" ]] ||
    fail "runtime state pid $(jq -r .pid <<<"$state") != task pid $pid"
  has_line c1 "$("$runtime" --root "$runc_root/$ns" list | awk 'NR > 1 {print $1}')" ||
    fail "$runtime list does not show c1"
  local record=$runc_root/$ns/c1/state.json version
  version=$("$runtime" --version)
  if [[ "$version" == berth-runtime* ]]; then
    jq -e 'has("pidStartTime") and has("cgroupPaths")' "$record" >/dev/null ||
      fail "$record is not berth-runtime's ContainerRecord"
  elif [[ "$version" == runc* ]]; then
    jq -e 'has("init_process_pid")' "$record" >/dev/null || fail "$record is not runc's"
  fi
  ok "the shim runs $(basename "$runtime"): options.json, state (pid $pid, running), list, $record"
}

# Every hierarchy's cgroup of the init is this script's own cgroup + $cg_parent/c1. Except on a
# host with cgroup2 alone: there runc (fs2 defaultpath.go) nests a relative path under the
# parent of its own cgroup, which has processes and so can't enable controllers for children.
test_cgroup_nesting() {
  local pid line hier ctrls path own want v2_only=0
  [[ "$(wc -l </proc/self/cgroup)" -eq 1 ]] && v2_only=1
  pid=$(task_field c1 PID)
  while IFS= read -r line; do
    hier=${line%%:*}
    ctrls=${line#*:}
    ctrls=${ctrls%%:*}
    path=${line#*:*:}
    own=$(awk -F: -v h="$hier" '$1 == h { sub(/^[^:]*:[^:]*:/, ""); print }' /proc/self/cgroup)
    ((v2_only)) && own=$(dirname -- "$own")
    want=${own%/}/$cg_parent/c1
    [[ "$path" == "$want" ]] ||
      fail "c1's cgroup in hierarchy $hier ($ctrls) is $path, not $want under this test's own"
  done <"/proc/$pid/cgroup"
  ok "c1's cgroups nest under this test's own cgroup ($cg_parent/c1)"
}

test_exec() {
  local out rc=0
  out=$(ctr_ task exec --fifo-dir "$tmp/fifo" --exec-id x c1 \
    sh -c 'echo exec-ok; tr "\0" " " </proc/1/cmdline' 2>"$tmp/exec.err") ||
    fail "ctr task exec x: $(<"$tmp/exec.err")"
  # /proc/1 seen from the exec is c1's init: the exec joined its pid namespace.
  [[ "$out" == $'exec-ok\nsleep 3600 ' ]] || fail "exec printed '$out'"
  ctr_ task exec --fifo-dir "$tmp/fifo" --exec-id y c1 sh -c 'exit 4' 2>"$tmp/exec.err" || rc=$?
  [[ $rc -eq 4 ]] || fail "exec 'exit 4' gave status $rc ($(<"$tmp/exec.err"))"
  ok "ctr task exec: 'exec-ok' in c1's pid namespace; exit status 4 passed back"

  # The shim lists a task's processes with `RUNTIME ps --format json`.
  local pid
  pid=$(task_field c1 PID)
  has_line "$pid" "$(ctr_ task ps c1 | awk 'NR > 1 {print $1}')" || fail "ctr task ps c1 lacks $pid"
  ok "ctr task ps lists c1's init"
}

test_pause_resume() {
  local pid
  pid=$(task_field c1 PID)
  ctr_ task pause c1 2>"$tmp/pause.err" || fail "ctr task pause: $(<"$tmp/pause.err")"
  wait_task_status c1 PAUSED
  [[ "$(jq -r .status < <("$runtime" --root "$runc_root/$ns" state c1))" == paused ]] ||
    fail "runtime state of paused c1 is not paused"
  [[ "$(freezer_state_of "$pid")" == FROZEN ]] || fail "c1's cgroup is not frozen"
  ok "ctr task pause: PAUSED, runtime state paused, cgroup FROZEN"

  ctr_ task resume c1 2>"$tmp/pause.err" || fail "ctr task resume: $(<"$tmp/pause.err")"
  wait_task_status c1 RUNNING
  [[ "$(freezer_state_of "$pid")" == THAWED ]] || fail "c1's cgroup is still frozen"
  ok "ctr task resume: RUNNING, cgroup THAWED"
}

test_kill_delete() {
  local pid out
  pid=$(task_field c1 PID)
  ctr_ task kill -s SIGKILL c1 2>"$tmp/kill.err" || fail "ctr task kill: $(<"$tmp/kill.err")"
  wait_task_status c1 STOPPED
  ok "ctr task kill -s SIGKILL: STOPPED"

  # ctr reports a non-zero exit status on delete: 137 is 128 + SIGKILL.
  out=$(ctr_ task delete c1 2>&1) || fail "ctr task delete c1: $out"
  [[ "$out" == *"exit code 137"* ]] || fail "ctr task delete c1 did not report 137: $out"
  ctr_ containers delete c1 2>"$tmp/rm.err" || fail "ctr container delete c1: $(<"$tmp/rm.err")"
  [[ -z "$(ctr_ task ls -q)" && -z "$(ctr_ containers ls -q)" ]] ||
    fail "tasks or containers left: $(ctr_ task ls -q) $(ctr_ containers ls -q)"
  [[ ! -d /proc/$pid ]] || fail "c1's init $pid still exists"
  ok "ctr task delete (exit code 137) and ctr container delete: nothing listed"

  # What the runtime's delete must have removed: its state and the container's cgroups.
  [[ ! -e "$runc_root/$ns/c1" ]] || fail "runtime state $runc_root/$ns/c1 left after delete"
  local dir left=""
  while IFS= read -r dir; do
    left+=$(find "$dir" -mindepth 1 -type d)
  done < <(our_cgroup_dirs)
  [[ -z "$left" ]] || fail "container cgroups left after delete: $left"
  if grep -qF " $tmp/state/" /proc/self/mountinfo; then fail "rootfs mounted after delete"; fi
  ok "runtime state, container cgroups and rootfs mount gone after delete"
}

# ---------------------------------------------------------------------------------------------
# Cleanup: runs on every exit path. Only what this run created: found through the temp dir,
# this run's unique namespace and cgroup parent, and the shim sockets of its container ids.
shim_socket() { # shim_socket ID — the path the runc v2 shim listens on for ID
  local hex
  hex=$(printf '%s' "$sock/$ns/$1" | sha256sum | cut -d' ' -f1)
  echo "/run/containerd/s/$hex"
}

# PIDs of containerd (--config $tmp/config.toml), of the shims (-address $sock) and of any ctr of
# ours still running (--address $sock). Not any command naming $tmp: this script's own awk and
# grep helpers in process substitutions do, and may still be exiting.
our_daemon_pids() {
  local p cmd
  for p in /proc/[0-9]*; do
    cmd=$(tr '\0' ' ' 2>/dev/null <"$p/cmdline") || continue # it may have just exited
    [[ "$cmd" == *"--config $tmp/config.toml"* || "$cmd" == *"-address $sock "* ]] &&
      echo "${p#/proc/}"
  done
  return 0
}

# Thaws and SIGKILLs every process in this run's container cgroups, waits, removes the cgroups.
remove_our_cgroups() {
  local dir d pid i
  while IFS= read -r dir; do
    while IFS= read -r d; do
      [[ -f "$d/freezer.state" ]] && echo THAWED >"$d/freezer.state" 2>/dev/null
      [[ -f "$d/cgroup.freeze" ]] && echo 0 >"$d/cgroup.freeze" 2>/dev/null
      while IFS= read -r pid; do
        kill -KILL "$pid" 2>/dev/null || true
      done <"$d/cgroup.procs"
    done < <(find "$dir" -type d)
    for ((i = 0; i < 50; i++)); do
      [[ -z "$(find "$dir" -name cgroup.procs -exec cat {} +)" ]] && break
      sleep 0.1
    done
    find "$dir" -depth -type d -exec rmdir {} + 2>/dev/null || true
  done < <(our_cgroup_dirs)
}

unmount_under_tmp() {
  local mp
  # Last mounted first: tac of mountinfo; mount points are octal-escaped there (\040).
  while IFS= read -r mp; do
    mp=$(printf '%b' "$mp")
    umount -- "$mp" 2>/dev/null || umount -l -- "$mp" 2>/dev/null || true
  done < <(tac /proc/self/mountinfo | awk -v t="$tmp/" 'index($5, t) == 1 {print $5}')
}

leftovers() { # prints what this run left behind, one item a line
  local id pid
  grep -F " $tmp/" /proc/self/mountinfo | awk '{print "mount " $5}' || true
  for pid in $(our_daemon_pids); do
    echo "process $pid $(tr '\0' ' ' 2>/dev/null <"/proc/$pid/cmdline")"
  done
  our_cgroup_dirs | sed 's/^/cgroup /'
  for id in "${container_ids[@]}"; do
    [[ -e "$(shim_socket "$id")" ]] && echo "socket $(shim_socket "$id")"
  done
  [[ -e "/run/containerd/runc/$ns" ]] && echo "dir /run/containerd/runc/$ns"
  [[ -e "$tmp" ]] && echo "dir $tmp"
  return 0
}

cleanup() {
  local status=$? i id pid dir
  trap - EXIT INT TERM
  set +e
  [[ -n "$tmp" ]] || exit "$status"
  ((status == 0 || status == 77 || diagnosed)) || dump_diagnostics
  # Gracefully first, so the shims remove their sockets and containerd unmounts the rootfs.
  if [[ -n "$containerd_pid" ]] && kill -0 "$containerd_pid" 2>/dev/null; then
    ctr_timeout=10
    for id in $(ctr_ task ls -q 2>/dev/null); do
      ctr_ task delete --force "$id" >/dev/null 2>&1
    done
    for id in $(ctr_ containers ls -q 2>/dev/null); do
      ctr_ containers delete "$id" >/dev/null 2>&1
    done
  fi
  remove_our_cgroups
  stop_containerd
  # Shims outlive containerd by design: end ours (their -address is our socket), by PID.
  for pid in $(our_daemon_pids); do kill -KILL "$pid" 2>/dev/null; done
  for ((i = 0; i < 50; i++)); do
    [[ -z "$(our_daemon_pids)" ]] && break
    sleep 0.1
  done
  remove_our_cgroups
  unmount_under_tmp
  for id in "${container_ids[@]}"; do rm -f -- "$(shim_socket "$id")"; done
  rm -rf -- "/run/containerd/runc/$ns"
  # Directories under /run/containerd that this run created, deepest first, only if empty
  # (another containerd may have started to use them meanwhile).
  for ((i = ${#created_run_dirs[@]} - 1; i >= 0; i--)); do
    dir=${created_run_dirs[i]}
    [[ -d "$dir" ]] && rmdir -- "$dir" 2>/dev/null
  done
  rm -rf --one-file-system -- "$tmp"

  local left
  left=$(leftovers)
  if [[ -n "$left" ]]; then
    echo "not ok - left behind:" >&2
    echo "$left" >&2
    ((status == 0)) && status=1
  elif ((status == 0)); then
    ok "nothing left: mounts, processes, cgroups, shim sockets, temp dir"
  fi
  case $status in
    0) echo "containerd-interop: $passed passed, 0 failed" ;;
    77) ;;
    *) echo "containerd-interop: $passed passed, 1 failed" ;;
  esac
  exit "$status"
}

# ---------------------------------------------------------------------------------------------
main() {
  [[ $# -eq 1 && -n "$1" ]] || {
    echo "usage: $0 RUNTIME   (berth-runtime, or /usr/sbin/runc to check the test)" >&2
    exit 2
  }
  [[ $EUID -eq 0 ]] || skip "needs root (containerd, mounts, cgroups)"
  [[ -x "$1" ]] || fail "runtime $1 is not an executable"
  ensure_packages

  local dir
  for dir in /run/containerd /run/containerd/s /run/containerd/fifo /run/containerd/runc; do
    [[ -e "$dir" ]] || created_run_dirs+=("$dir")
  done
  tmp=$(mktemp -d "${TMPDIR:-/tmp}/berth-ctrd.XXXXXX")
  trap cleanup EXIT
  trap 'exit 130' INT
  trap 'exit 143' TERM
  sock=$tmp/containerd.sock
  # sun_path holds 107 bytes, and containerd adds ".ttrpc" for its second socket.
  ((${#sock} + 6 <= 107)) || fail "temp dir path too long for a unix socket: $tmp (set TMPDIR)"
  # Unique per run, so cleanup can tell this run's cgroups and runtime dirs from anyone else's.
  ns=berth-test-${tmp##*.}
  cg_parent=$ns
  runc_root=$tmp/runc-root
  mkdir -p "$tmp/bin" "$tmp/fifo"
  # A copy: the build dir may be rebuilt while the test runs, and the shim execs the binary
  # for every operation.
  runtime=$tmp/bin/$(basename -- "$1")
  cp -- "$1" "$runtime"
  # The overlayfs snapshotter can't put its upper dirs on an overlayfs.
  snapshotter=overlayfs
  [[ "$(stat -f -c %T "$tmp")" == overlayfs ]] && snapshotter=native
  log "runtime $1, namespace $ns, temp dir $tmp, snapshotter $snapshotter"

  start_containerd
  import_image
  test_foreground_run
  test_detached_run
  test_runtime_used
  test_cgroup_nesting
  test_exec
  test_pause_resume
  test_kill_delete
}

main "$@"
