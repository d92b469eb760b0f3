#!/usr/bin/env bash
# Two real Pulp 3 servers ("primary" and "secondary") for the local stack, on a private
# PostgreSQL 15 cluster. Usage: dev/pulp.sh venv|install|start|stop|status
#   venv     only the pinned venv (so a running stack can switch to a new one with one restart).
#   install  venv (pinned by dev/pulp-requirements.txt), postgres cluster + databases, per-server
#            settings, migrations, admin password, GPG key + deb signing service. Idempotent.
#   start    install, then postgres and per server: API, content app, one worker. No-op if up
#            (processes started with an older venv/settings are restarted).
#   restart  install, then restart only the Pulp processes (after a pin/settings change).
#   stop     stop the Pulp processes and postgres.
#   status   one line per process; exits non-zero if any is down.
source "$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)/lib.sh"

# ---- extra variables of this script (not in stack.env) ------------------------------------
# Password of the $POSTGRES_USER role (Pulp connects over TCP 127.0.0.1:$POSTGRES_PORT).
PULP_DB_PASSWORD="${PULP_DB_PASSWORD:-pulp-dev-db}"
# gunicorn workers of each API / content app (2 cores: keep it small).
PULP_API_WORKERS="${PULP_API_WORKERS:-2}"
PULP_CONTENT_WORKERS="${PULP_CONTENT_WORKERS:-1}"
# Seconds to wait for a server to report its worker and content app online.
PULP_START_TIMEOUT="${PULP_START_TIMEOUT:-180}"
# --------------------------------------------------------------------------------------------

PULP_SERVERS=(primary secondary)
PULP_REQS="$DEV_DIR/pulp-requirements.txt"
PG_BIN=/usr/lib/postgresql/15/bin
PG_DIR="$PM_STATE/postgres"          # unix socket dir (0700, owned by the postgres OS user)
PG_DATA="$PG_DIR/data"
PG_MARKERS="$PM_STATE/postgres-markers"  # what was done to the current cluster (wiped on initdb)
PULP_DIR="$PM_STATE/pulp"
export GNUPGHOME="$PM_STATE/gnupg"
SIGN_SCRIPT="$PULP_DIR/sign-deb-release.sh"
SIGN_TEMPLATE="$DEV_DIR/pulp-sign-deb-release.sh.in"
DEB_SIGNING_PUBKEY="$PULP_DIR/deb-signing-key.asc"
GPG_UID="Pulp Manager Dev Signing <pulp-dev-signing@pulpmanager.test>"

pin() { sed -n "s/^$1==\([^ ]*\).*/\1/p" "$PULP_REQS"; }
PULPCORE_VERSION="$(pin pulpcore)"
PULP_RPM_VERSION="$(pin pulp-rpm)"
PULP_DEB_VERSION="$(pin pulp-deb)"
PULP_CONTAINER_VERSION="$(pin pulp-container)"
PULP_PYTHON_VERSION="$(pin pulp-python)"
[[ -n "$PULPCORE_VERSION" && -n "$PULP_RPM_VERSION" && -n "$PULP_DEB_VERSION" && -n "$PULP_CONTAINER_VERSION" && -n "$PULP_PYTHON_VERSION" ]] \
  || die "could not read the pulpcore/pulp-rpm/pulp-deb/pulp-container/pulp-python pins from $PULP_REQS"
PULP_VENV_KEY="pc${PULPCORE_VERSION}-rpm${PULP_RPM_VERSION}-deb${PULP_DEB_VERSION}-ctr${PULP_CONTAINER_VERSION}-python${PULP_PYTHON_VERSION}-py311-$(sha256sum "$PULP_REQS" | cut -c1-8)"
PULP_VENV="$PM_CACHE/pulp-venv-$PULP_VENV_KEY"

# OS user that runs postgres (postgres refuses to run as root).
if ((EUID == 0)); then PG_OS_USER=postgres; else PG_OS_USER="$(id -un)"; fi

