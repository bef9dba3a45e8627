#!/bin/bash
# make-image.sh [--force] — builds (or reuses) the boot image of the `vm` test tier and prints the
# directory that holds it: rootfs.img (raw ext4), vmlinuz, initrd.img, cmdline.
#
# The image is a debootstrap minbase bookworm with systemd as PID 1, Debian's own kernel
# (linux-image-amd64, installed in the image so that /lib/modules matches the kernel: 9p, overlay,
# veth load inside the VM), and the guest half of run-in-vm.sh (guest/berth-vm-run and its unit).
#
# Cache: ${BERTH_VM_CACHE:-/var/cache/berth-vm}/image-KEY, KEY = sha256 of this script (package
# list included) and guest/*. A build goes to a temp dir and is renamed into place, so a reader
# never sees half an image; older image-* dirs are removed after a new one is in place (a running
# VM is unaffected: run-in-vm.sh works on hard links). Downloaded .debs are kept in the cache too.
#
# Host packages (qemu-system-x86, qemu-utils, debootstrap, e2fsprogs) are installed with apt-get
# when missing. Exit 77 when the image can't be built here (not root, not x86_64, packages not
# installable), 1 on a real failure.
#
# Environment: BERTH_VM_CACHE, BERTH_VM_MIRROR (default http://deb.debian.org/debian, the mirror
# the host's apt uses).
set -euo pipefail

