#!/usr/bin/env bash
# Installs kustomize, built from its Go module at a pinned release (v5.8.1: go 1.24, no `replace`
# in its go.mod), so test/deploy/kubernetes.test.ts renders deploy/kubernetes exactly as
# `kubectl apply -k` would. Into the stack's cache, keyed by version; idempotent.
#   deploy/install-kustomize.sh        install
#   deploy/install-kustomize.sh bin    print the binary's path
set -euo pipefail
# shellcheck source=../dev/lib.sh
source "$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)/dev/lib.sh"

KUSTOMIZE_VERSION=v5.8.1
KUSTOMIZE_HOME="$PM_CACHE/kustomize-$KUSTOMIZE_VERSION"
KUSTOMIZE_BIN="$KUSTOMIZE_HOME/bin/kustomize"

if [[ "${1:-install}" == bin ]]; then echo "$KUSTOMIZE_BIN"; exit 0; fi
if [[ -x "$KUSTOMIZE_BIN" ]]; then log "kustomize $KUSTOMIZE_VERSION present (skipping install)"; exit 0; fi
timed "kustomize $KUSTOMIZE_VERSION (go install)" \
  go_install kustomize "$KUSTOMIZE_HOME/bin" "sigs.k8s.io/kustomize/kustomize/v5@$KUSTOMIZE_VERSION"