api_port()     { local v="PULP_${1^^}_API_PORT"; echo "${!v}"; }
content_port() { local v="PULP_${1^^}_CONTENT_PORT"; echo "${!v}"; }
front_port()   { local v="PULP_${1^^}_PORT"; echo "${!v}"; }
server_dir()   { echo "$PULP_DIR/$1"; }
db_name()      { echo "pulp_$1"; }

# Run a command as the postgres OS user (exec, so a pid file points at the real process).
pg_run() {
  if ((EUID == 0)); then
    setpriv --reuid="$PG_OS_USER" --regid="$PG_OS_USER" --init-groups -- env HOME="$PG_DIR" "$@"
  else
    "$@"
  fi
}
psql_admin() { "$PG_BIN/psql" -X -q -v ON_ERROR_STOP=1 -h "$PG_DIR" -p "$POSTGRES_PORT" -U postgres "$@"; }

# Run pulpcore-manager for one server.
pulp_manager() {
  local name="$1"; shift
  PULP_SETTINGS="$(server_dir "$name")/settings.py" "$PULP_VENV/bin/pulpcore-manager" "$@"
}

# ---------------------------------------------------------------------------------- install --
install_venv_now() {
  local py; py="$(command -v python3)" || die "python3 not found"
  "$py" -c 'import sys; sys.exit(0 if sys.version_info[:2] == (3, 11) else 1)' \
    || die "python3 must be 3.11 (found $("$py" --version 2>&1))"
  rm -rf "$PULP_VENV"
  "$py" -m venv "$PULP_VENV"
  "$PULP_VENV/bin/pip" install -q --disable-pip-version-check -U pip >"$PM_LOGS/pulp-pip.log" 2>&1
  "$PULP_VENV/bin/pip" install --disable-pip-version-check --prefer-binary -r "$PULP_REQS" \
    >>"$PM_LOGS/pulp-pip.log" 2>&1 || { tail -30 "$PM_LOGS/pulp-pip.log"; die "pip install failed (log: $PM_LOGS/pulp-pip.log)"; }
  "$PULP_VENV/bin/pip" check >>"$PM_LOGS/pulp-pip.log" 2>&1 || { tail -10 "$PM_LOGS/pulp-pip.log"; die "pip check failed"; }
  # the native wheels of pulp_rpm must import
  "$PULP_VENV/bin/python" -c 'import createrepo_c, solv, rpm_rs, rpmrepo_metadata, pysequoia, psycopg, rfc3161_client, pulpcore, pulp_rpm, pulp_deb, pulp_container, pulp_python' \
    || die "the Pulp venv does not import its native modules"
  touch "$PULP_VENV/.pm-installed"
}

install_venv() {
  if [[ -f "$PULP_VENV/.pm-installed" ]]; then
    log "pulp venv present: $PULP_VENV (skipping install)"
    return 0
  fi
  timed "pulp venv (pulpcore $PULPCORE_VERSION, pulp_rpm $PULP_RPM_VERSION, pulp_deb $PULP_DEB_VERSION, pulp_container $PULP_CONTAINER_VERSION, pulp_python $PULP_PYTHON_VERSION) -> $PULP_VENV" install_venv_now
}

# postgres runs as $PG_OS_USER: it must be able to traverse every ancestor of $PG_DIR
# (/root is 0700). Grant only search (x) through an ACL on the directories that need it.
grant_traverse() {
  ((EUID == 0)) || return 0
  local d="$PG_DIR" dirs=()
  while [[ "$d" != "/" ]]; do d="$(dirname "$d")"; dirs=("$d" "${dirs[@]}"); done
  for d in "${dirs[@]}"; do
    if ! setpriv --reuid="$PG_OS_USER" --regid="$PG_OS_USER" --init-groups -- test -x "$d" 2>/dev/null; then
      command -v setfacl >/dev/null || apt_install acl
      log "granting $PG_OS_USER search (x) permission on $d (ACL)"
      setfacl -m "u:$PG_OS_USER:x" "$d"
    fi
  done
}

