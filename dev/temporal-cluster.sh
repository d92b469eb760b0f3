#!/usr/bin/env bash
# The `cluster` profile of the stack (issue 16): a real multi-service Temporal cluster, the server
# built from its Go module at a pinned release (go.temporal.io/server v1.29.1 has no `replace` in
# its go.mod), persistence on the stack's PostgreSQL (dev/pulp.sh) with the schema set up and
# updated by the release's own SQL tool, frontend / history / matching / worker as four processes,
# mTLS on the frontend (client certificates required) and on internode traffic, certificates made
# by openssl for the stack, and the Web UI (ui-server module) connected over mTLS. Started only by the cluster test and `make test-cluster`, never by
# dev/up: it costs ~300 MB of memory the other tests do not need.
#
#   install  build server + sql tool into the cache, make certificates, create role/databases,
#            set up / update both schemas
#   start    install, start the four services, create the namespace and search attributes
#   stop     stop the four services (PostgreSQL is the stack's and keeps running)
#   status   one line per service
#   env      the settings a client needs (address, namespace, certificate paths), as KEY=value
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"

TEMPORAL_SERVER_VERSION=v1.29.1
SERVER_HOME="$PM_CACHE/temporal-server-$TEMPORAL_SERVER_VERSION"
SERVER_BIN="$SERVER_HOME/bin/server"
SQL_TOOL_BIN="$SERVER_HOME/bin/sql"
# The Web UI: the ui-server Go module at the release the Temporal CLI v1.5.1 embeds (its go.mod
# has no `replace`; newer releases need a newer Go than the stack's).
TEMPORAL_UI_SERVER_VERSION=v2.42.1
UI_HOME="$PM_CACHE/temporal-ui-server-$TEMPORAL_UI_SERVER_VERSION"
UI_BIN="$UI_HOME/bin/server"
TEMPORAL_CLI_BIN="$(bash "$DEV_DIR/temporal.sh" bin)"
# PM_SEARCH_ATTRIBUTES, the same list the dev server gets.
eval "$(grep '^PM_SEARCH_ATTRIBUTES=' "$DEV_DIR/temporal.sh")"

CLUSTER_DIR="$PM_STATE/temporal-cluster"
CERT_DIR="$CLUSTER_DIR/certs"
CONF_DIR="$CLUSTER_DIR/config"
SERVICES=(history matching frontend worker)
# The stack's PostgreSQL (dev/pulp.sh): admin over its unix socket, Temporal over TCP with a password.
PG_BIN=/usr/lib/postgresql/15/bin
PG_SOCKET_DIR="$PM_STATE/postgres"
TEMPORAL_CLUSTER_DB_USER=temporal
TEMPORAL_CLUSTER_DB_PASSWORD=temporal-cluster-dev
TEMPORAL_CLUSTER_DB=temporal
TEMPORAL_CLUSTER_VISIBILITY_DB=temporal_visibility
# Four shards: the smallest count that still spreads workflows over shards (fixed for the life of
# the database). Production sizing is in README.md "Running in production".
TEMPORAL_CLUSTER_HISTORY_SHARDS=4

grpc_port() { case "$1" in frontend) echo "$TEMPORAL_CLUSTER_PORT" ;; history) echo "$TEMPORAL_CLUSTER_HISTORY_PORT" ;;
  matching) echo "$TEMPORAL_CLUSTER_MATCHING_PORT" ;; worker) echo "$TEMPORAL_CLUSTER_WORKER_PORT" ;; esac; }
membership_port() { echo $(( $(grpc_port "$1") + 700 )); }

install_binaries() {
  if [[ -x "$SERVER_BIN" && -x "$SQL_TOOL_BIN" ]]; then
    log "temporal server $TEMPORAL_SERVER_VERSION present (skipping install)"; return 0
  fi
  timed "temporal server + sql tool $TEMPORAL_SERVER_VERSION (go install)" \
    go_install temporal-server "$SERVER_HOME/bin" "go.temporal.io/server/cmd/server@$TEMPORAL_SERVER_VERSION" \
    "go.temporal.io/server/cmd/tools/sql@$TEMPORAL_SERVER_VERSION"
}

