#!/usr/bin/env bash
# make bench: every benchmark in turn (each writes bench/results/<id>.json), then BENCHMARKS.md.
# They need the local stack (make stack-up) and take 45-60 minutes on 2 cores.
set -euo pipefail
cd "$(dirname "$0")/.."
rm -rf bench/results
for b in groupSyncMakespan realPulpGroup apiLatency exporterScrape; do
  t0=$SECONDS
  echo "[bench] === $b"
  npx tsx "bench/$b.bench.ts" 2>&1 | grep --line-buffered -E '^\[bench\]|Error|error:' || true
  [[ -f "bench/results/$(case $b in groupSyncMakespan) echo group-sync-makespan;; realPulpGroup) echo real-pulp-group;; apiLatency) echo api-latency;; exporterScrape) echo exporter-scrape;; esac).json" ]] \
    || { echo "[bench] $b wrote no result (see its output above)"; exit 1; }
  echo "[bench] $b took $((SECONDS - t0)) s"
done
npx tsx bench/report.ts