install_postgres_now() {
  rm -rf "$PG_DATA" "$PG_MARKERS"
  mkdir -p "$PG_DATA" "$PG_MARKERS"
  [[ "$PG_OS_USER" == "$(id -un)" ]] || chown "$PG_OS_USER:" "$PG_DIR" "$PG_DATA"
  chmod 700 "$PG_DIR" "$PG_DATA"
  pg_run "$PG_BIN/initdb" -D "$PG_DATA" -U postgres -E UTF8 --no-locale \
    --auth-local=trust --auth-host=scram-sha-256 >"$PM_LOGS/pulp-initdb.log" 2>&1 \
    || { tail -20 "$PM_LOGS/pulp-initdb.log"; die "initdb failed"; }
  echo "include 'pulp-dev.conf'" >>"$PG_DATA/postgresql.conf"
}

write_postgres_conf() {
  local conf="$PG_DATA/pulp-dev.conf" tmp
  tmp="$(mktemp)"
  cat >"$tmp" <<EOF
# Written by dev/pulp.sh (rewritten on every install).
listen_addresses = '127.0.0.1'
port = $POSTGRES_PORT
unix_socket_directories = '$PG_DIR'
max_connections = 200
shared_buffers = 128MB
synchronous_commit = off
logging_collector = off
log_min_messages = warning
log_line_prefix = '%m [%p] %q%u@%d '
EOF
  if ! cmp -s "$tmp" "$conf"; then
    install -m 0644 "$tmp" "$conf"
    [[ "$PG_OS_USER" == "$(id -un)" ]] || chown "$PG_OS_USER:" "$conf"
  fi
  rm -f "$tmp"
}

install_postgres() {
  if ((EUID == 0)); then
    id "$PG_OS_USER" >/dev/null 2>&1 || useradd --system --no-create-home --shell /usr/sbin/nologin "$PG_OS_USER"
  fi
  [[ -x "$PG_BIN/postgres" ]] || apt_install postgresql-15
  mkdir -p "$PG_DIR"
  grant_traverse
  if [[ -f "$PG_DATA/PG_VERSION" ]]; then
    log "postgres cluster present: $PG_DATA (skipping initdb)"
  else
    timed "postgres 15 cluster in $PG_DATA" install_postgres_now
  fi
  write_postgres_conf
}

start_postgres() {
  if ! pid_alive pulp-postgres; then
    port_open "$POSTGRES_PORT" && die "127.0.0.1:$POSTGRES_PORT is taken by a process not started by dev/pulp.sh"
    local cmd=("$PG_BIN/postgres" -D "$PG_DATA")
    if ((EUID == 0)); then
      cmd=(setpriv --reuid="$PG_OS_USER" --regid="$PG_OS_USER" --init-groups -- env HOME="$PG_DIR" "${cmd[@]}")
    fi
    start_bg pulp-postgres "${cmd[@]}"
  else
    log "pulp-postgres already running (pid $(cat "$PM_RUN/pulp-postgres.pid"))"
  fi
  local t0=$SECONDS
  until "$PG_BIN/pg_isready" -q -h 127.0.0.1 -p "$POSTGRES_PORT"; do
    pid_alive pulp-postgres || { tail -20 "$PM_LOGS/pulp-postgres.log"; die "postgres exited (log: $PM_LOGS/pulp-postgres.log)"; }
    ((SECONDS - t0 > 60)) && die "postgres not ready on 127.0.0.1:$POSTGRES_PORT within 60s"
    sleep 0.5
  done
}

stop_postgres() {
  if pid_alive pulp-postgres; then
    # SIGINT = "fast" shutdown (SIGTERM, stop_bg's signal, would wait for clients to leave).
    kill -INT "$(cat "$PM_RUN/pulp-postgres.pid")" 2>/dev/null || true
    for _ in $(seq 1 120); do pid_alive pulp-postgres || break; sleep 0.25; done
  fi
  stop_bg pulp-postgres
}

