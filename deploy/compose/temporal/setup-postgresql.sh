#!/bin/sh
# Creates or upgrades Temporal's two PostgreSQL databases (run by the temporal-schema service of
# docker-compose.yml, image temporalio/admin-tools; dev/temporal-cluster.sh runs the same steps
# with the same release's tool). Idempotent: `create` tolerates an existing database, and
# setup-schema -v 0.0 followed by update-schema brings any version to the image's latest.
set -eu
: "${POSTGRES_SEEDS:?}" "${POSTGRES_USER:?}" "${POSTGRES_PWD:?}"
PORT="${DB_PORT:-5432}"
sql() { temporal-sql-tool --plugin postgres12 --ep "$POSTGRES_SEEDS" -u "$POSTGRES_USER" -p "$PORT" --pw "$POSTGRES_PWD" "$@"; }

until nc -z "$POSTGRES_SEEDS" "$PORT"; do echo "waiting for $POSTGRES_SEEDS:$PORT"; sleep 2; done

for db in temporal temporal_visibility; do
  case "$db" in
    temporal) schema=postgresql/v12/temporal ;;
    *) schema=postgresql/v12/visibility ;;
  esac
  sql --db "$db" create || echo "database $db exists"
  # setup-schema fails harmlessly when the schema version table is already there.
  sql --db "$db" setup-schema -v 0.0 || echo "schema of $db already set up"
  sql --db "$db" update-schema --schema-name "$schema"
done
echo "Temporal schema is up to date"
