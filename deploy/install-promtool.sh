#!/usr/bin/env bash
# Installs promtool (Debian's prometheus package ships /usr/bin/promtool; no smaller package
# does) for the tests that check the exporter's output, the alert rules and prometheus.yml.
# Idempotent: apt_install skips installed packages and never starts the packaged service.
set -euo pipefail
# shellcheck source=../dev/lib.sh
source "$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)/dev/lib.sh"

apt_install prometheus
command -v promtool >/dev/null || die "promtool is still missing after installing Debian's prometheus package"
# The package enables its own service for the next boot; nothing here wants it running.
if command -v systemctl >/dev/null && systemctl is-enabled prometheus >/dev/null 2>&1; then
  systemctl disable prometheus >/dev/null 2>&1 || true
fi
log "promtool: $(promtool --version 2>&1 | head -1)"