create_databases_now() {
  psql_admin -d postgres <<SQL
DO \$\$ BEGIN
  IF NOT EXISTS (SELECT FROM pg_roles WHERE rolname = '$POSTGRES_USER') THEN
    CREATE ROLE "$POSTGRES_USER" LOGIN PASSWORD '$PULP_DB_PASSWORD';
  ELSE
    ALTER ROLE "$POSTGRES_USER" LOGIN PASSWORD '$PULP_DB_PASSWORD';
  END IF;
END \$\$;
SQL
  local name db
  for name in "${PULP_SERVERS[@]}"; do
    db="$(db_name "$name")"
    if [[ -z "$(psql_admin -d postgres -tAc "SELECT 1 FROM pg_database WHERE datname = '$db'")" ]]; then
      psql_admin -d postgres -c "CREATE DATABASE \"$db\" OWNER \"$POSTGRES_USER\""
    fi
    # pulpcore's migration 0098 needs hstore; create it as superuser up front.
    psql_admin -d "$db" -c "CREATE EXTENSION IF NOT EXISTS hstore"
  done
}

# Per-server files that must survive re-installs: secret key and DB field encryption key.
write_server_settings() {
  local name="$1" dir; dir="$(server_dir "$name")"
  mkdir -p "$dir/media" "$dir/tmp" "$dir/assets" "$PULP_DIR/exports" "$PULP_DIR/imports"
  chmod 700 "$dir"
  [[ -s "$dir/secret_key" ]] || (umask 077; "$PULP_VENV/bin/python" -c 'import secrets; print(secrets.token_urlsafe(50))' >"$dir/secret_key")
  [[ -s "$dir/database_fields.symmetric.key" ]] || (umask 077; "$PULP_VENV/bin/python" -c \
    'from cryptography.fernet import Fernet; print(Fernet.generate_key().decode())' >"$dir/database_fields.symmetric.key")
  local tmp; tmp="$(mktemp)"
  cat >"$tmp" <<EOF
# Pulp settings of the local "$name" server. Written by dev/pulp.sh (rewritten on every
# install/start): do not edit. Selected with PULP_SETTINGS=$dir/settings.py
SECRET_KEY = "$(cat "$dir/secret_key")"
DB_ENCRYPTION_KEY = "$dir/database_fields.symmetric.key"
DEPLOY_ROOT = "$dir"
MEDIA_ROOT = "$dir/media"
STATIC_ROOT = "$dir/assets"
WORKING_DIRECTORY = "$dir/tmp"
FILE_UPLOAD_TEMP_DIR = "$dir/tmp"
DATABASES = {
    "default": {
        "ENGINE": "django.db.backends.postgresql",
        "NAME": "$(db_name "$name")",
        "USER": "$POSTGRES_USER",
        "PASSWORD": "$PULP_DB_PASSWORD",
        "HOST": "127.0.0.1",
        "PORT": "$POSTGRES_PORT",
        "CONN_MAX_AGE": 0,
    }
}
# The nginx front (dev/pulp-front.sh) is the one origin clients see, as in production.
CONTENT_ORIGIN = "http://127.0.0.1:$(front_port "$name")"
# sha256 is mandatory; neither pulp_rpm nor pulp_deb needs md5/sha1 (pulp_deb then omits the
# MD5Sum/SHA1 fields of its Release files; it would only log a warning, silenced below).
ALLOWED_CONTENT_CHECKSUMS = ["sha224", "sha256", "sha384", "sha512"]
FORBIDDEN_CHECKSUM_WARNINGS = False
# No Redis: no content cache, database-backed tasking.
CACHE_ENABLED = False
REDIS_URL = None
WORKER_TYPE = "pulpcore"
ANALYTICS = False
ALLOWED_EXPORT_PATHS = ["$PULP_DIR/exports"]
ALLOWED_IMPORT_PATHS = ["$PULP_DIR/exports", "$PULP_DIR/imports"]
# pulp_container: no token server in dev. The registry (/v2/ on the API, blobs redirected to
# /pulp/container/ on the content app) then serves non-private distributions to anonymous
# clients and takes pushes with the admin's basic auth, which is all a client/secondary needs.
TOKEN_AUTH_DISABLED = True
# pulp_python: the origin its /pypi/<base_path>/simple/ and JSON API advertise (the nginx front).
PYPI_API_HOSTNAME = "http://127.0.0.1:$(front_port "$name")"
EOF
  if ! cmp -s "$tmp" "$dir/settings.py"; then install -m 0600 "$tmp" "$dir/settings.py"; fi
  rm -f "$tmp"
}

