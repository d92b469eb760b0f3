#!/bin/sh
# Creates the namespace Pulp Manager uses and the search attributes its workflows set (the same
# ones dev/temporal.sh declares for the local stack). Idempotent; run by temporal-namespace,
# over mTLS with the client certificate when TLS_DIR holds one (deploy/compose/tls).
set -eu
ADDRESS="${TEMPORAL_ADDRESS:-temporal-frontend:7233}"
NAMESPACE="${DEFAULT_NAMESPACE:-default}"
TLS_DIR="${TLS_DIR:-/run/secrets}"

t() {
  if [ -s "$TLS_DIR/temporal-client.pem" ]; then
    temporal "$@" --address "$ADDRESS" --tls-cert-path "$TLS_DIR/temporal-client.pem" \
      --tls-key-path "$TLS_DIR/temporal-client.key" --tls-ca-path "$TLS_DIR/temporal-ca.pem" \
      --tls-server-name "${TLS_SERVER_NAME:-temporal}"
  else
    temporal "$@" --address "$ADDRESS"
  fi
}

attempt=0
until t operator cluster health; do
  attempt=$((attempt + 1))
  [ "$attempt" -ge 30 ] && { echo "Temporal at $ADDRESS did not become healthy"; exit 1; }
  sleep 2
done

t operator namespace describe -n "$NAMESPACE" >/dev/null 2>&1 ||
  t operator namespace create -n "$NAMESPACE" --retention 30d

for attr in PulpServer=Keyword RepoGroup=Keyword RepoName=Keyword PulpManagerTaskId=Int FailedRepoCount=Int; do
  name="${attr%%=*}"
  type="${attr#*=}"
  t operator search-attribute create -n "$NAMESPACE" --name "$name" --type "$type" ||
    echo "search attribute $name exists"
done
echo "namespace $NAMESPACE ready"
