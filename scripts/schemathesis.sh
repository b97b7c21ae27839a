#!/usr/bin/env bash
# Schemathesis (from PyPI) in a private virtualenv: the API fuzzer the schemathesis test runs
# against the live server, once per role (tests/tests/schemathesis.rs).
#   scripts/schemathesis.sh install  -> create the venv and install the pinned version (idempotent)
#   scripts/schemathesis.sh path     -> print the venv's `st` (make test exports it as
#                                       MEDVAULT_TEST_SCHEMATHESIS)
set -euo pipefail
version=4.32.5
venv="${MEDVAULT_TOOLS_DIR:-${XDG_CACHE_HOME:-$HOME/.cache}/medvault}/schemathesis-venv"
case "${1:-install}" in
  install)
    if [ "$("$venv/bin/st" --version 2>/dev/null | awk '{print $NF}')" != "$version" ]; then
      echo "[schemathesis] installing schemathesis $version into $venv"
      python3 -m venv "$venv"
      "$venv/bin/pip" install -q "schemathesis==$version"
    fi
    ;;
  path) echo "$venv/bin/st" ;;
  *) echo "usage: $0 install|path" >&2; exit 2 ;;
esac