install_ui() {
  if [[ -x "$UI_BIN" ]]; then log "temporal ui-server $TEMPORAL_UI_SERVER_VERSION present (skipping install)"; return 0; fi
  timed "temporal ui-server $TEMPORAL_UI_SERVER_VERSION (go install)" \
    go_install temporal-ui-server "$UI_HOME/bin" "github.com/temporalio/ui-server/v2/cmd/server@$TEMPORAL_UI_SERVER_VERSION"
}

# sign NAME CA_NAME SUBJECT_CN EXT: a key + certificate signed by CA_NAME (files in $CERT_DIR).
sign() {
  local name="$1" ca="$2" cn="$3" ext="$4"
  openssl req -new -newkey rsa:2048 -nodes -keyout "$CERT_DIR/$name.key" -subj "/O=Pulp Manager dev/CN=$cn" \
    -out "$CERT_DIR/$name.csr" 2>/dev/null
  openssl x509 -req -in "$CERT_DIR/$name.csr" -CA "$CERT_DIR/$ca.pem" -CAkey "$CERT_DIR/$ca.key" -CAcreateserial \
    -days 3650 -sha256 -extfile <(printf '%s\n' "$ext") -out "$CERT_DIR/$name.pem" 2>/dev/null
  rm -f "$CERT_DIR/$name.csr"
}

make_ca() {
  openssl req -x509 -new -newkey rsa:2048 -nodes -days 3650 -sha256 -keyout "$CERT_DIR/$1.key" \
    -subj "/O=Pulp Manager dev/CN=$2" -addext "basicConstraints=critical,CA:TRUE" \
    -addext "keyUsage=critical,keyCertSign,cRLSign" -out "$CERT_DIR/$1.pem" 2>/dev/null
}

