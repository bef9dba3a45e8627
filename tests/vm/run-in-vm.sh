#!/bin/bash
# run-in-vm.sh [--share DIR]... [--timeout SECONDS] -- COMMAND [ARGS...]
#
# Boots the `vm` tier image (make-image.sh: Debian's kernel, systemd as PID 1, cgroup v2 with all
# controllers) under qemu with TCG, runs COMMAND in it as root once systemd has finished booting,
# streams its output (stdout and stderr merged) and exits with COMMAND's exit status.
#
# Each --share DIR is a host directory the VM mounts with virtio-9p at the same path, read-write,
# so paths (a build's binaries, tests/fixtures) mean the same inside; the command starts in the
# current directory when that is under a share, else in /. A share inside another share is
# already visible and is skipped.
#
# The image is never written: the VM's root disk is a qcow2 overlay thrown away on exit. The VM
# has no network device. Timeout (default 900 s, BERTH_VM_TIMEOUT): qemu is killed and the run
# fails with the end of the console log.
#
# Exit: COMMAND's status (so 77 from COMMAND is a skip for ctest too); 77 when no VM can be run
# here (not root, packages not installable); 1 when the VM failed (boot, timeout, protocol).
# Environment: BERTH_VM_CACHE (make-image.sh), BERTH_VM_TIMEOUT, BERTH_VM_SMP (2),
# BERTH_VM_MEMORY (MiB, 2048), BERTH_VM_CONSOLE=FILE (keep the serial console log there).
set -euo pipefail

vm_dir=$(dirname -- "$(realpath -- "${BASH_SOURCE[0]}")")
readonly vm_dir
readonly kCache=${BERTH_VM_CACHE:-/var/cache/berth-vm}
readonly kSkip=77
# Mounting over these would break the guest system itself.
readonly kSystemDirs=(/bin /boot /dev /etc /lib /lib64 /proc /run /sbin /sys /usr)

# Set by parse_args.
timeout_s=${BERTH_VM_TIMEOUT:-900}
shares=()
command_argv=()
# Set while running, read by cleanup.
run_dir=
qemu_pid=
tail_pid=

log() { echo "run-in-vm: $*" >&2; }
die() {
  log "$*"
  exit 1
}
skip() {
  log "SKIP: $*"
  exit "$kSkip"
}
usage() {
  echo "usage: $0 [--share DIR]... [--timeout SECONDS] -- COMMAND [ARGS...]" >&2
  exit 2
}

# Every exit path, signals included (see the traps in main), stops qemu and removes the overlay.
cleanup() {
  local pid
  for pid in "$tail_pid" "$qemu_pid"; do
    if [[ -n "$pid" ]]; then
      kill "$pid" 2>/dev/null || true
    fi
  done
  if [[ -n "$qemu_pid" ]]; then
    wait "$qemu_pid" 2>/dev/null || true
  fi
  if [[ -n "$run_dir" ]]; then
    if [[ -n "${BERTH_VM_CONSOLE-}" && -f "$run_dir/console.log" ]]; then
      cp -- "$run_dir/console.log" "$BERTH_VM_CONSOLE" || true
    fi
    rm -rf -- "$run_dir"
  fi
}

