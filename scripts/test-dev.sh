#!/usr/bin/env bash
# The development loop, tested as a contributor uses it: `make dev` in a throwaway copy of this
# repository, then Playwright (end2end/dev/) opens /r/main, edits the copy's stylesheet and a Rust
# file, and checks that the open page follows. Where Chromium, the npm packages or the toolchain
# are missing it skips with the reason (a failure under FRASE_TEST_REQUIRE=all).
#
#   scripts/test-dev.sh [PORT]     the copy serves on PORT, its reload socket on PORT+1
set -euo pipefail
port="${1:-3920}"
cd "$(dirname "$0")/.."
root=$PWD

. scripts/lib/server.sh

chromium="${FRASE_CHROMIUM:-/usr/bin/chromium}"
[ -x "$chromium" ] || skip_or_fail "development-loop test" "no Chromium at $chromium (apt-get install chromium)"
[ -d end2end/node_modules/@playwright/test ] || skip_or_fail "development-loop test" "no end2end/node_modules (make bootstrap-test)"
[ -f .toolchain.env ] || skip_or_fail "development-loop test" "no .toolchain.env (make bootstrap)"
(. ./.toolchain.env && command -v cargo-leptos >/dev/null) ||
  skip_or_fail "development-loop test" "no cargo-leptos (make bootstrap)"

copy=$(mktemp -d "${TMPDIR:-/tmp}/frase-dev-XXXXXX")
log="$copy.log"
dev_pid=""
finish() {
  if [ -n "$dev_pid" ]; then
    # The watcher, its builds and the server it runs: the whole process group.
    kill -TERM -- "-$dev_pid" 2>/dev/null || true
    for _ in $(seq 1 50); do kill -0 -- "-$dev_pid" 2>/dev/null || break; sleep 0.2; done
    kill -KILL -- "-$dev_pid" 2>/dev/null || true
  fi
  rm -rf "$copy"
}
trap finish EXIT

echo "==> development loop: make dev in $copy (port $port)"
# The repository as it stands (committed or not), without build output.
rsync -a --exclude /target --exclude /end2end/node_modules --exclude /end2end/test-results \
  --exclude /.git ./ "$copy/"
# The dependencies already built here, so that only frase itself compiles (the throwaway copy
# would otherwise rebuild the world: tens of minutes on two cores). Its own builds stay its own.
if [ -d target/debug/deps ]; then
  mkdir -p "$copy/target"
  rsync -a --exclude /incremental --exclude '/deps/libfrase*' --exclude '/deps/*-????????????????' \
    target/debug/ "$copy/target/debug/"
fi
[ -d target/tools ] && rsync -a target/tools/ "$copy/target/tools/"
[ -d target/front ] && rsync -a --exclude '/*/*/incremental' --exclude '*frase*' target/front/ "$copy/target/front/"

started=$(date +%s)
(cd "$copy" && exec setsid make dev DEV_ADDR="127.0.0.1:$port" DEV_RELOAD_PORT="$((port + 1))" \
  >"$log" 2>&1) &
dev_pid=$!
# setsid makes make the leader of its own process group, whose id is its pid.
sleep 1

status=0
(cd end2end && FRASE_DEV_BASE="http://127.0.0.1:$port" FRASE_DEV_COPY="$copy" \
  FRASE_CHROMIUM="$chromium" CI="${CI:-1}" npx playwright test --config dev.config.ts) || status=$?
if [ "$status" -ne 0 ]; then
  echo "---- make dev output (last 60 lines) ----" >&2
  tail -n 60 "$log" >&2
fi
echo "==> development loop: $(( $(date +%s) - started )) s in all"
rm -f "$log"
[ "$status" -eq 0 ] || exit "$status"

# The release binary, run the way cargo-leptos runs it (no command, its watch environment) from a
# folder with no site in it: it serves its embedded assets and its pages carry no reload script.
if [ -x target/release/frase ]; then
  echo "==> the release binary under cargo-leptos' environment: no reload script, embedded assets"
  release_dir=$(mktemp -d)
  (cd "$release_dir" && LEPTOS_WATCH=true LEPTOS_SITE_ADDR="127.0.0.1:$((port + 2))" \
    LEPTOS_SITE_ROOT=site LEPTOS_RELOAD_PORT="$((port + 1))" RUST_LOG=warn \
    exec "$root/target/release/frase" >"$release_dir/server.log" 2>&1) &
  release_pid=$!
  base="http://127.0.0.1:$((port + 2))"
  for _ in $(seq 1 100); do curl -sf "$base/healthz" >/dev/null 2>&1 && break; sleep 0.1; done
  page=$(curl -sf -D "$release_dir/headers" "$base/r/main" || true)
  wasm=$(grep -o "/pkg/[^\"' ]*\.wasm" <<<"$page" | head -n1 || true)
  wasm_status=$(curl -s -o /dev/null -w '%{http_code}' "$base${wasm:-/pkg/none.wasm}" || true)
  kill "$release_pid" 2>/dev/null || true
  wait "$release_pid" 2>/dev/null || true
  check() { if eval "$2"; then echo "    ok: $1"; else echo "    FAILED: $1" >&2; status=1; fi; }
  check "it serves the room page" '[ -n "$page" ]'
  check "the page has no live-reload script" '! grep -q live_reload <<<"$page"'
  check "its policy allows no WebSocket" '! grep -qi "ws://" "$release_dir/headers"'
  check "the client ($wasm) comes from the binary, with no site folder beside it" \
    '[ "$wasm_status" = 200 ] && [ ! -e "$release_dir/site" ]'
  rm -rf "$release_dir"
fi
exit "$status"