migrate_server() {
  local name="$1" log="$PM_LOGS/pulp-$1-migrate.log"
  {
    pulp_manager "$name" migrate --noinput
    pulp_manager "$name" collectstatic --noinput --clear
    if [[ "$PULP_ADMIN_USER" == admin ]]; then
      pulp_manager "$name" reset-admin-password --password "$PULP_ADMIN_PASSWORD"
    else
      PM_U="$PULP_ADMIN_USER" PM_P="$PULP_ADMIN_PASSWORD" pulp_manager "$name" shell -c '
import os; from django.contrib.auth import get_user_model
u, _ = get_user_model().objects.get_or_create(username=os.environ["PM_U"])
u.is_superuser = u.is_staff = True; u.set_password(os.environ["PM_P"]); u.save()'
    fi
  } >"$log" 2>&1
}

# Both servers are migrated in parallel (2 cores, two databases).
migrate_servers_now() {
  local name pids=() names=() rc=0 i
  for name in "$@"; do migrate_server "$name" & pids+=($!); names+=("$name"); done
  for i in "${!pids[@]}"; do
    if wait "${pids[$i]}"; then
      touch "$PG_MARKERS/${names[$i]}.migrated-$PULP_VENV_KEY"
    else
      rc=1; tail -30 "$PM_LOGS/pulp-${names[$i]}-migrate.log" >&2
      log "migrations of ${names[$i]} failed (log: $PM_LOGS/pulp-${names[$i]}-migrate.log)"
    fi
  done
  return $rc
}

gpg_fingerprint() {
  gpg --batch --with-colons --list-secret-keys "$GPG_UID" 2>/dev/null | awk -F: '$1=="fpr"{print $10; exit}'
}

install_gpg_key_now() {
  gpg --batch --pinentry-mode loopback --passphrase '' \
    --quick-generate-key "$GPG_UID" rsa3072 sign never >"$PM_LOGS/pulp-gpg.log" 2>&1 \
    || { cat "$PM_LOGS/pulp-gpg.log"; die "gpg key generation failed"; }
}

install_gpg_key() {
  command -v gpg >/dev/null || apt_install gnupg
  mkdir -p "$GNUPGHOME"; chmod 700 "$GNUPGHOME"
  if [[ -n "$(gpg_fingerprint)" ]]; then
    log "stack GPG key present: $(gpg_fingerprint) (skipping generation)"
  else
    timed "stack GPG signing key (rsa3072, no passphrase) in $GNUPGHOME" install_gpg_key_now
  fi
  GPG_FPR="$(gpg_fingerprint)"
  [[ -n "$GPG_FPR" ]] || die "no GPG key for '$GPG_UID' in $GNUPGHOME"
  mkdir -p "$PULP_DIR"
  gpg --batch --armor --export "$GPG_FPR" >"$DEB_SIGNING_PUBKEY.tmp" && mv "$DEB_SIGNING_PUBKEY.tmp" "$DEB_SIGNING_PUBKEY"
  local tmp; tmp="$(mktemp)"
  sed -e "s|@GNUPGHOME@|$GNUPGHOME|g" -e "s|@KEY_FINGERPRINT@|$GPG_FPR|g" "$SIGN_TEMPLATE" >"$tmp"
  if ! cmp -s "$tmp" "$SIGN_SCRIPT"; then install -m 0755 "$tmp" "$SIGN_SCRIPT"; fi
  rm -f "$tmp"
}

