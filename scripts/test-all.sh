#!/usr/bin/env bash
# The whole CI: check the disk, provision the machine, then build, lint, type-check and run every
# vitest project (unit + e2e). Runs every step even after a failure, prints a summary,
# and exits non-zero if any step failed. BENTO_FAIL_FAST=1 stops at the first failure.
#
# Disk: scripts/disk-guard.sh first (bounds the build cache, removes old leftovers when below BENTO_MIN_FREE_GB, fails
# early when still short); every step logs the free space and `docker system df` before and after; a sampler records
# the lowest free space of the run, printed in the summary; after the tests the local registry's garbage collection
# frees the blobs of the repositories the tests deleted.
#
# Exported for the tests (resolved defaults of the provisioning scripts):
#   BENTO_TOOLS, BENTOML_VENV, BENTOML_1440_VENV, BENTOML_1322_VENV, BENTO_WHEELHOUSE, BENTO_REGISTRY (host:port), BENTO_DOCKER_CLI
set -euo pipefail
BENTO_LOG_TAG=test-all
# shellcheck source=SCRIPTDIR/lib/common.sh
source "$(dirname "${BASH_SOURCE[0]}")/lib/common.sh"
# shellcheck source=SCRIPTDIR/lib/disk.sh
source "$(dirname "${BASH_SOURCE[0]}")/lib/disk.sh"
cd "$BENTO_REPO_ROOT"

export BENTO_TOOLS
export BENTOML_VENV="${BENTOML_VENV:-$BENTO_TOOLS/bentoml-venv}"
export BENTOML_1440_VENV="${BENTOML_1440_VENV:-$BENTO_TOOLS/bentoml-1.4.40-venv}"
export BENTOML_1322_VENV="${BENTOML_1322_VENV:-$BENTO_TOOLS/bentoml-1.3.22-venv}"
export BENTO_WHEELHOUSE="${BENTO_WHEELHOUSE:-$BENTO_TOOLS/wheelhouse}"
export BENTO_REGISTRY="${BENTO_REGISTRY:-127.0.0.1:${BENTO_REGISTRY_PORT:-5000}}"
export BENTO_DOCKER_CLI="$DOCKER"

start=$(date +%s)
results=()
failed=0
mkdir -p "$BENTO_TOOLS/logs"
DISK_SAMPLES="$BENTO_TOOLS/logs/disk-samples.txt"
rm -f "$DISK_SAMPLES" "$DISK_SAMPLES.step"
disk_sampler "$DISK_SAMPLES" </dev/null >/dev/null 2>&1 &
sampler=$!
trap 'kill "$sampler" 2>/dev/null || true' EXIT
step() {
  local name="$1" t0 rc=0
  shift
  if ((failed != 0)) && [[ "${BENTO_FAIL_FAST:-0}" == 1 ]]; then
    results+=("SKIP  $name")
    return 0
  fi
  log "=== $name: $*"
  printf '%s' "$name" >"$DISK_SAMPLES.step"
  disk_report "before $name"
  t0=$(date +%s)
  "$@" </dev/null || rc=$?
  local secs=$(($(date +%s) - t0))
  disk_report "after $name"
  if ((rc == 0)); then
    results+=("ok    $name (${secs}s)")
  else
    results+=("FAIL  $name (exit $rc, ${secs}s)")
    failed=1
  fi
}

