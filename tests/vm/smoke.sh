#!/bin/bash
# smoke.sh BERTH_RUNTIME FIXTURES_DIR — the vm.smoke test, run INSIDE the VM by run-in-vm.sh.
#
# Checks that the VM is what the tier promises (systemd as PID 1, a pure cgroup v2 hierarchy with
# the memory, pids and cpu controllers) and that a berth-runtime binary from the host build runs
# a busybox container in it, with its output and exit status passed through.
set -euo pipefail

fail() {
  echo "FAIL: $*" >&2
  exit 1
}
pass() { echo "ok: $*"; }

check_systemd() {
  local pid1
  pid1=$(cat /proc/1/comm)
  [[ $pid1 == systemd ]] || fail "PID 1 is $pid1, not systemd"
  pass "PID 1 is systemd ($(systemctl is-system-running || true))"
  # The systemd driver talks to systemd over D-Bus: the system bus must be there.
  busctl --system status >/dev/null || fail "no D-Bus system bus"
  pass "D-Bus system bus answers"
}

check_cgroup2() {
  local fstype controllers c
  fstype=$(stat -fc %T /sys/fs/cgroup)
  [[ $fstype == cgroup2fs ]] || fail "/sys/fs/cgroup is $fstype, not cgroup2"
  [[ ! -e /sys/fs/cgroup/unified ]] || fail "hybrid layout: /sys/fs/cgroup/unified exists"
  controllers=$(cat /sys/fs/cgroup/cgroup.controllers)
  echo "cgroup.controllers: $controllers"
  for c in memory pids cpu; do
    [[ " $controllers " == *" $c "* ]] || fail "controller $c missing from cgroup.controllers"
  done
  pass "/sys/fs/cgroup is cgroup2 with memory, pids and cpu"
}

# $1: expected exit status; rest: make-bundle.sh ARGS. Prints the container's output.
run_container() {
  local want=$1
  shift
  "$fixtures/make-bundle.sh" "$work/bundle" -- "$@" >/dev/null
  local rc=0
  (cd "$work/bundle" && "$runtime" --root "$work/state" run "smoke-$want") || rc=$?
  [[ $rc -eq $want ]] || fail "berth-runtime run exited $rc, expected $want"
}

check_runtime() {
  local out line
  # The bundle lives on the VM's own disk, not on a 9p share: pivot_root and overlay-style
  # mounts of a rootfs are meant to be tested on ext4.
  # shellcheck disable=SC2016 # expanded by the container's shell
  out=$(run_container 0 sh -c 'echo "hello from $(hostname)"; echo "pid $$"; cat /proc/self/cgroup')
  echo "container said:"
  while IFS= read -r line; do
    echo "  | $line"
  done <<<"$out"
  grep -qx 'hello from berth' <<<"$out" || fail "container output lacks 'hello from berth'"
  grep -qx 'pid 1' <<<"$out" || fail "container process is not PID 1 of its namespace"
  local own container
  own=$(sed -n 's/^0:://p' /proc/self/cgroup)
  container=$(sed -n 's/^0:://p' <<<"$out")
  [[ -n "$container" && "$container" != "$own" ]] ||
    fail "container cgroup '$container' is not its own (ours: $own)"
  pass "berth-runtime ran a busybox container in cgroup $container"

  run_container 7 sh -c 'exit 7' >/dev/null
  pass "container exit status 7 passed through"
}

main() {
  [[ $# -eq 2 ]] || {
    echo "usage: $0 BERTH_RUNTIME FIXTURES_DIR" >&2
    exit 2
  }
  runtime=$1
  fixtures=$2
  [[ -x "$runtime" ]] || fail "$runtime is not executable here (not under a --share?)"
  work=$(mktemp -d /var/tmp/berth-smoke.XXXXXX)
  trap 'rm -rf -- "$work"' EXIT

  check_systemd
  check_cgroup2
  check_runtime
  echo "vm.smoke: all checks passed"
}

main "$@"
