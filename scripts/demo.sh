#!/usr/bin/env bash
# `make demo`: Pulp Manager's main job on the local stack (dev/up has started it). Migrates the
# database, applies dev/config/pulp_config.yml (DB rows + Temporal Schedules), starts the worker
# and the API, registers the fixture repositories on the primary from the git repo config, syncs
# the primary's external repos, then the secondary from the primary, and prints the outcome
# through the REST API. Worker and API keep running for you to explore (make stack-down stops them).
source "$(dirname "${BASH_SOURCE[0]}")/../dev/lib.sh"
cd "$REPO_DIR"

DEMO_DIR="$PM_STATE/demo"
mkdir -p "$DEMO_DIR"
# config.ini of the stack, pointed at the git repo-config fixture (its path is machine-specific).
sed "s#^git_repo_config_dir=.*#git_repo_config=file://$PM_STATE/fixtures/repo-config.git\ngit_repo_config_dir=repo_config#" \
  dev/config/config.ini > "$DEMO_DIR/config.ini"
export PULP_MANAGER_CONFIG_PATH="$DEMO_DIR/config.ini"
export PULP_SYNC_CONFIG_PATH="$REPO_DIR/dev/config/pulp_config.yml"
export PULP_MANAGER_LOCAL_AUTH=true
export DB_PASSWORD="$MARIADB_PASSWORD"
# Random per demo state dir (never derived from the host name, which anyone can guess and forge
# admin tokens with); kept so tokens stay valid across demo runs.
if [ -z "${JWT_SECRET:-}" ]; then
  [ -s "$DEMO_DIR/jwt_secret" ] || (umask 077 && od -An -tx1 -N32 /dev/urandom | tr -d ' \n' > "$DEMO_DIR/jwt_secret")
  JWT_SECRET="$(cat "$DEMO_DIR/jwt_secret")"
fi
export JWT_SECRET
PM=(node --import tsx "$REPO_DIR/cli/main.ts")
TEMPORAL="$(bash dev/temporal.sh bin)"
PRIMARY="127.0.0.1:$PULP_PRIMARY_PORT"
SECONDARY="127.0.0.1:$PULP_SECONDARY_PORT"
API="http://127.0.0.1:$PM_API_PORT"

step() { printf '\n== %s\n' "$*"; }

step "database migrations"
"${PM[@]}" migrate

step "config apply (database + Temporal Schedules)"
"${PM[@]}" config apply

step "worker, API and exporter"
started=()
# Ctrl-C while the demo runs stops what it started; once it has finished they keep running.
trap 'echo; log "interrupted: stopping what the demo started"; for n in "${started[@]}"; do stop_bg "$n"; done; exit 130' INT
# Roles left running by an earlier demo run the code of that time: restart them on this one
# (SIGTERM, as a deploy does: a worker's running syncs are resumed, never canceled in Pulp).
for role in pm-worker pm-api pm-exporter; do
  pid_alive "$role" && stop_bg "$role"
  started+=("$role")
done
start_bg pm-worker "${PM[@]}" worker --metrics-port "$PM_WORKER_METRICS_PORT"
start_bg pm-api "${PM[@]}" api --host 127.0.0.1 --port "$PM_API_PORT"
start_bg pm-exporter "${PM[@]}" exporter --host 127.0.0.1 --port "$PM_METRICS_PORT"
wait_http "$API/health" pm-api 120
wait_http "http://127.0.0.1:$PM_METRICS_PORT/health" pm-exporter 120

# A scheduled workflow started now, through its Temporal Schedule, waited for to the end.
run_schedule() {
  local id="$1" before
  before="$(date -u +%Y-%m-%dT%H:%M:%SZ)"
  "$TEMPORAL" schedule trigger --address "127.0.0.1:$TEMPORAL_PORT" --schedule-id "$id" --overlap-policy AllowAll >/dev/null
  local wf=""
  for _ in $(seq 1 60); do
    wf="$("$TEMPORAL" workflow list --address "127.0.0.1:$TEMPORAL_PORT" -o json \
      --query "TemporalScheduledById = '$id' AND StartTime >= '$before'" | python3 -c 'import json,sys; d=json.load(sys.stdin); print(d[0]["execution"]["workflowId"] if d else "")')"
    [[ -n "$wf" ]] && break
    sleep 1
  done
  [[ -n "$wf" ]] || die "schedule $id did not start a run"
  echo "started $wf"
  # Progress while it runs: the workflow's own progress query (group syncs) or its status.
  local status=""
  while :; do
    status="$("$TEMPORAL" workflow describe --address "127.0.0.1:$TEMPORAL_PORT" --workflow-id "$wf" -o json \
      | python3 -c 'import json,sys; print(json.load(sys.stdin)["workflowExecutionInfo"]["status"])')"
    [[ "$status" == *RUNNING* ]] || break
    progress="$("$TEMPORAL" workflow query --address "127.0.0.1:$TEMPORAL_PORT" --workflow-id "$wf" --type progress -o json 2>/dev/null \
      | python3 -c 'import json,sys; r=json.load(sys.stdin)["queryResult"][0]; print("%s running, %s/%s done, %s failed" % (r["running"], r["completed"] + r["failed"] + r["skipped"] + r["canceled"], r["total"], r["failed"]))' 2>/dev/null || echo "running")"
    echo "  ... $progress"
    sleep 3
  done
  "$TEMPORAL" workflow describe --address "127.0.0.1:$TEMPORAL_PORT" --workflow-id "$wf" -o json \
    | python3 -c 'import json,sys; d=json.load(sys.stdin); print("status:", d["workflowExecutionInfo"]["status"])'
}

