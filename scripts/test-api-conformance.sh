#!/usr/bin/env bash
# Runs schemathesis (from PyPI) against a live release server, from the server's own
# /api/openapi.json, with schemathesis' default checks (every check it has, among them
# not_a_server_error and response_schema_conformance) and a bounded number of examples per
# operation, so that the run stays in the order of a minute on two cores.
#
# Where Python cannot provide it, it skips with the reason, unless FRASE_TEST_REQUIRE=all (CI),
# where that is a failure.
#
#   scripts/test-api-conformance.sh [PORT]     FRASE_SCHEMATHESIS_EXAMPLES=N (default 25),
#                                              FRASE_SCHEMATHESIS_SEED=N (default fixed)
set -euo pipefail
port="${1:-3918}"
examples="${FRASE_SCHEMATHESIS_EXAMPLES:-25}"
cd "$(dirname "$0")/.."
. scripts/lib/server.sh

venv="$PWD/target/tools/schemathesis"
python_tool "$venv" schemathesis==4.32.5 schemathesis || skip_or_fail "API conformance tests" "Python cannot install it"

start_server "$port"
echo "==> schemathesis against $SERVER_BASE/api/openapi.json ($examples examples per operation)"
status=0
# The event stream never ends by design, and schemathesis waits for a whole body: the stream is
# left to tests/live.rs and the browser tests.
"$venv/bin/schemathesis" --config-file tests/schemathesis.toml run "$SERVER_BASE/api/openapi.json" \
  --url "$SERVER_BASE" \
  --max-examples "$examples" \
  --seed "${FRASE_SCHEMATHESIS_SEED:-20261124}" \
  --workers 2 \
  --exclude-path-regex '/events$' \
  --request-timeout 10 \
  --no-color || status=$?
if [ "$status" -ne 0 ]; then
  echo "--- server log (last 50 lines) ---" >&2
  tail -n 50 "$SERVER_LOG" >&2
fi
exit "$status"
