#!/usr/bin/env bash
# Runs the Playwright suite in end2end/ against the release binary. Where Chromium or the npm
# packages are missing it skips with the reason, unless FRASE_TEST_REQUIRE=all (CI), where a
# missing one is a failure.
set -euo pipefail
port="${1:-3917}"
cd "$(dirname "$0")/.."

. scripts/lib/server.sh

chromium="${FRASE_CHROMIUM:-/usr/bin/chromium}"
[ -x "$chromium" ] || skip_or_fail "end-to-end tests" "no Chromium at $chromium (apt-get install chromium)"
[ -d end2end/node_modules/@playwright/test ] || skip_or_fail "end-to-end tests" "no end2end/node_modules (make bootstrap-test)"
[ -x target/release/frase ] || { echo "no target/release/frase: run make build" >&2; exit 1; }

echo "==> Playwright end-to-end tests ($("$chromium" --version 2>/dev/null), port $port)"
cd end2end
FRASE_E2E_PORT="$port" FRASE_CHROMIUM="$chromium" CI="${CI:-1}" npx playwright test
