#!/usr/bin/env bash
# A venv with the original Pulp Manager's alembic, SQLAlchemy and PyMySQL (pinned by
# dev/original-alembic-requirements.txt), so a test can build a database exactly as the original's
# own migrations (test/fixtures/original-alembic) left it. Usage: dev/original-alembic.sh install|path
#   install  create $PM_CACHE/original-alembic-venv-<key> once (skipped when present)
#   path     print the venv's directory
source "$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)/lib.sh"

REQS="$DEV_DIR/original-alembic-requirements.txt"
pin() { sed -n "s/^$1==\([^ ]*\).*/\1/p" "$REQS"; }
ALEMBIC_VERSION="$(pin alembic)"
SQLALCHEMY_VERSION="$(pin SQLAlchemy)"
[[ -n "$ALEMBIC_VERSION" && -n "$SQLALCHEMY_VERSION" ]] || die "could not read the alembic/SQLAlchemy pins from $REQS"
VENV="$PM_CACHE/original-alembic-venv-alembic${ALEMBIC_VERSION}-sa${SQLALCHEMY_VERSION}-py311-$(sha256sum "$REQS" | cut -c1-8)"

install_now() {
  pinned_venv "$VENV" "$REQS" original-alembic
  "$VENV/bin/python" -c 'import alembic, sqlalchemy, pymysql' || die "the original-alembic venv does not import alembic/sqlalchemy/pymysql"
  touch "$VENV/.pm-installed"
}

case "${1:-install}" in
  install)
    if [[ -f "$VENV/.pm-installed" ]]; then
      log "original-alembic venv present: $VENV (skipping install)"
    else
      timed "original-alembic venv (alembic $ALEMBIC_VERSION, SQLAlchemy $SQLALCHEMY_VERSION) -> $VENV" install_now
    fi
    ;;
  path) echo "$VENV" ;;
  *) die "usage: $0 install|path" ;;
esac
