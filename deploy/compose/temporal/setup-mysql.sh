#!/bin/sh
# Creates or upgrades Temporal's two MySQL databases (run by the temporal-schema service of
# docker-compose.yml, image temporalio/admin-tools). Idempotent: `create` tolerates an existing
# database (--if-not-exists would be nicer but is not in every temporal-sql-tool), and
# setup-schema -v 0.0 followed by update-schema brings any version to the image's latest.
set -eu
: "${MYSQL_SEEDS:?}" "${MYSQL_USER:?}" "${MYSQL_PWD:?}"
PORT="${DB_PORT:-3306}"
sql() { temporal-sql-tool --plugin mysql8 --ep "$MYSQL_SEEDS" -u "$MYSQL_USER" -p "$PORT" --pw "$MYSQL_PWD" "$@"; }

until nc -z "$MYSQL_SEEDS" "$PORT"; do echo "waiting for $MYSQL_SEEDS:$PORT"; sleep 2; done

for db in temporal temporal_visibility; do
  case "$db" in
    temporal) dir=/etc/temporal/schema/mysql/v8/temporal/versioned ;;
    *) dir=/etc/temporal/schema/mysql/v8/visibility/versioned ;;
  esac
  sql --db "$db" create || echo "database $db exists"
  # setup-schema fails harmlessly when the schema version table is already there.
  sql --db "$db" setup-schema -v 0.0 || echo "schema of $db already set up"
  sql --db "$db" update-schema -d "$dir"
done
echo "Temporal schema is up to date"
