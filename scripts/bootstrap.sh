#!/usr/bin/env bash
# Installs what frase needs to build (and, with `test`, to run its browser tests), and writes
# `.toolchain.env`, which the Makefile reads. Idempotent: a second run only checks, in seconds.
#
#   scripts/bootstrap.sh          Rust with the wasm32 target, cargo-leptos, wasm-bindgen, wasm-opt
#   scripts/bootstrap.sh test     the same, plus the end2end npm packages and Chromium
#
# The wasm32 standard library: `rustup target add` where that works. Where it cannot be
# downloaded (only package registries reachable), Debian's rustc-web (a newer Rust, with its
# library source) is used and the wasm32 standard library is built from that source, once.
# Nothing is downloaded from anywhere but crates.io, npm, Debian and PyPI.
#
# Environment: FRASE_RUST_ROUTE=rustup|debian forces a route (default: rustup when it works).

set -euo pipefail

CARGO_LEPTOS_VERSION=0.3.11
# cargo-leptos ${CARGO_LEPTOS_VERSION}, built from its lock file, needs this rustc.
MIN_RUSTC=1.96
BINARYEN_VERSION=125.0.0
WANT_TEST=0
[ "${1:-}" = "test" ] && WANT_TEST=1

ROOT=$(cd "$(dirname "$0")/.." && pwd)
ENV_FILE="$ROOT/.toolchain.env"
TOOLS="$ROOT/target/tools"
CARGO_BIN="${CARGO_HOME:-$HOME/.cargo}/bin"

step() { printf '\033[1m==> %s\033[0m\n' "$*" >&2; }
note() { printf '    %s\n' "$*" >&2; }
fail() {
  printf '\033[31mbootstrap: %s\033[0m\n' "$*" >&2
  exit 1
}

# Runs a command as root: directly when we are root, through sudo otherwise.
as_root() {
  if [ "$(id -u)" -eq 0 ]; then
    "$@"
  elif command -v sudo >/dev/null 2>&1; then
    sudo "$@"
  else
    fail "need root to run: $* (no sudo found). Run it as root, then run this again."
  fi
}

APT_UPDATED=0
apt_install() {
  command -v apt-get >/dev/null 2>&1 ||
    fail "missing: $* — this is not a Debian/Ubuntu system; install the equivalent packages by hand"
  if [ "$APT_UPDATED" -eq 0 ]; then
    note "apt-get update"
    # `DPkg::Lock::Timeout` does not cover the lists' lock that `update` takes: another apt run
    # holding it (an unattended upgrade, a second terminal) is waited for here, up to 10 minutes.
    local tries=0 errors
    until errors=$(as_root apt-get -o DPkg::Lock::Timeout=600 update -qq 2>&1 >/dev/null); do
      tries=$((tries + 1))
      case "$errors" in
        *"Could not get lock"*) [ "$tries" -lt 60 ] || fail "apt-get update: its lock stayed held for 10 minutes" ;;
        *) printf '%s\n' "$errors" >&2; fail "apt-get update failed" ;;
      esac
      note "apt-get update: another apt holds its lock; trying again in 10 s"
      sleep 10
    done
    APT_UPDATED=1
  fi
  note "apt-get install $*"
  as_root env DEBIAN_FRONTEND=noninteractive apt-get -o DPkg::Lock::Timeout=600 install -y -qq "$@" >/dev/null ||
    fail "apt-get install $* failed"
}

# version_ge A B: is version A >= version B?
version_ge() { [ "$(printf '%s\n%s\n' "$2" "$1" | sort -V | head -n1)" = "$2" ]; }

rustc_version() { "$1" --version 2>/dev/null | awk '{print $2}'; }

# ---------------------------------------------------------------------------------------------
step "Rust toolchain with the wasm32-unknown-unknown target"

