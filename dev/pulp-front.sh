#!/usr/bin/env bash
# nginx in front of each Pulp server, as Pulp's own images deploy it: /pulp/content/ and
# /pulp/container/ (pulp_container's blob/manifest redirects) go to the content app, everything
# else to the API (including pulp_container's /v2/, /extensions/v2/, /token/ and pulp_python's
# /pypi/), on one origin. That origin (127.0.0.1:<port>) is the
# server's name in pulp_config.yml, and a secondary syncs from http://<primary>/pulp/content/...
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"

FRONT_DIR="$PM_STATE/pulp-front"
CONF="$FRONT_DIR/nginx.conf"

install() {
  apt_install nginx
  mkdir -p "$FRONT_DIR/tmp"
  local server_blocks="" name
  for name in PRIMARY SECONDARY; do
    local front="PULP_${name}_PORT" api="PULP_${name}_API_PORT" content="PULP_${name}_CONTENT_PORT"
    server_blocks+="
  server {
    listen 127.0.0.1:${!front};
    client_max_body_size 0;
    proxy_read_timeout 600s;
    proxy_set_header Host \$http_host;
    proxy_set_header X-Forwarded-For \$proxy_add_x_forwarded_for;
    proxy_set_header X-Forwarded-Proto \$scheme;
    location /pulp/content/ { proxy_pass http://127.0.0.1:${!content}; proxy_redirect off; }
    location /pulp/container/ { proxy_pass http://127.0.0.1:${!content}; proxy_redirect off; }
    location / { proxy_pass http://127.0.0.1:${!api}; proxy_redirect off; }
  }"
  done
  cat > "$CONF.new" <<CONF
worker_processes 1;
pid $FRONT_DIR/nginx.pid;
error_log $PM_LOGS/pulp-front-error.log warn;
events { worker_connections 512; }
http {
  access_log $PM_LOGS/pulp-front-access.log;
  client_body_temp_path $FRONT_DIR/tmp/body;
  proxy_temp_path $FRONT_DIR/tmp/proxy;
  fastcgi_temp_path $FRONT_DIR/tmp/fastcgi;
  uwsgi_temp_path $FRONT_DIR/tmp/uwsgi;
  scgi_temp_path $FRONT_DIR/tmp/scgi;
$server_blocks
}
CONF
  mv "$CONF.new" "$CONF"
  nginx -t -q -c "$CONF" -p "$FRONT_DIR" || die "nginx config $CONF is invalid"
}

start() {
  install
  if pid_alive pulp-front; then
    # a running nginx picks up a changed config (e.g. new plugin locations) without a restart
    nginx -c "$CONF" -p "$FRONT_DIR" -s reload || die "nginx reload of $CONF failed"
    log "pulp-front already running (config reloaded)"
  else
    start_bg pulp-front nginx -c "$CONF" -p "$FRONT_DIR" -g 'daemon off;'
  fi
  wait_port "$PULP_PRIMARY_PORT" pulp-front 30
  wait_port "$PULP_SECONDARY_PORT" pulp-front 30
  log "pulp fronts: primary http://127.0.0.1:$PULP_PRIMARY_PORT, secondary http://127.0.0.1:$PULP_SECONDARY_PORT"
}

stop() { stop_bg pulp-front; }

status() {
  if pid_alive pulp-front && port_open "$PULP_PRIMARY_PORT" && port_open "$PULP_SECONDARY_PORT"; then
    echo "pulp-front: running (primary :$PULP_PRIMARY_PORT, secondary :$PULP_SECONDARY_PORT)"
  else echo "pulp-front: stopped"; return 1; fi
}

case "${1:-}" in
  install) install ;; start) start ;; stop) stop ;; status) status ;;
  *) echo "usage: $0 install|start|stop|status" >&2; exit 2 ;;
esac
