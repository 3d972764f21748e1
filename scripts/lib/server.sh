# Sourced by the test scripts: starts target/release/frase on a throwaway data directory and
# stops it (and removes the directory) when the script exits.
#
#   start_server PORT      sets SERVER_BASE (http://127.0.0.1:PORT) and SERVER_LOG

start_server() {
  local port="$1"
  [ -x target/release/frase ] || { echo "no target/release/frase: run make build" >&2; exit 1; }
  SERVER_DATA=$(mktemp -d)
  SERVER_LOG="$SERVER_DATA/server.log"
  SERVER_BASE="http://127.0.0.1:$port"
  trap stop_server EXIT
  # These checkers send hundreds of writes a second from one address: no rate limits for them
  # (tests/security.rs checks the limits).
  FRASE_RATE_LIMIT="${FRASE_RATE_LIMIT:-off}" RUST_LOG="${RUST_LOG:-warn}" target/release/frase serve --addr "127.0.0.1:$port" --data-dir "$SERVER_DATA" >"$SERVER_LOG" 2>&1 &
  SERVER_PID=$!
  for _ in $(seq 1 100); do
    curl -sf "$SERVER_BASE/healthz" >/dev/null 2>&1 && return 0
    if ! kill -0 "$SERVER_PID" 2>/dev/null; then
      cat "$SERVER_LOG" >&2
      echo "the server did not start" >&2
      exit 1
    fi
    sleep 0.1
  done
  echo "the server did not answer /healthz within 10 s" >&2
  exit 1
}

stop_server() {
  if [ -n "${SERVER_PID:-}" ]; then
    kill "$SERVER_PID" 2>/dev/null || true
    wait "$SERVER_PID" 2>/dev/null || true
  fi
  if [ -n "${SERVER_DATA:-}" ]; then rm -rf "$SERVER_DATA"; fi
  SERVER_PID= SERVER_DATA=
}

# The Python for the tools: 3.12 or newer where the machine has one (CPython 3.11 can fail inside
# hypothesis with "AST constructor recursion depth mismatch"), else python3. FRASE_PYTHON wins.
pick_python() {
  local candidate
  for candidate in "${FRASE_PYTHON:-}" python3.13 python3.12 python3 "$HOME"/.pyenv/versions/3.1[2-9]*/bin/python3; do
    [ -n "$candidate" ] || continue
    if "$candidate" -c 'import sys; sys.exit(sys.version_info < (3, 12))' >/dev/null 2>&1; then
      echo "$candidate"
      return 0
    fi
  done
  command -v python3
}

# python_tool VENV_DIR PACKAGE==VERSION EXECUTABLE: a pip package in its own virtualenv under
# target/tools; returns 1 (with the reason on stderr) where Python cannot provide it.
python_tool() {
  local venv="$1" package="$2" executable="$3" python version
  python=$(pick_python) || { echo "no python3" >&2; return 1; }
  version=$("$python" -c 'import sys; print("%d.%d" % sys.version_info[:2])')
  if [ -x "$venv/bin/$executable" ] && [ -f "$venv/.installed-$package-py$version" ]; then
    return 0
  fi
  echo "==> installing $package into ${venv#"$PWD"/} (Python $version)" >&2
  rm -rf "$venv"
  "$python" -m venv "$venv" || { echo "python3 -m venv failed (apt-get install python3-venv)" >&2; return 1; }
  "$venv/bin/pip" install -q --disable-pip-version-check "$package" || { echo "pip install $package failed" >&2; return 1; }
  touch "$venv/.installed-$package-py$version"
}

# skip_or_fail WHAT REASON: where a test tool is missing, skip with the reason; with
# FRASE_TEST_REQUIRE=all (CI) that is a failure instead.
skip_or_fail() {
  if [ "${FRASE_TEST_REQUIRE:-}" = all ]; then
    echo "$1 cannot run: $2 (FRASE_TEST_REQUIRE=all)" >&2
    exit 1
  fi
  echo "SKIPPED $1: $2" >&2
  exit 0
}
