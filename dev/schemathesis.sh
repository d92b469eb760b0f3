#!/usr/bin/env bash
# A venv with schemathesis (pinned with its dependencies by dev/schemathesis-requirements.txt)
# for test/api/schemathesis.test.ts, which checks the API against its own OpenAPI document.
# Usage: dev/schemathesis.sh install|path
#   install  create $PM_CACHE/schemathesis-venv-<key> once (skipped when present)
#   path     print the venv's directory
source "$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)/lib.sh"

REQS="$DEV_DIR/schemathesis-requirements.txt"
SCHEMATHESIS_VERSION="$(sed -n 's/^schemathesis==\([^ ]*\).*/\1/p' "$REQS")"
[[ -n "$SCHEMATHESIS_VERSION" ]] || die "could not read the schemathesis pin from $REQS"
VENV="$PM_CACHE/schemathesis-venv-${SCHEMATHESIS_VERSION}-py311-$(sha256sum "$REQS" | cut -c1-8)"

install_now() {
  pinned_venv "$VENV" "$REQS" schemathesis
  "$VENV/bin/schemathesis" --version | grep -q "$SCHEMATHESIS_VERSION" \
    || die "the venv's schemathesis is not $SCHEMATHESIS_VERSION"
  touch "$VENV/.pm-installed"
}

case "${1:-install}" in
  install)
    if [[ -f "$VENV/.pm-installed" ]]; then
      log "schemathesis venv present: $VENV (skipping install)"
    else
      timed "schemathesis $SCHEMATHESIS_VERSION venv -> $VENV" install_now
    fi
    ;;
  path) echo "$VENV" ;;
  *) die "usage: $0 install|path" ;;
esac
