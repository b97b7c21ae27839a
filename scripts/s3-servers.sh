#!/usr/bin/env bash
# Three independent single-node Garage (S3-compatible) servers on loopback, for the engine's and
# the API's S3 tests. Each instance is its own "provider": own rpc secret, ports, data, key.
#
#   scripts/s3-servers.sh up    [STATE_DIR]   start (idempotent), write STATE_DIR/storage.toml, print its path
#   scripts/s3-servers.sh down  [STATE_DIR]   stop every instance of STATE_DIR
#   scripts/s3-servers.sh stop N [STATE_DIR]  stop instance N only   (tests: provider outage)
#   scripts/s3-servers.sh start N [STATE_DIR] start instance N (again, or a new one: N = 4 adds a
#                                             fourth provider with buckets medvault-4a, -4b)
#   scripts/s3-servers.sh env   [STATE_DIR]   print `export MEDVAULT_TEST_S3_CONFIG=...`
#
# STATE_DIR defaults to $PWD/target/s3-servers. Ports: instance i uses S3 ${S3_PORT_BASE:-3900}+10*i,
# RPC +1, admin +3. Needs `garage` 2.x on PATH or in ~/.cargo/bin (the Makefile installs it);
# needs no internet. Storage config: k=4, m=2 over six buckets (two per instance).
set -euo pipefail

cmd="${1:-}"
shift || true
inst=""
if [[ "$cmd" == stop || "$cmd" == start ]]; then
  inst="${1:?instance number}"
  shift
fi
STATE="${1:-$PWD/target/s3-servers}"
BASE="${S3_PORT_BASE:-3900}"
GARAGE="$(command -v garage || echo "$HOME/.cargo/bin/garage")"
# Plain-http loopback: no proxies, no custom CA bundles.
unset http_proxy https_proxy HTTP_PROXY HTTPS_PROXY ALL_PROXY all_proxy AWS_CA_BUNDLE || true
export NO_PROXY=127.0.0.1,localhost no_proxy=127.0.0.1,localhost

die() { echo "s3-servers: $*" >&2; exit 1; }
[[ -x "$GARAGE" ]] || die "garage not found (cargo install garage --version 2.5.0)"

s3_port() { echo $((BASE + 10 * $1)); }
rpc_port() { echo $((BASE + 10 * $1 + 1)); }
admin_port() { echo $((BASE + 10 * $1 + 3)); }
dir_of() { echo "$STATE/g$1"; }
g() { local i=$1; shift; "$GARAGE" -c "$(dir_of "$i")/garage.toml" "$@"; }

running() {
  local pidf; pidf="$(dir_of "$1")/pid"
  [[ -f "$pidf" ]] && kill -0 "$(cat "$pidf")" 2>/dev/null
}

configure() {
  local i=$1 d; d="$(dir_of "$i")"
  mkdir -p "$d/meta" "$d/data"
  chmod 700 "$d"
  if [[ ! -f "$d/garage.toml" ]]; then
    umask 077
    cat > "$d/garage.toml" <<EOF
metadata_dir = "$d/meta"
data_dir = "$d/data"
db_engine = "sqlite"
replication_factor = 1
rpc_bind_addr = "127.0.0.1:$(rpc_port "$i")"
rpc_public_addr = "127.0.0.1:$(rpc_port "$i")"
rpc_secret = "$(openssl rand -hex 32)"

[s3_api]
s3_region = "garage"
api_bind_addr = "127.0.0.1:$(s3_port "$i")"
root_domain = ".s3.garage.localhost"

[admin]
api_bind_addr = "127.0.0.1:$(admin_port "$i")"
admin_token = "$(openssl rand -hex 32)"
EOF
    echo "GK$(openssl rand -hex 12)" > "$d/key_id"
    openssl rand -hex 32 > "$d/key_secret"
  fi
}

start_one() {
  local i=$1 d; d="$(dir_of "$i")"
  configure "$i"
  if ! running "$i"; then
    RUST_LOG=warn nohup "$GARAGE" -c "$d/garage.toml" server >"$d/server.log" 2>&1 &
    echo $! > "$d/pid"
  fi
  for _ in $(seq 1 100); do
    g "$i" status >/dev/null 2>&1 && break
    running "$i" || die "instance $i exited; see $d/server.log"
    sleep 0.2
  done
  g "$i" status >/dev/null 2>&1 || die "instance $i did not answer; see $d/server.log"
}

provision() {
  local i=$1 d node kid; d="$(dir_of "$i")"
  if [[ ! -f "$d/provisioned" ]]; then
    node="$(g "$i" node id -q | cut -d@ -f1)"
    g "$i" layout assign -z dc1 -c 1G "$node" >/dev/null
    g "$i" layout apply --version 1 >/dev/null
    kid="$(cat "$d/key_id")"
    g "$i" key import --yes -n medvault "$kid" "$(cat "$d/key_secret")" >/dev/null
    for b in a b; do
      g "$i" bucket create "medvault-$i$b" >/dev/null
      g "$i" bucket allow --read --write --key "$kid" "medvault-$i$b" >/dev/null
    done
    touch "$d/provisioned"
  fi
  # S3 answers (an unauthenticated request gets 403 AccessDenied once the layout is live).
  for _ in $(seq 1 100); do
    code="$(curl -s -o /dev/null -w '%{http_code}' "http://127.0.0.1:$(s3_port "$i")/medvault-${i}a" || true)"
    [[ "$code" == 403 ]] && return 0
    sleep 0.2
  done
  die "instance $i S3 API not ready (last HTTP code $code)"
}

write_config() {
  local f="$STATE/storage.toml" i b
  umask 077
  {
    echo "# written by scripts/s3-servers.sh: k=4, m=2 over 6 buckets on 3 Garage instances"
    echo "chunk_size = 1048576"
    echo "k = 4"
    echo "m = 2"
    echo "concurrency = 12"
    for i in 1 2 3; do
      for b in a b; do
        cat <<EOF

[[buckets]]
kind = "s3"
name = "g$i$b"
bucket = "medvault-$i$b"
endpoint = "http://127.0.0.1:$(s3_port "$i")"
region = "garage"
path_style = true
access_key_id = "$(cat "$(dir_of "$i")/key_id")"
secret_access_key = "$(cat "$(dir_of "$i")/key_secret")"
EOF
      done
    done
  } > "$f"
  echo "$f"
}

stop_one() {
  local i=$1 pidf; pidf="$(dir_of "$i")/pid"
  if running "$i"; then
    kill "$(cat "$pidf")"
    for _ in $(seq 1 150); do running "$i" || break; sleep 0.1; done
    if running "$i"; then kill -9 "$(cat "$pidf")"; sleep 0.2; fi
  fi
  rm -f "$pidf"
}

case "$cmd" in
  up)
    mkdir -p "$STATE"
    for i in 1 2 3; do start_one "$i"; done
    for i in 1 2 3; do provision "$i"; done
    write_config
    ;;
  down)
    for d in "$STATE"/g[0-9]*; do
      [[ -d "$d" ]] && stop_one "${d##*/g}"
    done
    ;;
  stop) stop_one "$inst" ;;
  start) start_one "$inst"; provision "$inst" ;;
  env) echo "export MEDVAULT_TEST_S3_CONFIG=$STATE/storage.toml" ;;
  *) die "usage: $0 up|down|env [STATE_DIR] | stop|start N [STATE_DIR]" ;;
esac
