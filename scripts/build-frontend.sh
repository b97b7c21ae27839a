#!/usr/bin/env bash
# Builds the SPA into frontend/dist: release wasm (size-optimised), wasm-bindgen --target web,
# index.html + CSS + a tiny bootstrap module. Idempotent: when no input changed since the last
# build, it does nothing. Needs the wasm32 target and wasm-bindgen-cli at the version pinned in
# frontend/Cargo.lock (scripts/deps.sh run installs both). No wasm-opt: Debian's binaryen (108)
# breaks wasm-bindgen's reference-types output and saved only 6% (0% gzipped).
set -euo pipefail
cd "$(dirname "$0")/.."
root="$PWD"
fe="$root/frontend"
dist="$fe/dist"
export CARGO_TARGET_DIR="${MEDVAULT_FRONTEND_TARGET_DIR:-$fe/target}"

log() { printf '[frontend] %s\n' "$*"; }

# Everything the output depends on; the script itself too.
inputs_hash() {
  {
    find "$fe/src" "$fe/static" "$root/crates/types/src" -type f -print0 | sort -z | xargs -0 sha256sum
    sha256sum "$fe/Cargo.toml" "$fe/Cargo.lock" "$root/crates/types/Cargo.toml" "$root/Cargo.toml" "$0" 2>/dev/null || true
  } | sha256sum | cut -c1-16
}

hash="$(inputs_hash)"
if [ -f "$dist/.stamp" ] && [ "$(cat "$dist/.stamp")" = "$hash" ] && [ -f "$dist/index.html" ]; then
  log "up to date ($dist)"
  exit 0
fi

want="$(awk '$0 == "name = \"wasm-bindgen\"" { getline; gsub(/version = |"/, ""); print; exit }' "$fe/Cargo.lock")"
have="$(wasm-bindgen --version 2>/dev/null | awk '{print $2}')"
if [ "$want" != "$have" ]; then
  echo "wasm-bindgen $want is needed (found '${have:-none}'): run scripts/deps.sh run" >&2
  exit 1
fi

log "cargo build --release --target wasm32-unknown-unknown"
(cd "$fe" && cargo build --release --target wasm32-unknown-unknown --bin medvault-frontend)

stage="$(mktemp -d "$fe/.dist.XXXXXX")"
chmod 755 "$stage"
trap 'rm -rf "$stage"' EXIT
mkdir -p "$stage/pkg"
wasm-bindgen --target web --no-typescript --remove-name-section --remove-producers-section --out-dir "$stage/pkg" --out-name medvault \
  "$CARGO_TARGET_DIR/wasm32-unknown-unknown/release/medvault-frontend.wasm"
cp "$fe/static/style.css" "$fe/static/boot.js" "$fe/static/favicon.svg" "$stage/"
# The hash in asset URLs makes browsers fetch new code after each build.
sed "s/@HASH@/$hash/g" "$fe/static/index.html" > "$stage/index.html"
sed -i "s/@HASH@/$hash/g" "$stage/boot.js"
echo "$hash" > "$stage/.stamp"

rm -rf "$dist"
mv "$stage" "$dist"
trap - EXIT
size="$(stat -c %s "$dist/pkg/medvault_bg.wasm")"
gz="$(gzip -9 -c "$dist/pkg/medvault_bg.wasm" | wc -c)"
log "built $dist: medvault_bg.wasm $size bytes ($gz gzipped)"
