#!/bin/bash
# make-oci-image.sh OUT.tar REF — write a busybox image as an OCI image-layout tarball, offline.
#
# The rootfs comes from tests/fixtures/make-busybox-rootfs.sh (Debian's busybox-static, applets as
# hard links). The image has one uncompressed layer, a config with Cmd ["sh"] and PATH, one
# manifest, and an index.json whose manifest descriptor carries the
# org.opencontainers.image.ref.name annotation: `ctr images import` names the image after it.
# Layout: image-spec image-layout.md (oci-layout, index.json, blobs/sha256/<hex>).
#
# The layer tar is reproducible (sorted names, fixed mtime, numeric root owner), so two builds of
# the same busybox give the same digests.
set -euo pipefail

die() {
  echo "make-oci-image: $*" >&2
  exit 1
}

[[ $# -eq 2 && -n "$1" && -n "$2" ]] || {
  echo "usage: $0 OUT.tar REF" >&2
  exit 2
}
readonly kOut=$1 kRef=$2
kFixtures=$(cd "$(dirname "${BASH_SOURCE[0]}")/../../fixtures" && pwd)
readonly kFixtures

# GOARCH names, which image configs and index platforms use (image-spec config.md "architecture").
go_arch() {
  local deb
  deb=$(dpkg --print-architecture)
  case "$deb" in
    amd64 | arm64 | s390x | ppc64el | riscv64 | mips64el | i386)
      sed -e 's/^ppc64el$/ppc64le/' -e 's/^mips64el$/mips64le/' -e 's/^i386$/386/' <<<"$deb"
      ;;
    armhf | armel) echo arm ;;
    *) die "no GOARCH known for Debian architecture $deb" ;;
  esac
}

# Stores FILE as a blob and prints its descriptor fields "sha256:<hex> <size>".
add_blob() {
  local file=$1 blobs=$2 hex size
  hex=$(sha256sum -- "$file" | cut -d' ' -f1)
  size=$(stat -c %s -- "$file")
  mv -- "$file" "$blobs/$hex"
  echo "sha256:$hex $size"
}

main() {
  local work
  work=$(mktemp -d)
  # shellcheck disable=SC2064 # expand now: $work is local
  trap "rm -rf -- $(printf %q "$work")" EXIT
  local layout=$work/layout blobs=$work/layout/blobs/sha256
  mkdir -p "$blobs"

  "$kFixtures/make-busybox-rootfs.sh" "$work/rootfs"
  # Uncompressed, so the layer digest is also the config's diff_id.
  tar --sort=name --mtime=@0 --owner=0 --group=0 --numeric-owner --format=posix \
    --pax-option=exthdr.name=%d/PaxHeaders/%f,delete=atime,delete=ctime \
    -C "$work/rootfs" -cf "$work/layer.tar" .
  local layer_digest layer_size
  read -r layer_digest layer_size < <(add_blob "$work/layer.tar" "$blobs")

  local arch
  arch=$(go_arch)
  jq -cn --arg arch "$arch" --arg diff "$layer_digest" '{
      architecture: $arch, os: "linux",
      config: {
        Env: ["PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin"],
        Cmd: ["sh"]
      },
      rootfs: {type: "layers", diff_ids: [$diff]}
    }' >"$work/config.json"
  local config_digest config_size
  read -r config_digest config_size < <(add_blob "$work/config.json" "$blobs")

  jq -cn --arg cd "$config_digest" --argjson cs "$config_size" \
    --arg ld "$layer_digest" --argjson ls "$layer_size" '{
      schemaVersion: 2,
      mediaType: "application/vnd.oci.image.manifest.v1+json",
      config: {mediaType: "application/vnd.oci.image.config.v1+json", digest: $cd, size: $cs},
      layers: [{mediaType: "application/vnd.oci.image.layer.v1.tar", digest: $ld, size: $ls}]
    }' >"$work/manifest.json"
  local manifest_digest manifest_size
  read -r manifest_digest manifest_size < <(add_blob "$work/manifest.json" "$blobs")

  jq -cn --arg md "$manifest_digest" --argjson ms "$manifest_size" --arg ref "$kRef" \
    --arg arch "$arch" '{
      schemaVersion: 2,
      mediaType: "application/vnd.oci.image.index.v1+json",
      manifests: [{
        mediaType: "application/vnd.oci.image.manifest.v1+json", digest: $md, size: $ms,
        platform: {architecture: $arch, os: "linux"},
        annotations: {"org.opencontainers.image.ref.name": $ref}
      }]
    }' >"$layout/index.json"
  echo '{"imageLayoutVersion":"1.0.0"}' >"$layout/oci-layout"

  tar --sort=name --mtime=@0 --owner=0 --group=0 --numeric-owner -C "$layout" -cf "$kOut" \
    oci-layout index.json blobs
}

main
