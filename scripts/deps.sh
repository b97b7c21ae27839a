#!/usr/bin/env bash
# Installs what medvault's build and tests need, idempotently: nothing is done twice.
#   scripts/deps.sh run   -> what `make run` needs (wasm target, wasm-bindgen-cli)
#   scripts/deps.sh test  -> also clippy/rustfmt, Debian packages (Chromium, chromedriver, time, hey,
#                            curl, rclone),
#                            Garage (S3 server), aiosmtpd (SMTP sink), schemathesis (API
#                            fuzzer), a running PostgreSQL,
#                            cargo-deny and its copy of the RustSec advisory database
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
  # pkg-config + libssl-dev: bundled libpq links the system OpenSSL; time: /usr/bin/time -v in benches;
  # hey: the HTTP load generator of the load smoke test and the load bench; curl and rclone: the
  # transfer bench (medvault over HTTP beside rclone crypt).
  apt_install chromium chromium-driver pkg-config libssl-dev time hey curl rclone
  if ! garage --version 2>/dev/null | grep -q '2\.5\.0'; then
    log "cargo install garage 2.5.0 (about 10 minutes, once)"
    cargo install garage --version 2.5.0 --locked || cargo install garage --version 2.5.0
  fi
  scripts/smtp-sink.sh install
  scripts/schemathesis.sh install
  scripts/postgres.sh ensure
  if [ "$(cargo-deny --version 2>/dev/null | awk '{print $2}')" != 0.20.2 ]; then
    log "cargo install cargo-deny 0.20.2 (about 5 minutes, once)"
    cargo install cargo-deny --version 0.20.2 --locked || cargo install cargo-deny --version 0.20.2
  fi
  advisory_db
}

# `make deny` runs offline against the RustSec snapshot beside the clone (read-only, no git
# history). cargo-deny wants a git checkout at deny.toml's db-path, under the directory name it
# derives from the default database URL, so keep a git-initialised copy there, redone when the
# snapshot changes. cargo-deny's 90-day staleness limit sees the age of this copy (the mtime of
# .git/HEAD), not of the snapshot, so the copy is also redone after 60 days.
advisory_db() {
  local src="${MEDVAULT_ADVISORY_DB:-../shared/advisory-db}"
  local dest="$HOME/.cache/medvault/advisory-dbs/advisory-db-3157b0e258782691"
  if [ ! -f "$src/SNAPSHOT.txt" ]; then
    [ -d "$dest/.git" ] && { log "no advisory snapshot at $src, keeping $dest"; return; }
    echo "[deps] no RustSec advisory snapshot at $src (set MEDVAULT_ADVISORY_DB)" >&2
    exit 1
  fi
  if cmp -s "$src/SNAPSHOT.txt" "$dest/SNAPSHOT.txt" && [ -z "$(find "$dest/.git/HEAD" -mtime +60)" ]; then
    return
  fi
  # The snapshot's commit time, written in its SNAPSHOT.txt.
  local when
  when="$(grep -oEm1 '[0-9]{4}-[0-9]{2}-[0-9]{2}T[0-9]{2}:[0-9]{2}:[0-9]{2}[+-][0-9]{2}:[0-9]{2}' "$src/SNAPSHOT.txt" || true)"
  log "advisory database: $src -> $dest (snapshot of ${when:-unknown date})"
  local tmp="$dest.tmp.$$"
  rm -rf "$tmp"
  mkdir -p "$tmp"
  cp -R "$src/." "$tmp/"
  chmod -R u+w "$tmp"
  (
    cd "$tmp"
    git init -q
    git add -A
    GIT_AUTHOR_DATE="${when:-now}" GIT_COMMITTER_DATE="${when:-now}" \
      git -c user.name=medvault -c user.email=deps@medvault.invalid -c commit.gpgsign=false \
      commit -q --no-verify -m "RustSec advisory-db snapshot"
  )
  rm -rf "$dest"
  mv "$tmp" "$dest"
}

rust_deps
[ "$mode" = run ] || test_deps
