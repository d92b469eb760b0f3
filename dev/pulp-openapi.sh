#!/usr/bin/env bash
# Download the OpenAPI 3 schema (JSON) of the running primary Pulp server (dev/pulp.sh start).
# Usage: dev/pulp-openapi.sh OUT.json [QUERY]
#   The default schema covers core and every installed plugin (file, rpm, deb, container, python,
#   certguard), with unique long operationIds (e.g. repositories_deb_apt_create) and {*_href} path parameters.
#   QUERY is passed on as the query string, e.g. "bindings=1" (short operationIds grouped by
#   tag, as pulp's own client generators use) or "component=core,deb,rpm" to narrow it.
source "$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)/lib.sh"

out="${1:?usage: $0 OUT.json [QUERY]}"
query="${2:-}"
url="http://127.0.0.1:$PULP_PRIMARY_API_PORT/pulp/api/v3/docs/api.json${query:+?$query}"

mkdir -p "$(dirname "$out")"
tmp="$(mktemp "$out.XXXXXX")"
trap 'rm -f "$tmp"' EXIT
curl -fsS --max-time 300 -u "$PULP_ADMIN_USER:$PULP_ADMIN_PASSWORD" -o "$tmp" "$url" \
  || die "could not download $url (is the stack up? bash dev/pulp.sh start)"
python3 - "$tmp" <<'EOF' || die "$url did not return an OpenAPI JSON document"
import json, sys
d = json.load(open(sys.argv[1]))
assert d.get("openapi", "").startswith("3") and d.get("paths"), "not an OpenAPI 3 schema"
EOF
mv "$tmp" "$out"
trap - EXIT
log "wrote $out ($(wc -c <"$out") bytes) from $url"