vm_dir=$(dirname -- "$(realpath -- "${BASH_SOURCE[0]}")")
readonly vm_dir
readonly kCache=${BERTH_VM_CACHE:-/var/cache/berth-vm}
readonly kMirror=${BERTH_VM_MIRROR:-http://deb.debian.org/debian}
readonly kSuite=bookworm
# What the tests need in the VM. busybox-static and jq: tests/fixtures/make-bundle.sh runs inside;
# apparmor: apparmor_parser, to load the profile the runtime's AppArmor test applies.
# berth-cri and its integration test are dynamic: their libraries (grpc++, protobuf, curl,
# libarchive, yaml-cpp, libmnl, libseccomp) and docker-registry for the test's local registry.
# The CNI tests: nftables (nft, and the libnftables our plugins load) and the reference plugins.
# The CRI tests: runc and crun as runtime handlers, python3-websocket for the streaming client.
readonly kGuestPackages=(
  systemd systemd-sysv dbus udev kmod iproute2 procps busybox-static jq apparmor linux-image-amd64
  libgrpc++1.51 libprotobuf32 libcurl4 libarchive13 libyaml-cpp0.7 libmnl0 libseccomp2
  docker-registry nftables containernetworking-plugins runc crun python3 python3-websocket
)
# Executable -> Debian package, for the host.
readonly -A kHostTools=(
  [qemu-system-x86_64]=qemu-system-x86
  [qemu-img]=qemu-utils
  [debootstrap]=debootstrap
  [mkfs.ext4]=e2fsprogs
  [flock]=util-linux
)
# Sparse file; what the guest writes goes to run-in-vm.sh's qcow2 overlay, not here.
readonly kImageSize=3G
readonly kSkip=77

log() { echo "make-image: $*" >&2; }
die() {
  log "$*"
  exit 1
}
skip() {
  log "SKIP: $*"
  exit "$kSkip"
}

check_host() {
  [[ $EUID -eq 0 ]] || skip "needs root (debootstrap, mkfs of a root filesystem, $kCache)"
  [[ $(uname -m) == x86_64 ]] || skip "needs an x86_64 host (qemu-system-x86_64 runs amd64 guest)"
}

# CI machines start bare: install what is missing rather than skipping.
ensure_host_tools() {
  local tool
  local -a missing=()
  for tool in "${!kHostTools[@]}"; do
    command -v "$tool" >/dev/null || missing+=("${kHostTools[$tool]}")
  done
  [[ ${#missing[@]} -gt 0 ]] || return 0
  log "installing host packages: ${missing[*]}"
  command -v apt-get >/dev/null || skip "missing ${missing[*]} and no apt-get to install them"
  # apt's output is long: shown only when the install fails.
  local apt_log
  apt_log=$(mktemp /tmp/berth-vm-apt.XXXXXX)
  # A stale or unreachable extra source must not stop the install from Debian's own mirror.
  apt-get update -qq >"$apt_log" 2>&1 || log "apt-get update reported errors; trying anyway"
  if ! DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends \
    "${missing[@]}" >>"$apt_log" 2>&1; then
    tail -n 20 "$apt_log" >&2
    rm -f -- "$apt_log"
    skip "could not install ${missing[*]} with apt-get"
  fi
  rm -f -- "$apt_log"
  for tool in "${!kHostTools[@]}"; do
    command -v "$tool" >/dev/null || skip "$tool still missing after installing ${kHostTools[$tool]}"
  done
}

# Everything that decides the image's content; a change to any of it means a new image.
image_key() {
  {
    cat -- "${BASH_SOURCE[0]}"
    cat -- "$vm_dir"/guest/*
    echo "$kMirror $kSuite"
  } | sha256sum | cut -c1-16
}

run_debootstrap() {
  local root=$1
  local includes
  includes=$(
    IFS=,
    echo "${kGuestPackages[*]}"
  )
  mkdir -p "$kCache/debs"
  log "debootstrap --variant=minbase $kSuite ($kMirror)"
  # Its log is long: shown only when debootstrap fails, and kept outside the build dir (which
  # the EXIT trap removes).
  local log_file=$kCache/debootstrap.log
  if ! debootstrap --variant=minbase --include="$includes" --cache-dir="$kCache/debs" \
    "$kSuite" "$root" "$kMirror" >"$log_file" 2>&1; then
    if [[ -f "$root/debootstrap/debootstrap.log" ]]; then
      cat -- "$root/debootstrap/debootstrap.log" >>"$log_file"
    fi
    tail -n 40 "$log_file" >&2
    die "debootstrap failed (full log: $log_file)"
  fi
}

# A fixed machine-id: an empty one makes systemd treat every boot as a first boot
# (ConditionFirstBoot units, systemd-firstboot prompts on the console).
configure_system() {
  local root=$1 uuid=$2
  echo berth-vm >"$root/etc/hostname"
  printf '127.0.0.1\tlocalhost\n127.0.1.1\tberth-vm\n::1\tlocalhost ip6-localhost\n' \
    >"$root/etc/hosts"
  # Pass 0: the root is a fresh throwaway overlay every boot, fsck would only cost time.
  echo "UUID=$uuid / ext4 rw,errors=remount-ro 0 0" >"$root/etc/fstab"
  tr -d - </proc/sys/kernel/random/uuid >"$root/etc/machine-id"
  # Interactive and periodic units have nothing to do in a test VM and would only compete with
  # the test for the two emulated CPUs (apt-daily would even try the network).
  # docker-registry's own service too: tests start registries of their own on 127.0.0.1.
  systemctl --root="$root" --quiet mask \
    getty@.service serial-getty@.service systemd-firstboot.service \
    apt-daily.timer apt-daily-upgrade.timer e2scrub_all.timer fstrim.timer \
    docker-registry.service
}

install_guest_agent() {
  local root=$1
  install -m 0755 "$vm_dir/guest/berth-vm-run" "$root/usr/local/sbin/berth-vm-run"
  install -m 0644 "$vm_dir/guest/berth-vm-run.service" "$root/etc/systemd/system/"
  systemctl --root="$root" --quiet enable berth-vm-run.service
}

# Documentation, locales and the .debs are a third of the tree and mkfs copies every byte.
trim_rootfs() {
  local root=$1
  rm -rf "$root"/var/cache/apt/archives/*.deb "$root"/var/lib/apt/lists/* \
    "$root"/usr/share/doc/* "$root"/usr/share/man/* "$root"/usr/share/locale/* \
    "$root"/usr/share/info/*
}

# The kernel and initrd are read by qemu from the host (-kernel/-initrd): no bootloader needed.
extract_boot() {
  local root=$1 out=$2
  local -a kernels initrds
  mapfile -t kernels < <(compgen -G "$root/boot/vmlinuz-*")
  mapfile -t initrds < <(compgen -G "$root/boot/initrd.img-*")
  [[ ${#kernels[@]} -eq 1 && ${#initrds[@]} -eq 1 ]] ||
    die "expected one kernel and one initrd in $root/boot, found: ${kernels[*]} ${initrds[*]}"
  cp -- "${kernels[0]}" "$out/vmlinuz"
  cp -- "${initrds[0]}" "$out/initrd.img"
  basename -- "${kernels[0]}" | sed 's/^vmlinuz-//' >"$out/kernel-version"
}

# Written out by the builder so that run-in-vm.sh needs no knowledge of the image's root device.
# mitigations=off: TCG gains nothing from them and page-table isolation makes it slower.
# show_status=auto: quiet, but a unit that holds up the boot is named on the console, which
# run-in-vm.sh shows when a run fails.
write_cmdline() {
  local out=$1 uuid=$2
  echo "root=UUID=$uuid rw console=ttyS0 panic=-1 mitigations=off" \
    "systemd.unified_cgroup_hierarchy=1 systemd.show_status=auto loglevel=4" >"$out/cmdline"
}

make_filesystem() {
  local root=$1 img=$2 uuid=$3
  truncate -s "$kImageSize" "$img"
  # lazy_itable_init=0: otherwise the guest kernel zeroes inode tables in the background on every
  # boot, competing with the test for CPU.
  mkfs.ext4 -q -F -L berth-vm -U "$uuid" -E lazy_itable_init=0,lazy_journal_init=0 \
    -d "$root" "$img"
}

build_image() {
  local dest=$1
  local tmp
  tmp=$(mktemp -d "$kCache/.build.XXXXXX")
  # shellcheck disable=SC2064 # expand now: tmp is local
  trap "rm -rf -- $(printf %q "$tmp")" EXIT
  local root=$tmp/rootfs uuid
  uuid=$(cat /proc/sys/kernel/random/uuid)
  mkdir -p "$tmp/out"

  local start=$SECONDS
  run_debootstrap "$root"
  log "debootstrap done in $((SECONDS - start)) s"
  configure_system "$root" "$uuid"
  install_guest_agent "$root"
  extract_boot "$root" "$tmp/out"
  trim_rootfs "$root"
  write_cmdline "$tmp/out" "$uuid"
  make_filesystem "$root" "$tmp/out/rootfs.img" "$uuid"
  date -u +%FT%TZ >"$tmp/out/built"
  mv -T -- "$tmp/out" "$dest"
  rm -rf -- "$tmp"
  trap - EXIT
  log "image built in $((SECONDS - start)) s: $dest"
}

prune_old_images() {
  local keep=$1 dir
  for dir in "$kCache"/image-* "$kCache"/.build.*; do
    [[ -e "$dir" && "$dir" != "$keep" ]] || continue
    log "removing old $dir"
    rm -rf -- "$dir"
  done
}

main() {
  local force=0
  case "${1-}" in
    --force) force=1 ;;
    "") ;;
    *)
      echo "usage: $0 [--force]" >&2
      exit 2
      ;;
  esac
  check_host
  ensure_host_tools
  mkdir -p "$kCache"
  # One builder at a time; run-in-vm.sh takes the same lock (shared) while it links an image.
  exec {lock_fd}>"$kCache/.lock"
  flock "$lock_fd"

  local dest
  dest="$kCache/image-$(image_key)"
  if [[ $force -eq 1 && -e "$dest" ]]; then
    rm -rf -- "$dest"
  fi
  if [[ -f "$dest/built" ]]; then
    log "up to date: $dest"
  else
    build_image "$dest"
  fi
  prune_old_images "$dest"
  echo "$dest"
}

main "$@"
