#!/bin/sh
# Creates the namespace Pulp Manager uses and the search attributes its workflows set (the same
# ones dev/temporal.sh declares for the local stack). Idempotent; run by temporal-namespace.
set -eu
ADDRESS="${TEMPORAL_ADDRESS:-temporal:7233}"
NAMESPACE="${DEFAULT_NAMESPACE:-default}"

attempt=0
until temporal operator cluster health --address "$ADDRESS"; do
  attempt=$((attempt + 1))
  [ "$attempt" -ge 30 ] && { echo "Temporal at $ADDRESS did not become healthy"; exit 1; }
  sleep 2
done

temporal operator namespace describe --address "$ADDRESS" -n "$NAMESPACE" >/dev/null 2>&1 ||
  temporal operator namespace create --address "$ADDRESS" -n "$NAMESPACE" --retention 30d

for attr in PulpServer=Keyword RepoGroup=Keyword RepoName=Keyword PulpManagerTaskId=Int FailedRepoCount=Int; do
  name="${attr%%=*}"
  type="${attr#*=}"
  temporal operator search-attribute create --address "$ADDRESS" -n "$NAMESPACE" --name "$name" --type "$type" ||
    echo "search attribute $name exists"
done
echo "namespace $NAMESPACE ready"
