#!/bin/bash
# Configures and builds berth with CMake + Ninja into ${BUILD_DIR:-build}.
set -euo pipefail
cd "$(dirname -- "${BASH_SOURCE[0]}")/.."
build=${BUILD_DIR:-build}
cmake -S . -B "$build" -G Ninja -DCMAKE_BUILD_TYPE=RelWithDebInfo >/dev/null
ninja -C "$build"
