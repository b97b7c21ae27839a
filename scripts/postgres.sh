#!/usr/bin/env bash
# Makes sure a PostgreSQL server answers on 127.0.0.1:5432 for the tests.
# Uses a running one when it answers; otherwise starts the installed cluster, or installs
# Debian's postgresql, allows trust auth on loopback (a throwaway test server) and starts it.
set -euo pipefail
host=127.0.0.1 port=5432

ready() { pg_isready -q -h "$host" -p "$port" 2>/dev/null; }

case "${1:-ensure}" in
  ensure)
    ready && exit 0
    if ! command -v pg_ctlcluster >/dev/null 2>&1; then
      echo "[postgres] installing Debian's postgresql"
      sudo=""; [ "$(id -u)" = 0 ] || sudo="sudo"
      $sudo apt-get update -qq
      DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -qq postgresql >/dev/null
    fi
    ver="$(ls /etc/postgresql | sort -V | tail -n 1)"
    hba="/etc/postgresql/$ver/main/pg_hba.conf"
    if ! grep -q '^# medvault-test' "$hba"; then
      sudo=""; [ "$(id -u)" = 0 ] || sudo="sudo"
      { echo '# medvault-test: trust on loopback for the throwaway test server'
        echo 'host all all 127.0.0.1/32 trust'
        cat "$hba"; } | $sudo tee "$hba.new" >/dev/null && $sudo mv "$hba.new" "$hba"
    fi
    pg_ctlcluster --skip-systemctl-redirect "$ver" main start 2>/dev/null \
      || pg_ctlcluster "$ver" main start
    for _ in $(seq 1 30); do ready && exit 0; sleep 1; done
    echo "[postgres] server did not come up on $host:$port" >&2
    exit 1
    ;;
  *) echo "usage: $0 ensure" >&2; exit 2 ;;
esac