is_system_dir() {
  local path=$1 dir
  [[ "$path" == / || "$path" == /var ]] && return 0
  for dir in "${kSystemDirs[@]}"; do
    [[ "$path" == "$dir" || "$path" == "$dir"/* ]] && return 0
  done
  return 1
}

add_share() {
  [[ -d "$1" ]] || die "--share $1: not a directory"
  local path
  path=$(realpath -- "$1")
  is_system_dir "$path" && die "--share $path: would hide the VM's own $path"
  # Paths travel NUL-separated, but 9p mount options and the console log would choke on these.
  [[ "$path" != *[$'\n\t,']* ]] || die "--share $path: newline, tab or comma in the path"
  shares+=("$path")
}

parse_args() {
  while [[ $# -gt 0 ]]; do
    case "$1" in
      --share)
        [[ $# -ge 2 ]] || usage
        add_share "$2"
        shift 2
        ;;
      --timeout)
        [[ $# -ge 2 && "$2" =~ ^[1-9][0-9]*$ ]] || usage
        timeout_s=$2
        shift 2
        ;;
      --)
        shift
        break
        ;;
      *) usage ;;
    esac
  done
  [[ $# -gt 0 ]] || usage
  command_argv=("$@")
}

# Sorted, a share is inside an earlier one exactly when that one is a prefix of it.
dedupe_shares() {
  local -a sorted kept=()
  local path top
  [[ ${#shares[@]} -gt 0 ]] || return 0
  mapfile -t sorted < <(printf '%s\n' "${shares[@]}" | sort -u)
  for path in "${sorted[@]}"; do
    for top in "${kept[@]}"; do
      [[ "$path" == "$top" || "$path" == "$top"/* ]] && continue 2
    done
    kept+=("$path")
  done
  shares=("${kept[@]}")
}

# make-image.sh is quick when the image is up to date; its 77 (can't build here) is ours too.
find_image() {
  local rc=0 dir
  dir=$("$vm_dir/make-image.sh") || rc=$?
  case $rc in
    0) echo "$dir" ;;
    "$kSkip") exit "$kSkip" ;;
    *) die "make-image.sh failed (exit $rc)" ;;
  esac
}

# Runs killed with SIGKILL leave their run dir behind; one whose lock nobody holds is stale.
remove_stale_runs() {
  local dir
  for dir in "$kCache"/runs/run.*; do
    [[ -d "$dir" ]] || continue
    if flock -n "$dir/lock" true 2>/dev/null; then
      rm -rf -- "$dir"
    fi
  done
}

# Hard links, taken under make-image.sh's lock: a newer make-image.sh may replace the image while
# this VM runs, and the links keep this run's copy alive.
link_image() {
  local image=$1 file lock_fd
  exec {lock_fd}>"$kCache/.lock"
  flock -s "$lock_fd"
  for file in rootfs.img vmlinuz initrd.img cmdline; do
    ln -- "$image/$file" "$run_dir/$file" ||
      die "$image/$file vanished (replaced by a concurrent make-image.sh?): run again"
  done
  exec {lock_fd}>&-
}

# The job disk: a tar that the guest (guest/berth-vm-run) unpacks. tar pads to 10 KiB, a whole
# number of sectors.
write_job() {
  local job=$run_dir/job i
  mkdir "$job"
  printf '%s\0' "${command_argv[@]}" >"$job/argv"
  printf '%s' "$PWD" >"$job/cwd"
  : >"$job/shares"
  for i in "${!shares[@]}"; do
    printf 'berth%d\0%s\0' "$i" "${shares[i]}" >>"$job/shares"
  done
  tar --owner=0 --group=0 -cf "$run_dir/job.tar" -C "$job" .
}

qemu_args() {
  local i
  # shellcheck disable=SC2054 # the commas are qemu's option syntax
  local -a args=(
    -nodefaults -no-user-config -display none -no-reboot
    -machine pc -accel tcg -smp "${BERTH_VM_SMP:-2}" -m "${BERTH_VM_MEMORY:-2048}"
    -kernel "$run_dir/vmlinuz" -initrd "$run_dir/initrd.img" -append "$(<"$run_dir/cmdline")"
    -serial "file:$run_dir/console.log"
    # cache=unsafe: the overlay is discarded, flushes would only cost time.
    -drive "file=$run_dir/overlay.qcow2,format=qcow2,if=none,id=root,cache=unsafe,discard=unmap"
    -device virtio-blk-pci,drive=root
    -drive "file=$run_dir/job.tar,format=raw,if=none,id=job,readonly=on"
    -device virtio-blk-pci,drive=job,serial=berth-job
    -device virtio-serial-pci
    # append=on: tail is already following the file; a truncation would confuse it.
    -chardev "file,id=out,path=$run_dir/out.log,append=on"
    -device virtserialport,chardev=out,name=berth.out
    -chardev "file,id=status,path=$run_dir/status.log,append=on"
    -device virtserialport,chardev=status,name=berth.status
    # Entropy for the guest's early boot; TCG has no RDRAND by default.
    -device virtio-rng-pci
  )
  for i in "${!shares[@]}"; do
    # multidevs=remap: a share spanning host filesystems keeps unique inode numbers in the guest.
    args+=(-virtfs
      "local,path=${shares[i]},mount_tag=berth$i,security_model=none,multidevs=remap,id=share$i")
  done
  printf '%s\0' "${args[@]}"
}

# qemu runs under timeout(1) for the deadline; the pdeathsig chain (this shell -> timeout ->
# qemu) stops the VM even when this script is killed with SIGKILL and no trap runs.
start_qemu() {
  local -a args
  mapfile -d '' args < <(qemu_args)
  : >"$run_dir/out.log"
  : >"$run_dir/status.log"
  setpriv --pdeathsig TERM -- timeout --kill-after=10 "$timeout_s" \
    setpriv --pdeathsig KILL -- qemu-system-x86_64 "${args[@]}" \
    </dev/null >"$run_dir/qemu.log" 2>&1 &
  qemu_pid=$!
}

# Streams the command's output until qemu exits; returns qemu's (or timeout's) exit status.
stream_output() {
  tail -n +1 -f --pid="$qemu_pid" -- "$run_dir/out.log" &
  tail_pid=$!
  local rc=0
  wait "$qemu_pid" || rc=$?
  qemu_pid=
  # tail notices qemu is gone within its 1 s poll and prints what is left first.
  wait "$tail_pid" || true
  tail_pid=
  return "$rc"
}

show_console() {
  log "last lines of the serial console:"
  tail -n 40 -- "$run_dir/console.log" >&2 || true
  if [[ -s "$run_dir/qemu.log" ]]; then
    log "qemu said:"
    cat -- "$run_dir/qemu.log" >&2
  fi
}

# Turns the status port's lines into this script's exit status.
report() {
  local qemu_rc=$1 elapsed=$2
  local word rest ready_at="" exit_line=""
  while read -r word rest; do
    case "$word" in
      READY) ready_at=${rest%% *} ;;
      EXIT) exit_line=$rest ;;
      ERROR)
        show_console
        die "the VM could not run the command: $rest"
        ;;
    esac
  done <"$run_dir/status.log"
  if [[ $qemu_rc -eq 124 || $qemu_rc -eq 137 ]]; then
    show_console
    die "timed out after $timeout_s s (systemd up: ${ready_at:-never}), qemu killed"
  fi
  if [[ -z "$exit_line" ]]; then
    show_console
    die "the VM stopped (qemu exit $qemu_rc) without reporting the command's exit status"
  fi
  local rc=${exit_line%% *} finished_at=${exit_line#* }
  log "exit $rc; systemd up ${ready_at} s after kernel start, command done at ${finished_at} s," \
    "total ${elapsed} s"
  return "$rc"
}

main() {
  parse_args "$@"
  [[ $EUID -eq 0 ]] || skip "needs root (image build with debootstrap, cache in $kCache)"
  dedupe_shares
  local image
  image=$(find_image)

  trap cleanup EXIT
  trap 'exit 130' INT
  trap 'exit 143' TERM
  mkdir -p "$kCache/runs"
  remove_stale_runs
  run_dir=$(mktemp -d "$kCache/runs/run.XXXXXX")
  # Held until exit: marks this run dir as in use for remove_stale_runs.
  exec {run_lock}>"$run_dir/lock"
  flock -n "$run_lock"

  local start=$SECONDS
  link_image "$image"
  qemu-img create -q -f qcow2 -F raw -b "$run_dir/rootfs.img" "$run_dir/overlay.qcow2"
  write_job
  log "booting $(basename -- "$image") (${#shares[@]} shares, timeout ${timeout_s} s)"
  start_qemu
  local qemu_rc=0
  stream_output || qemu_rc=$?
  report "$qemu_rc" "$((SECONDS - start))"
}

main "$@"
