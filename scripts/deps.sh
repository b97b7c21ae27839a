#!/usr/bin/env bash
# Installs what medvault's build and tests need, idempotently: nothing is done twice.
#   scripts/deps.sh run   -> what `make run` needs (wasm target, wasm-bindgen-cli)
#   scripts/deps.sh test  -> also clippy/rustfmt, Debian packages (Chromium, chromedriver, time),
#                            Garage (S3 server), aiosmtpd (SMTP sink) and a running PostgreSQL
set -euo pipefail
cd "$(dirname "$0")/.."
mode="${1:-test}"

log() { printf '[deps] %s\n' "$*"; }

apt_install() {
  local missing=()
  for p in "$@"; do
    dpkg -s "$p" >/dev/null 2>&1 || missing+=("$p")
  done
  if [ "${#missing[@]}" -gt 0 ]; then
    log "apt-get install ${missing[*]}"
    local sudo=""
    [ "$(id -u)" = 0 ] || sudo="sudo"
    $sudo apt-get update -qq
    DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -qq "${missing[@]}" >/dev/null
  fi
}

# Version of a crate as pinned in a Cargo.lock.
lock_version() {
  awk -v n="$2" '$0 == "name = \"" n "\"" { getline; gsub(/version = |"/, ""); print; exit }' "$1"
}

rust_deps() {
  rustup target list --installed 2>/dev/null | grep -qx wasm32-unknown-unknown \
    || rustup target add wasm32-unknown-unknown
  if [ -f frontend/Cargo.lock ]; then
    local want
    want="$(lock_version frontend/Cargo.lock wasm-bindgen)"
    if [ -n "$want" ] && [ "$(wasm-bindgen --version 2>/dev/null | awk '{print $2}')" != "$want" ]; then
      log "cargo install wasm-bindgen-cli $want"
      cargo install wasm-bindgen-cli --version "$want" --locked \
        || cargo install wasm-bindgen-cli --version "$want"
    fi
  fi
}

test_deps() {
  rustup component list --installed 2>/dev/null | grep -q '^clippy' || rustup component add clippy
  rustup component list --installed 2>/dev/null | grep -q '^rustfmt' || rustup component add rustfmt
  # pkg-config + libssl-dev: bundled libpq links the system OpenSSL; time: /usr/bin/time -v in benches.
  apt_install chromium chromium-driver pkg-config libssl-dev time
  if ! garage --version 2>/dev/null | grep -q '2\.5\.0'; then
    log "cargo install garage 2.5.0 (about 10 minutes, once)"
    cargo install garage --version 2.5.0 --locked || cargo install garage --version 2.5.0
  fi
  scripts/smtp-sink.sh install
  scripts/postgres.sh ensure
}

rust_deps
[ "$mode" = run ] || test_deps
