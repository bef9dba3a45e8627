#!/bin/bash
# The main job: builds berth and runs a demo container with berth-runtime from a busybox-static
# rootfs: create, state, start, exec into it, list, kill, delete — as runc would be driven.
set -euo pipefail
cd "$(dirname -- "${BASH_SOURCE[0]}")/.."
scripts/deps.sh
scripts/build.sh >/dev/null

runtime=$PWD/${BUILD_DIR:-build}/runtime/berth-runtime
work=$(mktemp -d /tmp/berth-demo.XXXXXX)
root=$work/state
cleanup() {
  "$runtime" --root "$root" delete --force demo >/dev/null 2>&1 || true
  rm -rf -- "$work"
}
trap cleanup EXIT

tests/fixtures/make-bundle.sh "$work/bundle" -- sh -c \
  'echo "hello from $(hostname), pid $$ in its own namespaces"; exec sleep 1000' >/dev/null
cd "$work/bundle"
step() { printf '\n$ %s\n' "$*"; "$@"; }
step "$runtime" --version
step "$runtime" --root "$root" create demo
step "$runtime" --root "$root" state demo
step "$runtime" --root "$root" start demo
step "$runtime" --root "$root" exec demo sh -c 'echo "exec: $(id)"; ps'
step "$runtime" --root "$root" list
step "$runtime" --root "$root" kill demo KILL
# kill only sends the signal: wait (bounded) until the init is gone before deleting.
for _ in $(seq 200); do
  "$runtime" --root "$root" state demo | grep -q '"stopped"' && break
  sleep 0.01
done
step "$runtime" --root "$root" state demo
step "$runtime" --root "$root" delete demo

"$OLDPWD"/tests/fixtures/make-bundle.sh "$work/once" -- \
  sh -c 'echo "run: foreground, exit status travels back"; exit 3' >/dev/null
cd "$work/once"
step "$runtime" --root "$root" run once || echo "exit status: $?"
