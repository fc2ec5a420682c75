#!/usr/bin/env bash
# A local Docker registry (Debian's docker-registry, distribution v2) on 127.0.0.1:5000,
# config and storage under $BENTO_TOOLS/registry, started in the background when
# http://127.0.0.1:5000/v2/ does not answer. Verifies push + pull with /usr/bin/docker
# once per registry/daemon start (127.0.0.1 is an insecure registry by default).
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
  mkdir -p "$DIR/data"
  cat >"$CONFIG.tmp" <<CFG
version: 0.1
log:
  level: warn
  accesslog:
    disabled: true
  fields:
    service: registry
storage:
  filesystem:
    rootdirectory: $DIR/data
  delete:
    enabled: true
  cache:
    blobdescriptor: inmemory
http:
  addr: $ADDR
  headers:
    X-Content-Type-Options: [nosniff]
health:
  storagedriver:
    enabled: false
CFG
  mv "$CONFIG.tmp" "$CONFIG"
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

main() {
  if registry_answers; then
    log "registry already answering on $ADDR"
  else
    write_config
    start_registry "$ADDR" "$CONFIG" "$PIDFILE" "$LOGFILE"
  fi
  verify_push_pull
}

timed "registry.sh" main
