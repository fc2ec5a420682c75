# shellcheck shell=bash
# Shared helpers for scripts/provision/*.sh and scripts/test-all.sh.
# Source it; it defines functions and read-only path variables only.

BENTO_REPO_ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)"
BENTO_TOOLS="${BENTO_TOOLS:-$BENTO_REPO_ROOT/.tools}"
BENTO_STAMPS="$BENTO_TOOLS/stamps"
# The Debian docker client (20.10, with BuildKit support in `docker build`);
# /usr/local/bin/docker on PATH lacks buildx, so never rely on PATH for it.
DOCKER=/usr/bin/docker

log() { printf '[%s %s] %s\n' "$(date +%H:%M:%S)" "${BENTO_LOG_TAG:-provision}" "$*" >&2; }
die() { log "ERROR: $*"; exit 1; }

# stamp_file_ok FILE KEY: true when the stamp file FILE exists and holds KEY (KEY describes the inputs); for stamps
# kept beside what they vouch for (a venv, a wheelhouse).
stamp_file_ok() { [[ -f "$1" && "$(cat "$1")" == "$2" ]]; }
# stamp_ok NAME KEY: the same for the stamp NAME under $BENTO_STAMPS.
stamp_ok() { stamp_file_ok "$BENTO_STAMPS/$1" "$2"; }
stamp_set() { mkdir -p "$BENTO_STAMPS" && printf '%s' "$2" >"$BENTO_STAMPS/$1"; }
# run_logged LOGFILE WHAT CMD...: CMD's output goes to LOGFILE; when it fails, its last 25 lines and "WHAT failed".
run_logged() {
  local logf="$1" what="$2"
  shift 2
  if ! "$@" >"$logf" 2>&1; then
    tail -n 25 "$logf" >&2
    die "$what failed (full log $logf)"
  fi
}

# Run apt-get update at most once per machine boot-ish (per 6 h), never twice in one CI run.
apt_update_once() {
  local marker=/var/lib/apt/periodic/bento-update-stamp
  if [[ -f "$marker" ]] && [[ -n "$(find "$marker" -mmin -360 2>/dev/null)" ]]; then
    return 0
  fi
  log "apt-get update"
  DEBIAN_FRONTEND=noninteractive apt-get update -qq >&2
  mkdir -p "$(dirname "$marker")" && touch "$marker"
}

# apt_install PKG...: install the packages that are not installed yet.
apt_install() {
  local missing=() p
  for p in "$@"; do
    dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q 'install ok installed' || missing+=("$p")
  done
  if ((${#missing[@]} == 0)); then
    log "apt packages already installed: $*"
    return 0
  fi
  apt_update_once
  log "apt-get install ${missing[*]}"
  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends "${missing[@]}" >&2 </dev/null
}

# Start a daemon that outlives this script, in the background ($! is its pid): its own session (CI step runners kill
# the step's process group), stdin from /dev/null, output appended to LOG, and none of our file descriptors above 2.
# A descriptor it inherited would stay open as long as it runs: `flock LOCK bash scripts/test-all.sh` restarting
# dockerd left LOCK held by dockerd, containerd and the registry until they stopped.
daemonize() {
  local logfile="$1"
  shift
  (
    for fd in /proc/"$BASHPID"/fd/*; do
      fd="${fd##*/}"
      if ((fd > 2)); then eval "exec ${fd}>&-" 2>/dev/null || true; fi
    done
    exec setsid nohup "$@" >>"$logfile" 2>&1 </dev/null
  ) &
}

# write_registry_config CONFIG DATA_DIR ADDR SERVICE [STORAGE_EXTRA [EXTRA]]: Debian's docker-registry config for a
# local test registry (filesystem storage with deletes enabled, plain HTTP on ADDR, no storage health check), written
# atomically. STORAGE_EXTRA: more YAML under `storage:` (indented two spaces); EXTRA: more top-level YAML.
write_registry_config() {
  local config="$1" data="$2" addr="$3" service="$4" storage_extra="${5:-}" extra="${6:-}"
  mkdir -p "$data"
  {
    cat <<CFG
version: 0.1
log:
  level: warn
  accesslog:
    disabled: true
  fields:
    service: $service
storage:
  filesystem:
    rootdirectory: $data
  delete:
    enabled: true
CFG
    [[ -z "$storage_extra" ]] || printf '%s\n' "$storage_extra"
    [[ -z "$extra" ]] || printf '%s\n' "$extra"
    cat <<CFG
http:
  addr: $addr
  headers:
    X-Content-Type-Options: [nosniff]
health:
  storagedriver:
    enabled: false
CFG
  } >"$config.tmp"
  mv "$config.tmp" "$config"
}

# start_registry ADDR CONFIG PIDFILE LOGFILE [CURL_ARGS...]: start Debian's docker-registry with CONFIG in the
# background (daemonize) and wait until http://ADDR/v2/ answers (200, or 401 for an instance with auth; CURL_ARGS
# such as `-u user:password` are passed to the probe). Dies with the log's tail when it does not answer in 30 s.
start_registry() {
  local addr="$1" config="$2" pidfile="$3" logfile="$4"
  shift 4
  command -v docker-registry >/dev/null || die "docker-registry missing; run scripts/provision/docker.sh first"
  log "starting docker-registry on $addr (config $config, log $logfile)"
  daemonize "$logfile" docker-registry serve "$config"
  echo $! >"$pidfile"
  disown || true
  for _ in $(seq 1 60); do
    curl -fsS -m 2 "$@" "http://$addr/v2/" >/dev/null 2>&1 && { log "registry answers on $addr (pid $(cat "$pidfile"))"; return 0; }
    kill -0 "$(cat "$pidfile")" 2>/dev/null || break
    sleep 0.5
  done
  tail -n 20 "$logfile" >&2 || true
  die "registry did not answer on http://$addr/v2/"
}

docker_answers() { "$DOCKER" version --format '{{.Server.Version}}' >/dev/null 2>&1; }

require_docker() {
  [[ -x "$DOCKER" ]] || die "$DOCKER missing; run scripts/provision/docker.sh first"
  docker_answers || die "docker daemon not answering; run scripts/provision/docker.sh first"
}

# timed LABEL CMD...: run CMD, log how many seconds it took.
timed() {
  local label="$1" start end
  shift
  start=$(date +%s)
  "$@"
  end=$(date +%s)
  log "$label took $((end - start))s"
}
