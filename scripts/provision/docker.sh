#!/usr/bin/env bash
# Provision a working Docker daemon (Debian's docker.io 20.10) plus the host tools
# the other provisioning scripts need (debootstrap, docker-registry, xz-utils).
#
# Idempotent: installs only missing packages, starts dockerd only when
# /var/run/docker.sock does not answer, and checks BuildKit once per daemon start.
#
# Environment:
#   BENTO_DOCKER_STORAGE_DRIVER  force a storage driver (default: overlay2 if an
#                                overlay mount works here, else fuse-overlayfs, else vfs)
#   BENTO_DOCKERD_TIMEOUT        seconds to wait for the daemon (default 60)
#   BENTO_BUILD_CACHE_KEEP       what BuildKit's garbage collection keeps of the build cache (default 10GB)
#
# The daemon it starts reads $BENTO_TOOLS/dockerd/daemon.json (--config-file): BuildKit's garbage collection on,
# keeping at most BENTO_BUILD_CACHE_KEEP of build cache (Docker 20.10 leaves it off without such a file, and the
# cache then grows with every build until the disk is full). A daemon that was already running keeps its own
# settings: scripts/disk-guard.sh bounds its cache with `docker builder prune --keep-storage` before each CI run.
set -euo pipefail
BENTO_LOG_TAG=docker
# shellcheck source=SCRIPTDIR/../lib/common.sh
source "$(dirname "${BASH_SOURCE[0]}")/../lib/common.sh"

DOCKERD_LOG=/tmp/dockerd.log
DOCKER_DATA_ROOT=/var/lib/docker
DOCKERD_CONFIG="$BENTO_TOOLS/dockerd/daemon.json"

# Is an overlay mount possible on the file system that holds the docker data root?
overlay_works() {
  mkdir -p "$DOCKER_DATA_ROOT"
  local d ok=1
  d=$(mktemp -d "$DOCKER_DATA_ROOT/.bento-overlay-probe.XXXXXX")
  mkdir "$d/l" "$d/u" "$d/w" "$d/m"
  echo probe >"$d/l/f"
  if mount -t overlay overlay -o "lowerdir=$d/l,upperdir=$d/u,workdir=$d/w" "$d/m" 2>/dev/null; then
    [[ "$(cat "$d/m/f" 2>/dev/null)" == probe ]] && ok=0
    umount "$d/m" || true
  fi
  rm -rf "$d"
  return $ok
}

pick_storage_driver() {
  if [[ -n "${BENTO_DOCKER_STORAGE_DRIVER:-}" ]]; then
    echo "$BENTO_DOCKER_STORAGE_DRIVER"
  elif overlay_works; then
    echo overlay2
  elif [[ -c /dev/fuse ]] && command -v fuse-overlayfs >/dev/null 2>&1; then
    echo fuse-overlayfs
  else
    echo vfs
  fi
}

# Prints extra dockerd flags for networking. Docker needs a working `iptables`
# (nf_tables backend on Debian 12); fall back to the legacy backend via a private
# PATH entry, and as a last resort run without iptables (no outbound NAT for containers).
iptables_mode() {
  if iptables -t nat -L -n >/dev/null 2>&1; then
    echo nft
  elif command -v iptables-legacy >/dev/null 2>&1 && iptables-legacy -t nat -L -n >/dev/null 2>&1; then
    echo legacy
  else
    echo none
  fi
}

uplink_mtu() {
  local dev
  dev=$(ip -o route show default 2>/dev/null | awk '{for (i = 1; i < NF; i++) if ($i == "dev") print $(i + 1); exit}') || true
  if [[ -n "$dev" ]]; then cat "/sys/class/net/$dev/mtu" 2>/dev/null || true; fi
}

# The daemon's config file: the BuildKit cache bounded (keys Docker 20.10 reads: builder.gc.enabled,
# builder.gc.defaultKeepStorage; a value it cannot parse stops the daemon at start, so a typo is not silent).
write_daemon_config() {
  local keep="${BENTO_BUILD_CACHE_KEEP:-10GB}"
  [[ "$keep" =~ ^[0-9]+(\.[0-9]+)?[KMGT]?B$ ]] || die "BENTO_BUILD_CACHE_KEEP must be a size like 10GB, not '$keep'"
  mkdir -p "$(dirname "$DOCKERD_CONFIG")"
  printf '{\n  "builder": {"gc": {"enabled": true, "defaultKeepStorage": "%s"}}\n}\n' "$keep" >"$DOCKERD_CONFIG.tmp"
  mv "$DOCKERD_CONFIG.tmp" "$DOCKERD_CONFIG"
}

