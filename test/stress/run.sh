#!/usr/bin/env bash
# npm run test:stress [-- vitest filters...]
# The suite, STRESS_RUNS times in a row (default 3), while stress-ng keeps every core busy: proves the tests wait
# for readiness signals instead of racing fixed sleeps and deadlines. Deadlines stretch by LAB_TIMEOUT_FACTOR
# (default here 3; see test/helpers/timing.ts), the load does not stop between runs, and the first failing run
# ends the script with its exit code. Needs stress-ng (Debian: apt-get install stress-ng); .ci/run installs it.
set -euo pipefail
cd "$(dirname "$0")/../.."
runs=${STRESS_RUNS:-3}
export LAB_TIMEOUT_FACTOR=${LAB_TIMEOUT_FACTOR:-3}
if ! command -v stress-ng >/dev/null 2>&1; then
  echo "test:stress needs stress-ng to load the machine. Fix: apt-get install stress-ng" >&2
  exit 2
fi
cores=$(nproc)
stress-ng --cpu "$cores" --timeout 4h --quiet &
load=$!
trap 'kill "$load" 2>/dev/null || true; wait "$load" 2>/dev/null || true' EXIT
echo "== stress-ng --cpu $cores running (pid $load); $runs runs, LAB_TIMEOUT_FACTOR=$LAB_TIMEOUT_FACTOR"
for run in $(seq 1 "$runs"); do
  started=$SECONDS
  echo "== stress run $run/$runs"
  if ! npx vitest run "$@"; then
    echo "== stress run $run/$runs FAILED after $((SECONDS - started)) s" >&2
    exit 1
  fi
  echo "== stress run $run/$runs passed in $((SECONDS - started)) s"
done
echo "== $runs stress runs passed"