# side_by_side NAME CMD [NAME CMD ...]: steps that run at the same time (CMD is a shell command line); each one's
# output is printed whole when all have ended, in the order given, and each gets its own result line.
side_by_side() {
  local -a names=() pids=()
  local dir name t0
  dir="$(mktemp -d)"
  if ((failed != 0)) && [[ "${BENTO_FAIL_FAST:-0}" == 1 ]]; then
    while (($# >= 2)); do results+=("SKIP  $1"); shift 2; done
    return 0
  fi
  t0=$(date +%s)
  local all="" i
  for ((i = 1; i <= $#; i += 2)); do all+="${all:++}${!i}"; done
  printf '%s' "$all" >"$DISK_SAMPLES.step"
  disk_report "before $all"
  while (($# >= 2)); do
    name="$1"
    log "=== $name: $2 (side by side)"
    (
      s=$(date +%s) rc=0
      bash -c "$2" </dev/null >"$dir/$name.log" 2>&1 || rc=$?
      echo "$rc $(($(date +%s) - s))" >"$dir/$name.rc"
    ) &
    names+=("$name")
    pids+=($!)
    shift 2
  done
  wait "${pids[@]}" || true
  for name in "${names[@]}"; do
    local rc secs
    read -r rc secs <"$dir/$name.rc"
    log "--- $name output"
    cat "$dir/$name.log" >&2
    if ((rc == 0)); then
      results+=("ok    $name (${secs}s, side by side)")
    else
      results+=("FAIL  $name (exit $rc, ${secs}s, side by side)")
      failed=1
    fi
  done
  log "side by side: ${names[*]} took $(($(date +%s) - t0))s"
  disk_report "after $all"
  rm -rf "$dir"
}

rm -f "$BENTO_TOOLS/vitest-report.json"
step disk-guard bash scripts/disk-guard.sh
((failed == 0)) && step provision bash scripts/provision/all.sh
if ((failed != 0)); then
  log "the disk guard or provisioning failed; not running the checks"
else
  # build, lint and typecheck side by side: each is one mostly single-threaded Node process (≈ 25 s of CPU in all
  # when nothing is cached; the build is esbuild, ≈ 1 s). ESLint's cache (content-keyed, per file and config) and tsc's
  # incremental build info live under $BENTO_TOOLS/check-cache, out of the checkout: a run re-checks what changed
  # since the last one (the build itself always compiles from scratch, into an empty dist/).
  export BENTO_CHECK_CACHE="$BENTO_TOOLS/check-cache"
  side_by_side build "npm run build" lint "npm run lint" typecheck "npm run typecheck"
  # The build step just compiled dist/: the tests' global setup need not compile it again (unless it failed).
  built=0
  [[ "${results[*]}" == *"ok    build "* ]] && built=1
  # Benchmarks are not tests, but their smoke mode runs so they cannot rot (writes only bench/out/). It runs beside
  # the tests (≈ 30 CPU-s, half a minute alone): its figures are not real ones, it uses its own homes, images,
  # registry and ports, and it removes nothing from the daemon's build cache that a test file's build could be using.
  side_by_side \
    vitest "env BENTO_SKIP_BUILD=$built npx vitest run --reporter=default --reporter=json --outputFile.json=$(printf %q "$BENTO_TOOLS/vitest-report.json")" \
    bench-quick "npx tsx bench/run.ts --quick"
  # Nothing pushes any more: free the blobs of the repositories the tests deleted (the registry restarts).
  step registry-gc bash scripts/provision/registry.sh gc
fi

kill "$sampler" 2>/dev/null || true
log "=== summary ($(($(date +%s) - start))s)"
printf '  %s\n' "${results[@]}" >&2
log "$(disk_low_point "$DISK_SAMPLES" "$start")"
# The plain closing line CI reads: counts from vitest's JSON report.
if [[ -f "$BENTO_TOOLS/vitest-report.json" ]]; then
  # shellcheck disable=SC2016 # a JavaScript template literal, not shell
  # The failed tests are named too (file › test: first line of the failure), so a CI log's tail says what broke.
  node -e '
    const r = require(process.argv[1])
    const root = process.cwd() + "/"
    for (const f of r.testResults)
      for (const t of f.assertionResults)
        if (t.status === "failed")
          console.log(`FAILED ${f.name.replace(root, "")} > ${t.fullName}: ${String(t.failureMessages[0] ?? "").split("\n")[0].slice(0, 300)}`)
    console.log(`vitest: ${r.numPassedTests} passed, ${r.numFailedTests} failed` + (r.numPendingTests ? `, ${r.numPendingTests} skipped` : ""))
  ' "$BENTO_TOOLS/vitest-report.json"
fi
exit "$failed"