# The stack's CA signs the server certificate (frontend and internode; the internode client
# presents it too), the client certificate Pulp Manager and the CLI use, and the system worker's.
# A second, unrelated CA signs a client certificate the server must refuse (the cluster test).
install_certs() {
  if [[ -s "$CERT_DIR/untrusted-client.pem" ]]; then log "cluster certificates present (skipping)"; return 0; fi
  rm -rf "$CERT_DIR"; mkdir -p "$CERT_DIR"; chmod 700 "$CERT_DIR"
  make_ca ca "Pulp Manager dev cluster CA"
  sign server ca localhost "$(printf '%s\n' 'basicConstraints=CA:FALSE' 'keyUsage=critical,digitalSignature,keyEncipherment' \
    'extendedKeyUsage=serverAuth,clientAuth' 'subjectAltName=DNS:localhost,IP:127.0.0.1')"
  local client_ext; client_ext="$(printf '%s\n' 'basicConstraints=CA:FALSE' 'keyUsage=critical,digitalSignature,keyEncipherment' 'extendedKeyUsage=clientAuth')"
  sign client ca pulp-manager "$client_ext"
  sign system-worker ca temporal-system-worker "$client_ext"
  make_ca untrusted-ca "Some other CA"
  sign untrusted-client untrusted-ca pulp-manager "$client_ext"
  chmod 600 "$CERT_DIR"/*.key
  log "cluster certificates written to $CERT_DIR"
}

psql_admin() { "$PG_BIN/psql" -X -q -v ON_ERROR_STOP=1 -h "$PG_SOCKET_DIR" -p "$POSTGRES_PORT" -U postgres "$@"; }

sql_tool() {
  "$SQL_TOOL_BIN" --plugin postgres12 --ep 127.0.0.1 -p "$POSTGRES_PORT" -u "$TEMPORAL_CLUSTER_DB_USER" \
    --pw "$TEMPORAL_CLUSTER_DB_PASSWORD" "$@"
}

install_databases() {
  "$PG_BIN/pg_isready" -q -h 127.0.0.1 -p "$POSTGRES_PORT" \
    || die "the stack's PostgreSQL is not running on 127.0.0.1:$POSTGRES_PORT (make stack-up)"
  psql_admin -d postgres <<SQL
DO \$\$ BEGIN
  IF NOT EXISTS (SELECT FROM pg_roles WHERE rolname = '$TEMPORAL_CLUSTER_DB_USER') THEN
    CREATE ROLE "$TEMPORAL_CLUSTER_DB_USER" LOGIN PASSWORD '$TEMPORAL_CLUSTER_DB_PASSWORD';
  END IF;
END \$\$;
SQL
  local db schema
  for db in "$TEMPORAL_CLUSTER_DB" "$TEMPORAL_CLUSTER_VISIBILITY_DB"; do
    if [[ -z "$(psql_admin -d postgres -tAc "SELECT 1 FROM pg_database WHERE datname = '$db'")" ]]; then
      psql_admin -d postgres -c "CREATE DATABASE \"$db\" OWNER \"$TEMPORAL_CLUSTER_DB_USER\""
      # Version 0.0 creates the schema_version tables only; update-schema then applies every
      # versioned step of this release (also what an upgrade of TEMPORAL_SERVER_VERSION runs).
      sql_tool --db "$db" setup-schema -v 0.0 >>"$PM_LOGS/temporal-cluster-schema.log" 2>&1 \
        || { tail -20 "$PM_LOGS/temporal-cluster-schema.log"; die "setup-schema $db failed"; }
    fi
    [[ "$db" == "$TEMPORAL_CLUSTER_DB" ]] && schema=postgresql/v12/temporal || schema=postgresql/v12/visibility
    sql_tool --db "$db" update-schema --schema-name "$schema" >>"$PM_LOGS/temporal-cluster-schema.log" 2>&1 \
      || { tail -20 "$PM_LOGS/temporal-cluster-schema.log"; die "update-schema $db failed"; }
  done
  log "cluster databases $TEMPORAL_CLUSTER_DB, $TEMPORAL_CLUSTER_VISIBILITY_DB at the schema of $TEMPORAL_SERVER_VERSION"
}

# The server's configuration is the deployment's own (deploy/compose/temporal/server.yaml, a
# template the server renders from the environment): this profile runs what docker-compose.yml
# describes, with its own ports, database, certificates and shard count (server_env).
write_config() {
  mkdir -p "$CONF_DIR"
  install -m 0644 "$DEV_DIR/../deploy/compose/temporal/server.yaml" "$CONF_DIR/cluster.yaml"
  cat >"$CONF_DIR/dynamicconfig.yaml" <<'EOF'
# Written by dev/temporal-cluster.sh. A namespace or search attribute created a moment ago is
# visible at once (the test creates them right before its workers start).
system.forceSearchAttributesCacheRefreshOnRead:
  - value: true
EOF
}

# The environment server.yaml reads, for the processes of this profile.
server_env() {
  local s
  echo LOG_LEVEL=warn NUM_HISTORY_SHARDS="$TEMPORAL_CLUSTER_HISTORY_SHARDS" \
    DBNAME="$TEMPORAL_CLUSTER_DB" VISIBILITY_DBNAME="$TEMPORAL_CLUSTER_VISIBILITY_DB" \
    POSTGRES_SEEDS=127.0.0.1 DB_PORT="$POSTGRES_PORT" POSTGRES_USER="$TEMPORAL_CLUSTER_DB_USER" \
    POSTGRES_PWD="$TEMPORAL_CLUSTER_DB_PASSWORD" SQL_MAX_CONNS=10 SQL_VIS_MAX_CONNS=2 \
    TEMPORAL_BROADCAST_ADDRESS=127.0.0.1 BIND_ON_IP=127.0.0.1 \
    TEMPORAL_TLS_CA_CERT="$CERT_DIR/ca.pem" TEMPORAL_TLS_SERVER_CERT="$CERT_DIR/server.pem" \
    TEMPORAL_TLS_SERVER_KEY="$CERT_DIR/server.key" TEMPORAL_TLS_SERVER_NAME=localhost \
    TEMPORAL_TLS_SYSTEM_WORKER_CERT="$CERT_DIR/system-worker.pem" \
    TEMPORAL_TLS_SYSTEM_WORKER_KEY="$CERT_DIR/system-worker.key" \
    FRONTEND_HTTP_PORT="$TEMPORAL_CLUSTER_HTTP_PORT" \
    PUBLIC_FRONTEND_ADDRESS="localhost:$TEMPORAL_CLUSTER_PORT" \
    DYNAMIC_CONFIG_FILE_PATH="$CONF_DIR/dynamicconfig.yaml"
  for s in frontend history matching worker; do
    printf ' %s_GRPC_PORT=%s %s_MEMBERSHIP_PORT=%s' "${s^^}" "$(grpc_port "$s")" "${s^^}" "$(membership_port "$s")"
  done
}

# The UI talks to the frontend like any client: over mTLS with the stack's client certificate.
write_ui_config() {
  mkdir -p "$CLUSTER_DIR/ui/config"
  cat >"$CLUSTER_DIR/ui/config/cluster.yaml" <<EOF
# Written by dev/temporal-cluster.sh.
temporalGrpcAddress: localhost:$TEMPORAL_CLUSTER_PORT
host: 127.0.0.1
port: $TEMPORAL_CLUSTER_UI_PORT
enableUi: true
defaultNamespace: $TEMPORAL_CLUSTER_NAMESPACE
notifyOnNewVersion: false
tls:
  caFile: $CERT_DIR/ca.pem
  certFile: $CERT_DIR/client.pem
  keyFile: $CERT_DIR/client.key
  serverName: localhost
  enableHostVerification: true
EOF
}

install_all() {
  install_binaries
  install_ui
  install_certs
  install_databases
  write_config
  write_ui_config
}

cli() {
  "$TEMPORAL_CLI_BIN" "$@" --address "127.0.0.1:$TEMPORAL_CLUSTER_PORT" --tls-cert-path "$CERT_DIR/client.pem" \
    --tls-key-path "$CERT_DIR/client.key" --tls-ca-path "$CERT_DIR/ca.pem" --tls-server-name localhost
}

start_service() {
  local s="$1"
  # shellcheck disable=SC2046 # server_env prints KEY=value words without spaces
  start_bg "temporal-cluster-$s" env $(server_env) "$SERVER_BIN" --root "$CLUSTER_DIR" --config config \
    --env cluster --allow-no-auth start --service "$s"
}

start() {
  install_all
  local s t0
  for s in "${SERVICES[@]}"; do start_service "$s"; done
  # Every service opens its membership (ringpop) port; the worker service has no gRPC listener.
  for s in "${SERVICES[@]}"; do wait_port "$(membership_port "$s")" "temporal-cluster-$s" 120; done
  t0=$SECONDS
  until cli operator cluster health >/dev/null 2>&1; do
    (( SECONDS - t0 > 120 )) && die "temporal cluster did not become healthy (logs: $PM_LOGS/temporal-cluster-*.log)"
    sleep 1
  done
  ensure_namespace "$TEMPORAL_CLUSTER_NAMESPACE"
  start_bg temporal-cluster-ui "$UI_BIN" --root "$CLUSTER_DIR/ui" --config config --env cluster start
  wait_port "$TEMPORAL_CLUSTER_UI_PORT" temporal-cluster-ui 60
  log "temporal cluster ready: grpc 127.0.0.1:$TEMPORAL_CLUSTER_PORT (mTLS), namespace $TEMPORAL_CLUSTER_NAMESPACE, web UI http://127.0.0.1:$TEMPORAL_CLUSTER_UI_PORT"
}

ensure_namespace() {
  local ns="$1" t0=$SECONDS attr have
  cli operator namespace describe -n "$ns" >/dev/null 2>&1 \
    || cli operator namespace create -n "$ns" --retention 72h >/dev/null
  until cli operator namespace describe -n "$ns" >/dev/null 2>&1; do
    (( SECONDS - t0 > 60 )) && die "namespace $ns not visible after 60s"; sleep 1
  done
  have=$(cli operator search-attribute list -n "$ns" 2>/dev/null || true)
  for attr in $PM_SEARCH_ATTRIBUTES; do
    grep -qw "${attr%%=*}" <<<"$have" && continue
    # Right after namespace creation the history service may not know the namespace yet: retry.
    t0=$SECONDS
    until cli operator search-attribute create -n "$ns" --name "${attr%%=*}" --type "${attr#*=}" >/dev/null 2>&1; do
      (( SECONDS - t0 > 60 )) && die "search attribute ${attr%%=*} could not be created in $ns"; sleep 1
    done
  done
}

stop() {
  local s
  for s in ui worker frontend matching history; do stop_bg "temporal-cluster-$s"; done
}

status() {
  local s rc=0
  for s in "${SERVICES[@]}"; do
    if pid_alive "temporal-cluster-$s" && port_open "$(membership_port "$s")"; then
      echo "temporal-cluster-$s: running (grpc 127.0.0.1:$(grpc_port "$s"), membership :$(membership_port "$s"))"
    else echo "temporal-cluster-$s: stopped"; rc=1; fi
  done
  if pid_alive temporal-cluster-ui && port_open "$TEMPORAL_CLUSTER_UI_PORT"; then
    echo "temporal-cluster-ui: running (http://127.0.0.1:$TEMPORAL_CLUSTER_UI_PORT)"
  else echo "temporal-cluster-ui: stopped"; rc=1; fi
  return $rc
}

print_env() {
  cat <<EOF
TEMPORAL_SERVER_VERSION=$TEMPORAL_SERVER_VERSION
TEMPORAL_CLUSTER_ADDRESS=localhost:$TEMPORAL_CLUSTER_PORT
TEMPORAL_CLUSTER_UI_URL=http://127.0.0.1:$TEMPORAL_CLUSTER_UI_PORT
TEMPORAL_CLUSTER_NAMESPACE=$TEMPORAL_CLUSTER_NAMESPACE
TEMPORAL_CLUSTER_CA=$CERT_DIR/ca.pem
TEMPORAL_CLUSTER_CLIENT_CERT=$CERT_DIR/client.pem
TEMPORAL_CLUSTER_CLIENT_KEY=$CERT_DIR/client.key
TEMPORAL_CLUSTER_UNTRUSTED_CLIENT_CERT=$CERT_DIR/untrusted-client.pem
TEMPORAL_CLUSTER_UNTRUSTED_CLIENT_KEY=$CERT_DIR/untrusted-client.key
TEMPORAL_CLUSTER_HISTORY_SHARDS=$TEMPORAL_CLUSTER_HISTORY_SHARDS
TEMPORAL_CLUSTER_DB=$TEMPORAL_CLUSTER_DB
TEMPORAL_CLUSTER_VISIBILITY_DB=$TEMPORAL_CLUSTER_VISIBILITY_DB
EOF
}

case "${1:-}" in
  install) install_all ;; start) start ;; stop) stop ;; status) status ;; env) print_env ;;
  # start-service / stop-service NAME: the fault tests kill and restart one service.
  start-service) start_service "$2"; wait_port "$(membership_port "$2")" "temporal-cluster-$2" 120 ;;
  stop-service) stop_bg "temporal-cluster-$2" ;;
  *) echo "usage: $0 install|start|stop|status|env|start-service NAME|stop-service NAME" >&2; exit 2 ;;
esac
