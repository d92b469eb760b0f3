#!/usr/bin/env bash
# make bench: every benchmark in turn (each writes bench/results/<id>.json), then BENCHMARKS.md.
# They need the local stack (make stack-up) and take 60-75 minutes on 2 cores.
# A benchmark that fails (non-zero exit) fails the run once the others have run, and
# BENCHMARKS.md is not rewritten; its full output is kept in bench/results/<name>.log.
set -euo pipefail
cd "$(dirname "$0")/.."
rm -rf bench/results
mkdir -p bench/results
# The API and exporter benchmarks share one seeded database per fleet size (bench/lib/seededFleetDatabase.ts);
# it is dropped when the run ends unless BENCH_KEEP_SEEDED=1 keeps it for the next run.
export BENCH_SHARED_SEED=1
drop_seeded() {
  if [[ "${BENCH_KEEP_SEEDED:-0}" != 1 ]]; then
    npx tsx bench/lib/dropSeededFleets.ts || echo "[bench] could not drop the seeded databases (see above)"
  fi
}
trap drop_seeded EXIT
failed=()
for b in groupSyncMakespan realPulpGroup apiLatency exporterScrape; do
  t0=$SECONDS
  echo "[bench] === $b"
  log="bench/results/$b.log"
  # The filter shows progress and errors as they come; the status is the benchmark's
  # (PIPESTATUS[0]), not grep's, which fails when nothing matched.
  set +e
  npx tsx "bench/$b.bench.ts" 2>&1 | tee "$log" | grep --line-buffered -E '^\[[a-z][a-z0-9 ,-]*\]|Error|error:'
  status=${PIPESTATUS[0]}
  set -e
  # The result files each benchmark must write.
  case $b in
    groupSyncMakespan) results=(group-sync-makespan) ;;
    realPulpGroup) results=(real-pulp-group) ;;
    apiLatency) results=(api-latency api-latency-1m) ;;
    exporterScrape) results=(exporter-scrape) ;;
  esac
  missing=()
  for r in "${results[@]}"; do [[ -f "bench/results/$r.json" ]] || missing+=("$r.json"); done
  if [[ $status -ne 0 ]]; then
    echo "[bench] $b FAILED with exit status $status (full output: $log)"
    failed+=("$b")
  elif [[ ${#missing[@]} -gt 0 ]]; then
    echo "[bench] $b exited 0 but did not write ${missing[*]} (full output: $log)"
    failed+=("$b")
  fi
  echo "[bench] $b took $((SECONDS - t0)) s"
done
if [[ ${#failed[@]} -gt 0 ]]; then
  echo "[bench] failed: ${failed[*]}; BENCHMARKS.md not rewritten"
  exit 1
fi
npx tsx bench/report.ts
