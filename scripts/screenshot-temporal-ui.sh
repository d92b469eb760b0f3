#!/usr/bin/env bash
# Takes a screenshot of the Temporal Web UI (workflows and schedules of the demo) with headless
# Chromium from Debian, into docs/. Run after `make demo`.
source "$(dirname "${BASH_SOURCE[0]}")/../dev/lib.sh"
apt_install chromium
out_dir="$REPO_DIR/docs"
mkdir -p "$out_dir"
profile="$(mktemp -d)"
trap 'rm -rf "$profile"' EXIT
shot() {
  local url="$1" file="$2"
  # The flags keep Chromium off the network this machine does not have (see the env notes).
  chromium --headless --no-sandbox --disable-gpu --disable-quic --no-first-run \
    --disable-background-networking --disable-component-update --disable-sync \
    --user-data-dir="$profile" --window-size=1500,950 --virtual-time-budget=15000 \
    --screenshot="$file" "$url" >/dev/null 2>&1
  [[ -s "$file" ]] || die "no screenshot of $url"
  log "wrote $file"
}
ui="http://127.0.0.1:$TEMPORAL_UI_PORT/namespaces/default"
# The workflow list with the search attributes as columns, set the way the UI stores them.
node --experimental-websocket --import tsx "$REPO_DIR/scripts/screenshotWorkflowList.ts" \
  "http://127.0.0.1:$TEMPORAL_UI_PORT" default "$out_dir/temporal-ui-workflows.png" \
  || die "no screenshot of the workflow list"
log "wrote $out_dir/temporal-ui-workflows.png"
shot "$ui/schedules" "$out_dir/temporal-ui-schedules.png"