step "register the fixture repositories on the primary from git (schedule repo-registration/$PRIMARY)"
run_schedule "repo-registration/$PRIMARY"

step "sync the primary's external repos (schedule repo-group-sync/$PRIMARY/external_repos)"
run_schedule "repo-group-sync/$PRIMARY/external_repos"

step "sync the secondary from the primary (schedule repo-group-sync/$SECONDARY/external_repos)"
run_schedule "repo-group-sync/$SECONDARY/external_repos"

step "outcome, read through the REST API ($API/docs)"
python3 - "$API" <<'PY'
import json, sys, urllib.request
api = sys.argv[1]
get = lambda p: json.load(urllib.request.urlopen(api + p))
for s in get("/v1/pulp_servers")["items"]:
    print(f"server {s['name']}: repo sync health rollup {s['repo_sync_health_rollup']}")
    for r in get(f"/v1/pulp_servers/{s['id']}/repos?page_size=100")["items"]:
        print(f"  {r.get('name', r.get('repo_id'))}: {r.get('repo_sync_health')}")
for t in get("/v1/tasks?sort_by=date_queued&order_by=desc&page_size=10")["items"]:
    print(f"task {t['id']} {t['task_type']} {t['state']}: {t['name']}")
PY
step "checking the URLs"
check() {
  if curl -fsS -o /dev/null --max-time 10 "$2"; then echo "  ok   $1: $2"; else echo "  FAIL $1: $2"; bad=1; fi
}
bad=0
check "REST API docs" "$API/docs"
check "REST API openapi" "$API/openapi.json"
check "Temporal Web UI" "http://127.0.0.1:$TEMPORAL_UI_PORT/"
check "exporter metrics" "http://127.0.0.1:$PM_METRICS_PORT/metrics"
check "worker SDK metrics" "http://127.0.0.1:$PM_WORKER_METRICS_PORT/metrics"
check "secondary serves synced content" "http://$SECONDARY/pulp/content/files/ext-fixture-file/hello.txt"
# python and container repos (dev/fixtures/repo-config/remote/fixture-{python,container}.json): the
# secondary's PyPI simple API (pip installs from it) and its OCI registry serve what the primary synced.
check "secondary PyPI simple API (python)" "http://$SECONDARY/pypi/python/ext-fixture-python/simple/pm-hello/"
rm -rf "$DEMO_DIR/pip"
if python3 -m pip download -q --no-deps --no-cache-dir --disable-pip-version-check -d "$DEMO_DIR/pip" \
    --index-url "http://$SECONDARY/pypi/python/ext-fixture-python/simple/" pm-hello >/dev/null 2>&1; then
  echo "  ok   pip download pm-hello from the secondary: $(ls "$DEMO_DIR/pip" | tr '\n' ' ')"
else echo "  FAIL pip download pm-hello --index-url http://$SECONDARY/pypi/python/ext-fixture-python/simple/"; bad=1; fi
manifest="http://$SECONDARY/v2/containers/ext-fixture-container/manifests/latest"
if curl -fsS -o /dev/null --max-time 10 -H 'Accept: application/vnd.oci.image.manifest.v1+json' "$manifest"; then
  echo "  ok   secondary OCI registry (container): $manifest"
else echo "  FAIL secondary OCI registry (container): $manifest"; bad=1; fi
((bad == 0)) || die "some demo URLs do not answer"

step "screenshots of the Temporal Web UI (docs/)"
bash scripts/screenshot-temporal-ui.sh

cat <<MSG

A short tour:
  curl -s $API/v1/pulp_servers | python3 -m json.tool
  curl -s '$API/v1/tasks?task_type=repo_group_sync&sort_by=date_queued&order_by=desc'
  curl -s http://127.0.0.1:$PM_METRICS_PORT/metrics | grep repo_sync_health_rollup
  $TEMPORAL schedule list --address 127.0.0.1:$TEMPORAL_PORT
  $TEMPORAL workflow list --address 127.0.0.1:$TEMPORAL_PORT --limit 5

Worker, API and exporter are running (logs: $PM_LOGS/pm-worker.log, $PM_LOGS/pm-api.log).
  REST API + Swagger UI: $API/docs
  Temporal Web UI:       http://127.0.0.1:$TEMPORAL_UI_PORT
  Metrics:               http://127.0.0.1:$PM_METRICS_PORT/metrics (worker: :$PM_WORKER_METRICS_PORT/metrics)
  Primary content:       http://$PRIMARY/pulp/content/
  Secondary PyPI:        pip download --index-url http://$SECONDARY/pypi/python/ext-fixture-python/simple/ pm-hello
  Secondary registry:    http://$SECONDARY/v2/containers/ext-fixture-container/tags/list
  Stop everything:       make stack-down
MSG
