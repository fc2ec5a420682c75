#!/usr/bin/env bash
# A local Docker registry (Debian's docker-registry, distribution v2) on 127.0.0.1:5000,
# config and storage under $BENTO_TOOLS/registry, started in the background when
# http://127.0.0.1:5000/v2/ does not answer. Verifies push + pull with /usr/bin/docker
# once per registry/daemon start (127.0.0.1 is an insecure registry by default).
#
#   registry.sh      start it (when it does not answer) and verify push + pull
#   registry.sh gc   free the storage of what the tests deleted: stop the registry this script started, run its
#                    garbage collection (`docker-registry garbage-collect --delete-untagged`: blobs of deleted or
#                    untagged manifests), start it again; with BENTO_REGISTRY_GC_AGE_MIN=N, first remove every
#                    repository untouched for N minutes (leftovers of runs that died before their cleanup). The
#                    registry is stopped meanwhile (the garbage collector must not race a push), so run it when no
#                    test pushes: scripts/test-all.sh runs it after the tests and in its disk guard.
#                    Without BENTO_REGISTRY_GC_AGE_MIN it collects only when the storage is over
#                    BENTO_REGISTRY_KEEP_MB (default 3000): below that the blobs of deleted manifests stay, and the
#                    next run's engine pushes mount them (Docker remembers which repository had each layer) instead
#                    of compressing and uploading the same base and Python layers again (≈ 20 s of daemon CPU per
#                    image on this machine). The disk guard's call always collects.
#
# Also installs skopeo (Debian's): the e2e test of `containerize --output oci:DIR` copies the layout to this registry.
#
# Environment: BENTO_REGISTRY_PORT (default 5000).
set -euo pipefail
BENTO_LOG_TAG=registry
# shellcheck source=SCRIPTDIR/../lib/common.sh
source "$(dirname "${BASH_SOURCE[0]}")/../lib/common.sh"

PORT="${BENTO_REGISTRY_PORT:-5000}"
ADDR="127.0.0.1:$PORT"
DIR="$BENTO_TOOLS/registry"
CONFIG="$DIR/config.yml"
PIDFILE="$DIR/registry.pid"
LOGFILE="$DIR/registry.log"

registry_answers() { curl -fsS -m 2 "http://$ADDR/v2/" >/dev/null 2>&1; }

write_config() {
  write_registry_config "$CONFIG" "$DIR/data" "$ADDR" registry "$(printf '  cache:\n    blobdescriptor: inmemory')"
}

verify_push_pull() {
  local key
  key="$(cat "$PIDFILE" 2>/dev/null || echo external)-$(stat -c %Y /var/run/docker.sock 2>/dev/null || echo 0)"
  if stamp_ok registry-push-pull "$key"; then
    log "push/pull already verified for this registry and daemon"
    return 0
  fi
  require_docker
  local ctx ref
  ctx=$(mktemp -d)
  ref="$ADDR/bento-provision/probe:latest"
  date +%s%N >"$ctx/probe.txt"
  printf 'FROM scratch\nCOPY probe.txt /probe.txt\n' >"$ctx/Dockerfile"
  DOCKER_BUILDKIT=1 "$DOCKER" build -q -t "$ref" "$ctx" >/dev/null
  rm -rf "$ctx"
  local want got
  want=$("$DOCKER" image inspect -f '{{.Id}}' "$ref")
  "$DOCKER" push -q "$ref" >/dev/null || die "docker push $ref failed"
  "$DOCKER" image rm -f "$ref" >/dev/null
  "$DOCKER" pull -q "$ref" >/dev/null || die "docker pull $ref failed"
  got=$("$DOCKER" image inspect -f '{{.Id}}' "$ref")
  "$DOCKER" image rm -f "$ref" >/dev/null
  [[ "$want" == "$got" ]] || die "pulled image id $got differs from pushed $want"
  stamp_set registry-push-pull "$key"
  log "push + pull via $ADDR works"
}

stop_registry() {
  local pid
  pid=$(cat "$PIDFILE" 2>/dev/null || true)
  [[ -n "$pid" ]] && kill -0 "$pid" 2>/dev/null || return 0
  kill "$pid"
  for _ in $(seq 1 40); do
    kill -0 "$pid" 2>/dev/null || return 0
    sleep 0.25
  done
  kill -9 "$pid" 2>/dev/null || true
}

gc() {
  [[ -f "$CONFIG" ]] || { log "no registry config at $CONFIG: nothing to collect"; return 0; }
  local pid
  pid=$(cat "$PIDFILE" 2>/dev/null || true)
  if registry_answers && ! { [[ -n "$pid" ]] && kill -0 "$pid" 2>/dev/null; }; then
    log "the registry on $ADDR was not started by this script ($PIDFILE): not collecting its garbage"
    return 0
  fi
  local data="$DIR/data" before after removed=0 repo keep_mb="${BENTO_REGISTRY_KEEP_MB:-3000}"
  before=$(du -sb "$data" 2>/dev/null | cut -f1)
  if [[ -z "${BENTO_REGISTRY_GC_AGE_MIN:-}" ]] && (((${before:-0} / 1000000) <= keep_mb)); then
    log "storage $((${before:-0} / 1000000)) MB ≤ ${keep_mb} MB (BENTO_REGISTRY_KEEP_MB): kept for the next run's cross-repository mounts"
    return 0
  fi
  stop_registry
  if [[ -n "${BENTO_REGISTRY_GC_AGE_MIN:-}" && -d "$data/docker/registry/v2/repositories" ]]; then
    while IFS= read -r repo; do
      # A repository is touched when a push links a layer or a manifest into it: its newest file says when.
      if [[ -z "$(find "$repo" -newermt "-${BENTO_REGISTRY_GC_AGE_MIN} minutes" -print -quit 2>/dev/null)" ]]; then
        rm -rf "$repo" && removed=$((removed + 1))
      fi
    done < <(find "$data/docker/registry/v2/repositories" -mindepth 1 -maxdepth 1 -type d)
  fi
  local rc=0
  docker-registry garbage-collect --delete-untagged "$CONFIG" >>"$LOGFILE" 2>&1 || rc=$?
  after=$(du -sb "$data" 2>/dev/null | cut -f1)
  start_registry "$ADDR" "$CONFIG" "$PIDFILE" "$LOGFILE"
  ((rc == 0)) || die "docker-registry garbage-collect failed (exit $rc); see $LOGFILE"
  log "garbage collection: ${removed} stale repositories removed; storage $((before / 1000000)) MB → $((after / 1000000)) MB"
}

main() {
  if [[ "${1:-}" == gc ]]; then
    gc
    return
  fi
  apt_install skopeo
  if registry_answers; then
    log "registry already answering on $ADDR"
  else
    write_config
    start_registry "$ADDR" "$CONFIG" "$PIDFILE" "$LOGFILE"
  fi
  verify_push_pull
}

timed "registry.sh${1:+ $1}" main "$@"
