#!/bin/bash
# Installs the Debian 12 packages berth builds and tests with (root). Both README commands call it.
set -euo pipefail

readonly kPackages=(
  # toolchain
  build-essential cmake ninja-build ccache pkg-config clang-format
  # libFuzzer targets (clang 16: the first that compiles libstdc++ 12's std::expected)
  clang-16 libclang-rt-16-dev
  # libraries (DESIGN.md "Dependencies")
  libseccomp-dev libcap-dev nlohmann-json3-dev libspdlog-dev libfmt-dev libcli11-dev
  libgtest-dev libgmock-dev googletest zlib1g-dev
  # CRI (criapi/, shim/): protoc + the gRPC C++ plugin at build time, gRPC/protobuf, cri.yaml
  protobuf-compiler protobuf-compiler-grpc libgrpc++-dev libprotobuf-dev libyaml-cpp-dev
  # images/: content digests, layer archives (gzip, zstd), registries (HTTP/TLS)
  libssl-dev libarchive-dev libcurl4-openssl-dev
  # CNI plugins: rtnetlink, nftables
  libmnl-dev libnftables-dev libnftnl-dev
  # tests: the rootfs fixture, ps for `berth-runtime ps`, the upstream peers for benchmarks
  busybox-static procps iproute2 jq runc crun hyperfine time python3 containerd conmon
  # streaming tests: an independent WebSocket client
  python3-websocket
  # images/ tests and benchmark: a local registry, a test CA, htpasswd, the peers skopeo and umoci
  docker-registry openssl apache2-utils skopeo umoci
  # CNI tests: nft to inspect rulesets, the reference plugins for interop and benchmarks
  nftables containernetworking-plugins
  # top half (kubeapi/, controlplane/): Beast/Asio HTTP server, HTTP/2, the SQLite store, etcd as
  # the second storage backend in tests
  libboost1.81-dev libnghttp2-dev libsqlite3-dev etcd-server etcd-client
  # kubeapi tests: an independent HTTP/2 server (nghttpd) for the client's h2 multiplexing
  nghttp2-server
  # the `berth up` demo: a client that reaches the Service from the node
  wget
  # cluster DNS (dns/): Unbound serves the records berth renders and forwards the rest (its
  # local-data covers A/AAAA/SRV/PTR and chases an ExternalName's CNAME; reload_keep_cache over
  # its control socket); dig queries it in the tests
  unbound bind9-dnsutils
)

if [[ $EUID -ne 0 ]]; then
  echo "deps.sh: run as root (apt-get install)" >&2
  exit 1
fi
missing=()
for p in "${kPackages[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
if ((${#missing[@]})); then
  export DEBIAN_FRONTEND=noninteractive
  apt-get update -qq
  apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
fi
# kubectl drives the top-half tests: the machine's own (v1.32 on our machines) where there is
# one, else Debian's kubernetes-client.
if ! command -v kubectl >/dev/null; then
  export DEBIAN_FRONTEND=noninteractive
  ((${#missing[@]})) || apt-get update -qq
  apt-get install -y -qq --no-install-recommends kubernetes-client >/dev/null
fi