start_dockerd() {
  local driver mode args=() path="$PATH"
  driver=$(pick_storage_driver)
  mode=$(iptables_mode)
  write_daemon_config
  args+=(--storage-driver "$driver" --data-root "$DOCKER_DATA_ROOT" --config-file "$DOCKERD_CONFIG")
  # Containers get MTU 1500 by default; if the uplink is smaller (1400 here), match it so
  # large TLS downloads from containers cannot stall on dropped packets.
  local mtu
  mtu=$(uplink_mtu)
  if [[ -n "$mtu" ]] && ((mtu < 1500)); then args+=(--mtu "$mtu"); fi
  case "$mode" in
    legacy)
      local shim="$BENTO_TOOLS/iptables-legacy-shim"
      mkdir -p "$shim"
      ln -sf "$(command -v iptables-legacy)" "$shim/iptables"
      ln -sf "$(command -v ip6tables-legacy)" "$shim/ip6tables"
      path="$shim:$PATH"
      ;;
    none) args+=(--iptables=false --ip-masq=false) ;;
  esac
  # A stale pid file from a dead daemon makes dockerd refuse to start.
  if [[ -f /var/run/docker.pid ]] && ! kill -0 "$(cat /var/run/docker.pid)" 2>/dev/null; then
    rm -f /var/run/docker.pid
  fi
  log "starting dockerd (storage driver $driver, iptables $mode${mtu:+, mtu $mtu}, build cache kept under ${BENTO_BUILD_CACHE_KEEP:-10GB}), log: $DOCKERD_LOG"
  # daemonize: the daemon outlives this script and holds none of its descriptors (a caller's lock). Debian's dockerd
  # finds containerd/runc on PATH.
  PATH="$path" daemonize "$DOCKERD_LOG" /usr/sbin/dockerd "${args[@]}"
  disown || true
  local timeout="${BENTO_DOCKERD_TIMEOUT:-60}" waited=0
  until docker_answers; do
    if ((waited >= timeout * 2)); then
      log "dockerd did not answer on /var/run/docker.sock within ${timeout}s; last lines of $DOCKERD_LOG:"
      tail -n 30 "$DOCKERD_LOG" >&2 || true
      die "dockerd failed to start"
    fi
    sleep 0.5
    waited=$((waited + 1))
  done
  log "dockerd answers after ~$((waited / 2))s"
}

# A BuildKit build that needs nothing from a registry (FROM scratch), once per daemon start.
check_buildkit() {
  local key
  key="$(stat -c %Y /var/run/docker.sock 2>/dev/null || echo 0)"
  if stamp_ok docker-buildkit "$key"; then
    log "BuildKit already verified for this daemon"
    return 0
  fi
  local ctx
  ctx=$(mktemp -d)
  printf 'bento buildkit probe\n' >"$ctx/probe.txt"
  printf 'FROM scratch\nCOPY probe.txt /probe.txt\nLABEL org.bento.probe=1\n' >"$ctx/Dockerfile"
  if ! DOCKER_BUILDKIT=1 "$DOCKER" build -q -t bento-probe:buildkit "$ctx" >/dev/null 2>"$ctx/err"; then
    cat "$ctx/err" >&2
    rm -rf "$ctx"
    die "BuildKit build (DOCKER_BUILDKIT=1 $DOCKER build) failed"
  fi
  rm -rf "$ctx"
  "$DOCKER" image rm -f bento-probe:buildkit >/dev/null 2>&1 || true
  stamp_set docker-buildkit "$key"
  log "BuildKit build works"
}

main() {
  [[ $EUID -eq 0 ]] || die "run as root (apt-get and dockerd need it)"
  apt_install docker.io debootstrap docker-registry xz-utils debian-archive-keyring curl ca-certificates
  if docker_answers; then
    log "docker daemon already answering ($("$DOCKER" version --format '{{.Server.Version}}'))"
    local pid
    pid=$(cat /var/run/docker.pid 2>/dev/null || true)
    if [[ -z "$pid" ]] || ! tr '\0' ' ' <"/proc/$pid/cmdline" 2>/dev/null | grep -q -- "--config-file $DOCKERD_CONFIG"; then
      log "note: that daemon was not started with $DOCKERD_CONFIG (bounded build cache); scripts/disk-guard.sh prunes its cache instead"
    fi
  else
    start_dockerd
  fi
  log "daemon: $("$DOCKER" info --format 'server {{.ServerVersion}}, storage {{.Driver}}, cgroup v{{.CgroupVersion}} ({{.CgroupDriver}})')"
  check_buildkit
}

timed "docker.sh" main
