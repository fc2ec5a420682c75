#!/usr/bin/env bash
# A second local registry (Debian's docker-registry) on 127.0.0.1:5001 with htpasswd (Basic) auth, for `bento push`
# tests (test/e2e/push.docker.test.ts): user `bento`, a password generated once into $BENTO_TOOLS/registry-auth/password,
# storage under $BENTO_TOOLS/registry-auth/data (only the push tests write there, and they garbage-collect what they
# pushed). Started in the background when it does not answer.
#
# Environment: BENTO_REGISTRY_AUTH_PORT (default 5001).
set -euo pipefail
BENTO_LOG_TAG=registry-auth
# shellcheck source=SCRIPTDIR/../lib/common.sh
source "$(dirname "${BASH_SOURCE[0]}")/../lib/common.sh"

PORT="${BENTO_REGISTRY_AUTH_PORT:-5001}"
ADDR="127.0.0.1:$PORT"
DIR="$BENTO_TOOLS/registry-auth"
CONFIG="$DIR/config.yml"
PIDFILE="$DIR/registry.pid"
LOGFILE="$DIR/registry.log"
USER_NAME=bento

answers_with_auth() { [[ -f "$DIR/password" ]] && curl -fsS -m 2 -u "$USER_NAME:$(cat "$DIR/password")" "http://$ADDR/v2/" >/dev/null 2>&1; }

write_config() {
  mkdir -p "$DIR/data"
  if [[ ! -s "$DIR/password" ]]; then
    head -c 18 /dev/urandom | base64 | tr -d '/+=' >"$DIR/password"
    chmod 600 "$DIR/password"
  fi
  # htpasswd (apache2-utils): the registry reads bcrypt entries only.
  command -v htpasswd >/dev/null || apt_install apache2-utils
  htpasswd -Bbn "$USER_NAME" "$(cat "$DIR/password")" >"$DIR/htpasswd"
  # No in-memory blob descriptor cache: the test's garbage collection must not leave stale answers behind.
  write_registry_config "$CONFIG" "$DIR/data" "$ADDR" registry-auth "" "$(printf 'auth:\n  htpasswd:\n    realm: bento-test\n    path: %s' "$DIR/htpasswd")"
}

main() {
  if answers_with_auth; then
    log "registry with htpasswd auth already answering on $ADDR"
    return 0
  fi
  if curl -sS -m 2 -o /dev/null "http://$ADDR/v2/" 2>/dev/null; then
    die "something else answers on $ADDR (not this registry with its password); stop it or set BENTO_REGISTRY_AUTH_PORT"
  fi
  write_config
  start_registry "$ADDR" "$CONFIG" "$PIDFILE" "$LOGFILE" -u "$USER_NAME:$(cat "$DIR/password")"
  local anon
  anon=$(curl -s -m 2 -o /dev/null -w '%{http_code}' "http://$ADDR/v2/")
  [[ "$anon" == 401 ]] || die "registry on $ADDR answers $anon without credentials, want 401"
  log "htpasswd auth works on $ADDR (user $USER_NAME, password in $DIR/password)"
}

timed "registry-auth.sh" main
