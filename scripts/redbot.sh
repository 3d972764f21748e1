#!/usr/bin/env bash
# Runs REDbot ("lint for HTTP", from PyPI) against a live release server, after a few words so
# that there is something to cache: pages, the JSON API, assets, a problem response, a redirect
# and a POST. Prints every note with its level; fails on any note at the warning level or worse
# that tests/redbot-exceptions.toml does not except with a reason. Where Python cannot provide
# REDbot it skips with the reason, unless FRASE_TEST_REQUIRE=all.
#
#   scripts/redbot.sh [PORT]
set -euo pipefail
port="${1:-3919}"
cd "$(dirname "$0")/.."
. scripts/lib/server.sh

venv="$PWD/target/tools/redbot"
python_tool "$venv" redbot==2.7.1 redbot || skip_or_fail "REDbot" "Python cannot install it"
start_server "$port"

for word in Había una vez. Y; do
  curl -sf -o /dev/null -X POST "$SERVER_BASE/api/rooms/main/words" \
    -H 'content-type: application/json' -d "{\"text\":\"$word\"}"
done
wasm=$(curl -sf "$SERVER_BASE/r/main" | grep -o "/pkg/[^\"' ]*\.wasm" | head -n1)
[ -n "$wasm" ] || { echo "the page references no .wasm" >&2; exit 1; }

css=$(curl -sf "$SERVER_BASE/r/main" | grep -o '/pkg/[^"]*\.css' | head -n1)
[ -n "$css" ] || { echo "the page references no stylesheet" >&2; exit 1; }

status=0
for target in "GET /" "GET /r/main" "GET /r/main/story" "GET /r/main/present" \
  "GET /api/rooms/main" "GET /api/rooms/main/words" "GET /api/rooms/main/words/1" \
  "GET /api/rooms/main/story" "GET /api/me" "GET /healthz" "GET /api/openapi.json" \
  "GET $wasm" "GET $css" "GET /favicon.svg" \
  "GET /api/rooms/no-such-room" "GET /join?code=main" \
  'POST /api/rooms/main/words {"text":"fin"}'; do
  timeout 60 "$venv/bin/python" scripts/redbot_check.py tests/redbot-exceptions.toml "$SERVER_BASE" "$target" || status=1
  echo
done
exit "$status"
