#!/bin/bash
# unknown_command_test.sh BINARY [MESSAGE] — BINARY refuses a command it does not have, with and
# without --help: exit 1, MESSAGE on stderr (default runc's "No help topic for 'WORD'"), and no
# help text on stdout, so a script probing for a command is not told it exists. Its own --help
# still prints help and exits 0.
set -u

readonly word=no-such-command
readonly bin=${1:?usage: $0 BINARY [MESSAGE]}
readonly message=${2:-"No help topic for '$word'"}
tmp=$(mktemp -d)
readonly tmp
trap 'rm -rf "$tmp"' EXIT
failed=0

# Runs BINARY ARGS with a time limit (a binary that took the word for a valid command line might
# start serving); sets rc, out and err.
run() {
  timeout 10 "$bin" "$@" >"$tmp/out" 2>"$tmp/err" </dev/null
  rc=$?
  out=$(<"$tmp/out")
  err=$(<"$tmp/err")
}

fail() {
  echo "FAIL: ${bin##*/} $*"
  failed=1
}

run --help
[[ $rc -eq 0 && -n "$out" ]] || fail "--help: exit $rc (want 0), stdout: '${out:0:200}'"

for args in "$word" "$word -h" "$word --help" "--help $word"; do
  # shellcheck disable=SC2086 # the words of args are meant to be split
  run $args
  [[ $rc -eq 1 ]] || fail "$args: exit $rc, want 1; stderr: ${err:0:300}"
  [[ -z "$out" ]] || fail "$args: printed on stdout: '${out:0:200}'"
  # Without --help a command line may fail for another reason first (a required flag).
  if [[ "$args" == *-h* && "$err" != *"$message"* ]]; then
    fail "$args: stderr lacks \"$message\": ${err:0:300}"
  fi
done
run "$word"
[[ -z "$err" ]] && fail "$word: nothing on stderr"

[[ $failed -eq 0 ]] && echo "ok: ${bin##*/} refuses '$word'"
exit "$failed"
