#!/usr/bin/env bash
# Runs REDbot ("lint for HTTP", from PyPI) against a live release server: the room API, the story,
# a page and the hashed .wasm, after a few words so that there is something to cache. Prints every
# note with its level; fails when any is at the error level. Where Python cannot provide REDbot
# it skips with the reason, unless FRASE_TEST_REQUIRE=all.
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
wasm=$(curl -sf "$SERVER_BASE/r/main" | grep -o '/pkg/[^"]*\.wasm' | head -n1)
[ -n "$wasm" ] || { echo "the page references no .wasm" >&2; exit 1; }

status=0
for path in /api/rooms/main /api/rooms/main/story /r/main "$wasm"; do
  echo
  "$venv/bin/python" scripts/redbot_check.py "$SERVER_BASE$path" || status=1
done
exit "$status"