# Registered fingerprint of signing service $DEB_SIGNING_SERVICE on a server ("" if none).
registered_signing_fpr() {
  PM_NAME="$DEB_SIGNING_SERVICE" pulp_manager "$1" shell -c '
import os; from pulpcore.app.models import SigningService
s = SigningService.objects.filter(name=os.environ["PM_NAME"]).first()
print("FPR=" + (f"{s.pubkey_fingerprint}:{s.script}" if s else ""))' 2>/dev/null | sed -n 's/^FPR=//p'
}

register_signing_service_now() {
  local name="$1" current
  current="$(registered_signing_fpr "$name" || true)"
  if [[ -n "$current" ]]; then
    log "$name: replacing signing service $DEB_SIGNING_SERVICE ($current)"
    pulp_manager "$name" remove-signing-service "$DEB_SIGNING_SERVICE" --class deb:AptReleaseSigningService
  fi
  pulp_manager "$name" add-signing-service --class deb:AptReleaseSigningService \
    "$DEB_SIGNING_SERVICE" "$SIGN_SCRIPT" "$GPG_FPR"
}

register_signing_service() {
  local name="$1" marker="$PG_MARKERS/$1.signing-$DEB_SIGNING_SERVICE-$GPG_FPR"
  if [[ -f "$marker" ]]; then
    log "$name: signing service $DEB_SIGNING_SERVICE registered (skipping)"
    return 0
  fi
  local want="$GPG_FPR:$SIGN_SCRIPT"
  if [[ "$(registered_signing_fpr "$name")" == "$want" ]]; then
    log "$name: signing service $DEB_SIGNING_SERVICE already registered (skipping)"
  else
    timed "$name: deb signing service $DEB_SIGNING_SERVICE (key $GPG_FPR)" register_signing_service_now "$name"
  fi
  touch "$marker"
}

