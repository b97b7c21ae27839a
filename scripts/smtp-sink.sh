#!/usr/bin/env bash
# The tests' real SMTP sink: aiosmtpd (from PyPI) in a private virtualenv.
#   scripts/smtp-sink.sh install  -> create the venv and install aiosmtpd (idempotent)
#   scripts/smtp-sink.sh python   -> print the venv's python (tests start the sink with it:
#                                    python -m aiosmtpd -n -l 127.0.0.1:PORT -c aiosmtpd.handlers.Mailbox DIR)
set -euo pipefail
venv="${MEDVAULT_TOOLS_DIR:-${XDG_CACHE_HOME:-$HOME/.cache}/medvault}/smtp-venv"
case "${1:-install}" in
  install)
    if ! "$venv/bin/python" -c 'import aiosmtpd' 2>/dev/null; then
      echo "[smtp-sink] installing aiosmtpd into $venv"
      python3 -m venv "$venv"
      "$venv/bin/pip" install -q aiosmtpd
    fi
    ;;
  python) echo "$venv/bin/python" ;;
  *) echo "usage: $0 install|python" >&2; exit 2 ;;
esac
