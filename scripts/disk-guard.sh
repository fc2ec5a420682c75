#!/usr/bin/env bash
# The first step of scripts/test-all.sh: make sure the run has room before it starts (a CI run once failed with
# "no space left on device" in the daemon's overlay2).
#
# 1. Always: bound the daemon's BuildKit cache (docker builder prune --keep-storage; the daemon that
#    scripts/provision/docker.sh starts also bounds it itself, see its daemon.json).
# 2. When the docker data root or the repository has less than BENTO_MIN_FREE_GB free (default 15): remove what bento's
#    own tests, benchmarks and provisioning left that is older than BENTO_PRUNE_AGE (default 2h), and say each thing in
#    the log: stopped containers and unused images of bento's (labels dev.bento.tag / dev.bento.home), dangling images,
#    build cache, the local registry's repositories (then its garbage collection), stale vitest temp dirs, bench/out.
# 3. Still below the threshold: fail at once with what uses the space, instead of failing half an hour later.
#
# Environment: BENTO_MIN_FREE_GB (15), BENTO_PRUNE_AGE (2h; a docker `until` duration), BENTO_BUILD_CACHE_KEEP (10GB).
set -euo pipefail
BENTO_LOG_TAG=disk-guard
# shellcheck source=SCRIPTDIR/lib/common.sh
source "$(dirname "${BASH_SOURCE[0]}")/lib/common.sh"
# shellcheck source=SCRIPTDIR/lib/disk.sh
source "$(dirname "${BASH_SOURCE[0]}")/lib/disk.sh"

MIN_GB="${BENTO_MIN_FREE_GB:-15}"
AGE="${BENTO_PRUNE_AGE:-2h}"
KEEP="${BENTO_BUILD_CACHE_KEEP:-10GB}"
[[ "$MIN_GB" =~ ^[0-9]+$ ]] || die "BENTO_MIN_FREE_GB must be a whole number of GB, not '$MIN_GB'"
[[ "$AGE" =~ ^[0-9]+[smh]$ ]] || die "BENTO_PRUNE_AGE must be a duration like 2h, 90m, not '$AGE'"
min_bytes=$((MIN_GB * 1000 * 1000 * 1000))
age_min=$(awk -v a="$AGE" 'BEGIN { n = a + 0; u = substr(a, length(a)); print (u == "h" ? n * 60 : u == "m" ? n : int(n / 60)) }')

# The lower of the two file systems' free bytes.
lowest_free() {
  local d r
  d=$(free_bytes "$DOCKER_DATA_ROOT")
  r=$(free_bytes "$BENTO_REPO_ROOT")
  ((d < r)) && echo "$d" || echo "$r"
}

# run_logged WHAT CMD...: run CMD, log WHAT and the last line it printed (docker's "Total reclaimed space: …").
run_logged() {
  local what="$1" out
  shift
  out=$("$@" 2>&1) || { log "  $what: failed: ${out##*$'\n'}"; return 0; }
  log "  $what: ${out##*$'\n'}"
}

prune_bento_leftovers() {
  log "below ${MIN_GB} GB free: removing what bento's tests, benchmarks and provisioning left that is older than $AGE"
  if docker_answers; then
    for label in dev.bento.tag dev.bento.home; do
      run_logged "stopped containers labelled $label" "$DOCKER" container prune -f --filter "label=$label" --filter "until=$AGE"
      run_logged "unused images labelled $label" "$DOCKER" image prune -a -f --filter "label=$label" --filter "until=$AGE"
    done
    run_logged "dangling images" "$DOCKER" image prune -f --filter "until=$AGE"
    run_logged "build cache" "$DOCKER" builder prune -f --filter "until=$AGE"
  fi
  if [[ -f "$BENTO_TOOLS/registry/config.yml" ]]; then
    # The local registry is the tests' scratch space: repositories untouched for $AGE are leftovers of runs that died
    # before their cleanup.
    BENTO_REGISTRY_GC_AGE_MIN="$age_min" bash "$BENTO_REPO_ROOT/scripts/provision/registry.sh" gc || log "  registry: garbage collection failed"
  fi
  local tmp="${TMPDIR:-/tmp}" d n=0
  while IFS= read -r d; do
    rm -rf "$d" && n=$((n + 1))
  done < <(find "$tmp" -maxdepth 1 -name 'bento-vitest-*' -mmin "+$age_min" 2>/dev/null)
  log "  vitest temp dirs older than $AGE under $tmp: $n removed"
  if [[ -d "$BENTO_REPO_ROOT/bench/out" ]]; then
    log "  bench/out: $(du -sh "$BENTO_REPO_ROOT/bench/out" 2>/dev/null | cut -f1) removed"
    rm -rf "$BENTO_REPO_ROOT/bench/out"
  fi
}

main() {
  disk_report "before the run"
  if docker_answers; then
    run_logged "build cache bounded to $KEEP" "$DOCKER" builder prune -f --keep-storage "$KEEP"
  fi
  if (($(lowest_free) < min_bytes)); then
    prune_bento_leftovers
    disk_report "after removing leftovers"
  fi
  local free
  free=$(lowest_free)
  if ((free < min_bytes)); then
    log "ERROR: only $(gb "$free") free on $DOCKER_DATA_ROOT or $BENTO_REPO_ROOT; the run needs ${MIN_GB} GB (BENTO_MIN_FREE_GB)."
    log "What uses the space: $(docker_df)"
    [[ -d "$BENTO_TOOLS" ]] && log "$BENTO_TOOLS: $(du -sh "$BENTO_TOOLS" 2>/dev/null | cut -f1)"
    die "not enough free disk to run the checks; free space (docker system df -v shows what the daemon holds) or lower BENTO_MIN_FREE_GB"
  fi
  log "ok: $(gb "$free") free (threshold ${MIN_GB} GB)"
}

timed "disk-guard.sh" main
