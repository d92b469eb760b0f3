#!/usr/bin/env bash
# The real Temporal dev server: the Temporal CLI built from its Go module at a pinned tag
# (v1.5.1's go.mod has no `replace` directive, so `go install` works), history kept in SQLite.
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"

TEMPORAL_CLI_VERSION=v1.5.1
TEMPORAL_HOME="$PM_CACHE/temporal-cli-$TEMPORAL_CLI_VERSION"
TEMPORAL_BIN="$TEMPORAL_HOME/bin/temporal"
# The search attributes Pulp Manager's workflows set (temporal/searchAttributes.ts; a test keeps them equal).
PM_SEARCH_ATTRIBUTES="PulpServer=Keyword RepoGroup=Keyword RepoName=Keyword PulpManagerTaskId=Int FailedRepoCount=Int"
TEMPORAL_DB="$PM_STATE/temporal/temporal.sqlite"

install() {
  if [[ -x "$TEMPORAL_BIN" ]]; then log "temporal CLI $TEMPORAL_CLI_VERSION present (skipping install)"; return 0; fi
  timed "temporal CLI $TEMPORAL_CLI_VERSION (go install)" \
    go_install temporal-cli "$TEMPORAL_HOME/bin" "github.com/temporalio/cli/cmd/temporal@$TEMPORAL_CLI_VERSION"
}

start() {
  install
  mkdir -p "$(dirname "$TEMPORAL_DB")"
  if ! port_open "$TEMPORAL_PORT"; then
    # Search attributes the project's workflows upsert must exist before the first worker runs.
    # WAL and eager activities: the dev server is otherwise the bottleneck of a group sync on two
    # cores (a production cluster sets its own persistence and dynamic config).
    start_bg temporal "$TEMPORAL_BIN" server start-dev \
      --ip 127.0.0.1 --port "$TEMPORAL_PORT" \
      --ui-ip 127.0.0.1 --ui-port "$TEMPORAL_UI_PORT" \
      --http-port "$TEMPORAL_HTTP_PORT" --metrics-port "$TEMPORAL_METRICS_PORT" \
      --db-filename "$TEMPORAL_DB" --namespace default --namespace pulp-manager-test \
      --namespace pulp-manager-test-api --namespace pulp-manager-test-cli \
      $(for a in $PM_SEARCH_ATTRIBUTES; do printf -- '--search-attribute %s ' "$a"; done) \
      --sqlite-pragma journal_mode=wal --sqlite-pragma synchronous=normal \
      --dynamic-config-value system.enableActivityEagerExecution=true \
      --log-level warn
  else
    log "temporal already listening on 127.0.0.1:$TEMPORAL_PORT"
  fi
  wait_port "$TEMPORAL_PORT" temporal 120
  local t0=$SECONDS
  until "$TEMPORAL_BIN" operator cluster health --address "127.0.0.1:$TEMPORAL_PORT" >/dev/null 2>&1; do
    (( SECONDS - t0 > 120 )) && die "temporal did not become healthy (log: $PM_LOGS/temporal.log)"
    sleep 1
  done
  ensure_search_attributes
  log "temporal ready: grpc 127.0.0.1:$TEMPORAL_PORT, web UI http://127.0.0.1:$TEMPORAL_UI_PORT"
}

# A server started by an earlier release of this script (its SQLite file kept in the state dir)
# lacks attributes added since: add the missing ones (the list is temporal/searchAttributes.ts).
ensure_search_attributes() {
  local ns attr have
  for ns in default pulp-manager-test pulp-manager-test-api pulp-manager-test-cli; do
    have=$("$TEMPORAL_BIN" operator search-attribute list --address "127.0.0.1:$TEMPORAL_PORT" -n "$ns" 2>/dev/null || true)
    for attr in $PM_SEARCH_ATTRIBUTES; do
      grep -qw "${attr%%=*}" <<<"$have" && continue
      "$TEMPORAL_BIN" operator search-attribute create --address "127.0.0.1:$TEMPORAL_PORT" -n "$ns" \
        --name "${attr%%=*}" --type "${attr#*=}" >/dev/null \
        && log "temporal: added search attribute ${attr%%=*} to $ns"
    done
  done
}

stop() { stop_bg temporal; }

status() {
  if port_open "$TEMPORAL_PORT"; then echo "temporal: running (127.0.0.1:$TEMPORAL_PORT, UI :$TEMPORAL_UI_PORT)"
  else echo "temporal: stopped"; return 1; fi
}

case "${1:-}" in
  install) install ;; start) start ;; stop) stop ;; status) status ;;
  bin) echo "$TEMPORAL_BIN" ;;
  *) echo "usage: $0 install|start|stop|status|bin" >&2; exit 2 ;;
esac