route="${FRASE_RUST_ROUTE:-}"
if [ -z "$route" ] && command -v rustup >/dev/null 2>&1; then
  rustup_rustc=$(rustup which rustc 2>/dev/null || true)
  version=$([ -n "$rustup_rustc" ] && rustc_version "$rustup_rustc" || true)
  if [ -n "$version" ] && version_ge "$version" "$MIN_RUSTC"; then
    if rustup target list --installed 2>/dev/null | grep -qx wasm32-unknown-unknown ||
      rustup target add wasm32-unknown-unknown >&2; then
      route=rustup
    else
      note "rustup cannot fetch the wasm32 standard library here; using Debian's rustc-web"
    fi
  else
    note "rustup's rustc is ${version:-missing}; frase's tools need >= $MIN_RUSTC: using Debian's rustc-web"
  fi
fi
route="${route:-debian}"

if [ "$route" = rustup ]; then
  RUSTC_BIN=$(rustup which rustc)
  CARGO_CMD=$(rustup which cargo)
  PATH_PREFIX=""
else
  if [ ! -x /usr/bin/rustc ] || ! version_ge "$(rustc_version /usr/bin/rustc)" "$MIN_RUSTC" ||
    [ ! -d /usr/lib/rustlib/src/rust/library ] || ! command -v rust-lld >/dev/null 2>&1; then
    apt_install rustc-web cargo-web rust-web-src lld-22
  fi
  RUSTC_BIN=/usr/bin/rustc
  CARGO_CMD=/usr/bin/cargo
  # Debian's cargo and rustc ahead of rustup's proxies, for cargo-leptos' own `cargo` calls.
  PATH_PREFIX="/usr/bin:"
  version_ge "$(rustc_version "$RUSTC_BIN")" "$MIN_RUSTC" ||
    fail "Debian's rustc is $(rustc_version "$RUSTC_BIN"), older than $MIN_RUSTC"

  libdir=$("$RUSTC_BIN" --print target-libdir --target wasm32-unknown-unknown)
  if ! ls "$libdir"/libstd-*.rlib >/dev/null 2>&1; then
    note "building the wasm32 standard library from /usr/lib/rustlib/src (once, a few minutes)"
    probe=$(mktemp -d)
    trap 'rm -rf "$probe"' EXIT
    mkdir -p "$probe/src"
    cat >"$probe/Cargo.toml" <<'TOML'
[package]
name = "wasm-std-build"
version = "0.0.0"
edition = "2021"
[lib]
crate-type = ["cdylib"]
# LTO keeps bitcode in the standard library's rlibs, which frase's LTO builds of the client need.
[profile.release]
lto = true
codegen-units = 1
TOML
    echo '#[no_mangle] pub extern "C" fn probe(n: u32) -> u32 { (0..n).collect::<Vec<u32>>().len() as u32 }' >"$probe/src/lib.rs"
    (cd "$probe" && RUSTC="$RUSTC_BIN" RUSTC_BOOTSTRAP=1 "$CARGO_CMD" build --release \
      --target wasm32-unknown-unknown -Zbuild-std=std,panic_abort >&2) ||
      fail "building the wasm32 standard library failed (see above)"
    as_root mkdir -p "$libdir"
    as_root cp "$probe"/target/wasm32-unknown-unknown/release/deps/lib*.rlib "$libdir"/
    note "installed $(ls "$libdir" | wc -l) rlibs into $libdir"
  fi
fi
note "route: $route; rustc $(rustc_version "$RUSTC_BIN") at $RUSTC_BIN"

export RUSTC="$RUSTC_BIN"
# The tools are build helpers: build them without fat LTO and at opt-level 1, which takes their
# install from ~40 to a fraction of that on two cores; they run a few seconds per build anyway.
TOOL_PROFILE=(env CARGO_PROFILE_RELEASE_LTO=false CARGO_PROFILE_RELEASE_CODEGEN_UNITS=16
  CARGO_PROFILE_RELEASE_OPT_LEVEL=1)
export PATH="${PATH_PREFIX}$CARGO_BIN:$TOOLS/node_modules/.bin:$PATH"

# ---------------------------------------------------------------------------------------------
step "cargo-leptos $CARGO_LEPTOS_VERSION (no downloads of its own)"
if cargo-leptos --version 2>/dev/null | grep -q "$CARGO_LEPTOS_VERSION"; then
  note "present"
