#!/bin/bash
# gtest-no-skip.sh <gtest binary> [args...]: runs a GoogleTest binary and turns a test that skipped
# (GTEST_SKIP: what it needs is missing) into exit 77, so ctest reports the vm test as skipped
# instead of passed. The binary's own failure status is passed on.
set -uo pipefail
out=$(mktemp /tmp/gtest-no-skip.XXXXXX.json)
trap 'rm -f -- "$out"' EXIT
"$@" --gtest_output="json:$out"
status=$?
((status == 0)) || exit "$status"
skipped=$(jq -r '.testsuites[].testsuite[] | select(.result == "SKIPPED") |
  "\(.classname).\(.name)"' "$out")
if [[ -n $skipped ]]; then
  echo "gtest-no-skip: skipped in the VM: $skipped" >&2
  exit 77
fi
if [[ $(jq '.tests' "$out") == 0 ]]; then
  echo "gtest-no-skip: no test ran" >&2
  exit 1
fi
exit 0
