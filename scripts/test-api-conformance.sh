#!/usr/bin/env bash
# Runs schemathesis (from PyPI) against a live release server, from the server's own
# /api/openapi.json: every operation (the JSON API, the event stream, the server functions), with
# schemathesis' default checks (every check it has, among them not_a_server_error and
# response_schema_conformance), the allowances of tests/schemathesis.toml (each scoped to the
# operations that can answer it, with its reason), 100 examples per operation, for each seed.
#
# Where Python cannot provide it, it skips with the reason, unless FRASE_TEST_REQUIRE=all (CI),
# where that is a failure.
#
#   scripts/test-api-conformance.sh [PORT]     FRASE_SCHEMATHESIS_EXAMPLES=N (default 100),
#                                              FRASE_SCHEMATHESIS_SEEDS="N ..." (default one,
#                                              fixed)
set -euo pipefail
port="${1:-3918}"
examples="${FRASE_SCHEMATHESIS_EXAMPLES:-100}"
seeds="${FRASE_SCHEMATHESIS_SEEDS:-20261124}"
cd "$(dirname "$0")/.."
. scripts/lib/server.sh

venv="$PWD/target/tools/schemathesis"
python_tool "$venv" schemathesis==4.32.5 schemathesis || skip_or_fail "API conformance tests" "Python cannot install it"

status=0
for seed in $seeds; do
  # A fresh server (and database) for each seed, so that each run starts from the same state.
  start_server "$port"
  echo "==> schemathesis against $SERVER_BASE/api/openapi.json ($examples examples per operation, seed $seed)"
  "$venv/bin/schemathesis" --config-file tests/schemathesis.toml run "$SERVER_BASE/api/openapi.json" \
    --url "$SERVER_BASE" \
    --max-examples "$examples" \
    --seed "$seed" \
    --workers 2 \
    --no-color || {
    status=1
    echo "--- server log (last 50 lines) ---" >&2
    tail -n 50 "$SERVER_LOG" >&2
  }
  stop_server
done
exit "$status"