else
  note "cargo install cargo-leptos (compiles a lot: several minutes, once per machine)"
  "${TOOL_PROFILE[@]}" "$CARGO_CMD" install cargo-leptos --version "$CARGO_LEPTOS_VERSION" --locked \
    --features no_downloads >&2 || fail "installing cargo-leptos failed (see above)"
fi

# ---------------------------------------------------------------------------------------------
wasm_bindgen_version=$(awk '/^name = "wasm-bindgen"$/ { getline; gsub(/version = |"/, ""); print; exit }' "$ROOT/Cargo.lock" 2>/dev/null || true)
[ -n "$wasm_bindgen_version" ] || fail "no wasm-bindgen in Cargo.lock"
step "wasm-bindgen-cli $wasm_bindgen_version (the version in Cargo.lock)"
if wasm-bindgen --version 2>/dev/null | grep -q " $wasm_bindgen_version\$"; then
  note "present"
else
  # Its lock file can name a dependency version the registry no longer serves (yanked);
  # then resolve afresh, within the same wasm-bindgen version.
  "${TOOL_PROFILE[@]}" "$CARGO_CMD" install wasm-bindgen-cli --version "$wasm_bindgen_version" --locked >&2 ||
    { note "retrying without --locked"; "${TOOL_PROFILE[@]}" "$CARGO_CMD" install wasm-bindgen-cli --version "$wasm_bindgen_version" >&2; } ||
    fail "installing wasm-bindgen-cli $wasm_bindgen_version failed (see above)"
fi

# ---------------------------------------------------------------------------------------------
step "wasm-opt (npm's binaryen $BINARYEN_VERSION; Debian's is too old for current Rust output)"
command -v npm >/dev/null 2>&1 || apt_install nodejs npm
if "$TOOLS/node_modules/.bin/wasm-opt" --version 2>/dev/null | grep -q "version ${BINARYEN_VERSION%%.*}"; then
  note "present"
else
  mkdir -p "$TOOLS"
  npm install --prefix "$TOOLS" --no-audit --no-fund --loglevel=error "binaryen@$BINARYEN_VERSION" >&2 ||
    fail "npm install binaryen failed"
fi

# ---------------------------------------------------------------------------------------------
if [ "$WANT_TEST" -eq 1 ]; then
  step "test tools: npm packages in end2end/, Debian's chromium and nginx"
  # chromium drives the end-to-end tests; nginx stands in front of two processes in the
  # several-processes test (tests/cluster.rs).
  for tool in /usr/bin/chromium /usr/sbin/nginx; do
    package=${tool##*/}
    if [ ! -x "$tool" ]; then
      if command -v apt-get >/dev/null 2>&1; then
        apt_install "$package"
      elif [ "${FRASE_TEST_REQUIRE:-}" = all ]; then
        fail "no $tool, and no apt-get to install it"
      else
        note "no $tool and no apt-get: the tests that need $package will be skipped"
      fi
    fi
  done
  [ -x /usr/bin/chromium ] && note "$(/usr/bin/chromium --version 2>/dev/null)"
  [ -x /usr/sbin/nginx ] && note "$(/usr/sbin/nginx -v 2>&1)"
  lock="$ROOT/end2end/package-lock.json"
  stamp="$ROOT/end2end/node_modules/.installed"
  if [ -f "$stamp" ] && [ "$stamp" -nt "$lock" ]; then
    note "npm packages present"
  else
    (cd "$ROOT/end2end" && npm ci --no-audit --no-fund --loglevel=error >&2) ||
      fail "npm ci in end2end/ failed"
    touch "$stamp"
  fi
fi

# ---------------------------------------------------------------------------------------------
cat >"$ENV_FILE.tmp" <<ENV
# Written by scripts/bootstrap.sh ($route route); the Makefile sources it before each command.
export RUSTC="$RUSTC_BIN"
export CARGO="$CARGO_CMD"
export PATH="${PATH_PREFIX}$CARGO_BIN:$TOOLS/node_modules/.bin:\$PATH"
ENV
mv "$ENV_FILE.tmp" "$ENV_FILE"
step "toolchain ready ($route route)"
