#!/usr/bin/env bash
# Refreshes the Pulp OpenAPI schema from the running primary (pulpcore + file, rpm, deb,
# container and python plugins; object paths are whole hrefs such as {task_href}) and regenerates the TypeScript
# types the Pulp client is typed with. Both files are committed.
set -euo pipefail
cd "$(dirname "$0")/.."
schema=pulp/openapi/pulp-api.json
bash dev/pulp-openapi.sh "$schema"
# Keep the committed schema stable across refreshes: sorted keys, fixed indentation.
python3 -c 'import json,sys; p=sys.argv[1]; d=json.load(open(p)); json.dump(d, open(p,"w"), indent=1, sort_keys=True)' "$schema"
chmod 644 "$schema"
# --default-non-nullable=false: fields with a server-side default stay optional in requests.
npx openapi-typescript "$schema" -o pulp/generated/pulp-api.ts --root-types --alphabetize --default-non-nullable=false
echo "generated pulp/generated/pulp-api.ts from $schema"
