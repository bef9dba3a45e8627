#!/bin/bash
# Builds berth and runs every test: unit, integration (root), the clang-format check and the
# benchmarks beside their upstream peers. Ends with ctest's summary.
set -euo pipefail
cd "$(dirname -- "${BASH_SOURCE[0]}")/.."
scripts/deps.sh
scripts/build.sh
cd "${BUILD_DIR:-build}"
# Unit and integration tests in parallel; benchmarks (RUN_SERIAL) run alone at the end.
exec ctest --output-on-failure -j"$(nproc)" --timeout 600