cmd_install() {
  local t0=$SECONDS name todo=()
  install_venv
  install_postgres
  install_gpg_key
  for name in "${PULP_SERVERS[@]}"; do write_server_settings "$name"; done

  # Everything below needs the database: only start postgres when some of it is still to do.
  local need_db=0
  [[ -f "$PG_MARKERS/databases" ]] || need_db=1
  for name in "${PULP_SERVERS[@]}"; do
    [[ -f "$PG_MARKERS/$name.migrated-$PULP_VENV_KEY" ]] || { need_db=1; todo+=("$name"); }
    [[ -f "$PG_MARKERS/$name.signing-$DEB_SIGNING_SERVICE-$GPG_FPR" ]] || need_db=1
  done
  if ((need_db == 0)); then
    log "pulp databases migrated, admin password and signing service set (skipping)"
    log "pulp install: everything present, nothing to do (${SECONDS}s)"
    return 0
  fi
  local started_pg=0
  pid_alive pulp-postgres || started_pg=1
  start_postgres
  if [[ -f "$PG_MARKERS/databases" ]]; then
    log "postgres role $POSTGRES_USER and databases present (skipping)"
  else
    timed "postgres role $POSTGRES_USER + databases pulp_primary, pulp_secondary" create_databases_now
    touch "$PG_MARKERS/databases"
  fi
  if ((${#todo[@]})); then
    timed "pulp migrations + admin user for: ${todo[*]}" migrate_servers_now "${todo[@]}"
  else
    log "pulp databases migrated (skipping)"
  fi
  for name in "${PULP_SERVERS[@]}"; do register_signing_service "$name"; done
  # `install` alone leaves nothing running that was not running before.
  if ((started_pg)) && [[ "${PM_KEEP_PG:-0}" != 1 ]]; then stop_postgres; fi
  log "pulp install done in $((SECONDS - t0))s"
}

# ------------------------------------------------------------------------------------ start --
# env prefix of every process of server $1 (exec'd, so the pid files point at the real process).
pulp_env() {
  PULP_ENV=(env PULP_SETTINGS="$(server_dir "$1")/settings.py" GNUPGHOME="$GNUPGHOME"
    DJANGO_SETTINGS_MODULE=pulpcore.app.settings PATH="$PULP_VENV/bin:$PATH")
}

# Wait until the status endpoint reports this server's (current) worker, content app and API
# online. The status names are "<pid>@<host>": stale entries of a previous run do not count.
wait_server_online() {
  local name="$1" port; port="$(api_port "$name")"
  local url="http://127.0.0.1:$port/pulp/api/v3/status/" t0=$SECONDS body
  while :; do
    local want_worker want_content want_api
    want_worker="$(cat "$PM_RUN/pulp-$name-worker.pid" 2>/dev/null || true)"
    want_content="$(pgrep -P "$(cat "$PM_RUN/pulp-$name-content.pid" 2>/dev/null || echo 0)" | tr '\n' ' ' || true)"
    want_api="$(pgrep -P "$(cat "$PM_RUN/pulp-$name-api.pid" 2>/dev/null || echo 0)" | tr '\n' ' ' || true)"
    if body="$(curl -fsS --max-time 10 "$url" 2>/dev/null)" && WW="$want_worker" WC="$want_content" WA="$want_api" \
        "$PULP_VENV/bin/python" -c '
import json, os, sys
s = json.load(sys.stdin)
def pids(key): return {a["name"].split("@")[0] for a in s.get(key) or []}
ok = (s.get("database_connection", {}).get("connected")
      and os.environ["WW"] in pids("online_workers")
      and pids("online_content_apps") & set(os.environ["WC"].split())
      and pids("online_api_apps") & set(os.environ["WA"].split()))
sys.exit(0 if ok else 1)' <<<"$body"; then
      log "pulp $name online: http://127.0.0.1:$port/pulp/api/v3/ (content http://127.0.0.1:$(content_port "$name")/pulp/content/)"
      return 0
    fi
    local p
    for p in api content worker; do
      pid_alive "pulp-$name-$p" || { tail -30 "$PM_LOGS/pulp-$name-$p.log" >&2; die "pulp-$name-$p exited (log: $PM_LOGS/pulp-$name-$p.log)"; }
    done
    ((SECONDS - t0 > PULP_START_TIMEOUT)) && die "pulp $name not online within ${PULP_START_TIMEOUT}s; last status: ${body:-none} (logs: $PM_LOGS/pulp-$name-*.log)"
    sleep 1
  done
}

start_server() {
  local name="$1" api content
  api="$(api_port "$name")"; content="$(content_port "$name")"
  pulp_env "$name"
  # each process runs in its server dir (gunicorn would read a gunicorn.conf.py from the cwd)
  if ! pid_alive "pulp-$name-api" && port_open "$api"; then
    die "127.0.0.1:$api is taken by a process not started by dev/pulp.sh"
  fi
  ( cd "$(server_dir "$name")" && start_bg "pulp-$name-api" "${PULP_ENV[@]}" "$PULP_VENV/bin/pulpcore-api" \
    --bind "127.0.0.1:$api" --workers "$PULP_API_WORKERS" --timeout 60 --no-control-socket \
    --access-logfile - )
  if ! pid_alive "pulp-$name-content" && port_open "$content"; then
    die "127.0.0.1:$content is taken by a process not started by dev/pulp.sh"
  fi
  ( cd "$(server_dir "$name")" && start_bg "pulp-$name-content" "${PULP_ENV[@]}" "$PULP_VENV/bin/pulpcore-content" \
    --bind "127.0.0.1:$content" --workers "$PULP_CONTENT_WORKERS" --no-control-socket \
    --access-logfile - )
  ( cd "$(server_dir "$name")" && start_bg "pulp-$name-worker" "${PULP_ENV[@]}" "$PULP_VENV/bin/pulpcore-worker" )
}

# What the running Pulp processes were started with: venv key + hash of the settings files.
running_config() {
  local name
  { echo "$PULP_VENV_KEY"; for name in "${PULP_SERVERS[@]}"; do sha256sum <"$(server_dir "$name")/settings.py"; done; } \
    | sha256sum | cut -c1-16
}

stop_pulp_processes() {
  local name p pids=()
  for name in "${PULP_SERVERS[@]}"; do
    for p in worker content api; do stop_bg "pulp-$name-$p" & pids+=($!); done
  done
  ((${#pids[@]})) && wait "${pids[@]}"
  return 0
}

cmd_start() {
  local t0=$SECONDS name p want was any=0
  PM_KEEP_PG=1 cmd_install
  start_postgres
  # Processes still running from before a pin or settings change would keep serving the old
  # venv (without the new plugins' endpoints) against the freshly migrated databases.
  want="$(running_config)"; was="$(cat "$PM_RUN/pulp-config" 2>/dev/null || true)"
  for name in "${PULP_SERVERS[@]}"; do for p in api content worker; do pid_alive "pulp-$name-$p" && any=1; done; done
  local api_cmd; api_cmd="$(tr '\0' ' ' <"/proc/$(cat "$PM_RUN/pulp-primary-api.pid" 2>/dev/null || echo 0)/cmdline" 2>/dev/null || true)"
  if ((any)) && { [[ -n "$was" && "$was" != "$want" ]] || [[ -n "$api_cmd" && "$api_cmd" != *"$PULP_VENV/"* ]]; }; then
    log "pulp processes run an older venv/settings ($was, now $want): restarting them"
    stop_pulp_processes
  fi
  for name in "${PULP_SERVERS[@]}"; do start_server "$name"; done
  for name in "${PULP_SERVERS[@]}"; do wait_server_online "$name"; done
  echo "$want" >"$PM_RUN/pulp-config"
  log "pulp stack up in $((SECONDS - t0))s (admin: $PULP_ADMIN_USER / $PULP_ADMIN_PASSWORD)"
}

# ------------------------------------------------------------------------------- stop/status --
all_procs() {
  local name p
  echo pulp-postgres
  for name in "${PULP_SERVERS[@]}"; do for p in api content worker; do echo "pulp-$name-$p"; done; done
}

cmd_stop() {
  local name p pids=()
  # all Pulp processes in parallel (gunicorn shuts down gracefully on TERM), then postgres
  for name in "${PULP_SERVERS[@]}"; do
    for p in worker content api; do stop_bg "pulp-$name-$p" & pids+=($!); done
  done
  ((${#pids[@]})) && wait "${pids[@]}"
  stop_postgres
  # gpg-agent (started by the signing script) daemonizes outside our process groups.
  if [[ -d "$GNUPGHOME" ]]; then gpgconf --homedir "$GNUPGHOME" --kill gpg-agent 2>/dev/null || true; fi
  log "pulp stack stopped"
}

# Switch the running servers to the current venv/settings: install (migrations run while the old
# processes still serve), then only the Pulp processes restart; postgres keeps running.
cmd_restart() {
  PM_KEEP_PG=1 cmd_install
  stop_pulp_processes
  cmd_start
}

cmd_status() {
  local proc rc=0
  for proc in $(all_procs); do
    if pid_alive "$proc"; then
      printf '%-24s running (pid %s)\n' "$proc" "$(cat "$PM_RUN/$proc.pid")"
    else
      printf '%-24s stopped\n' "$proc"; rc=1
    fi
  done
  return $rc
}

case "${1:-}" in
  venv) install_venv ;;
  install) cmd_install ;;
  start) cmd_start ;;
  restart) cmd_restart ;;
  stop) cmd_stop ;;
  status) cmd_status ;;
  *) echo "usage: $0 venv|install|start|restart|stop|status" >&2; exit 2 ;;
esac
