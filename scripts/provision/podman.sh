#!/usr/bin/env bash
# Podman (Debian's 4.3) for the Kubernetes e2e test (test/e2e/k8s-play.docker.test.ts): `podman kube play` runs the
# Deployment `bento k8s` prints. Idempotent; a warm rerun takes well under a second.
#
# - catatonit: kube play builds its pause image (localhost/podman-pause) from Debian's catatonit on first use.
# - runc as the OCI runtime (Debian's podman recommends crun, which is not installed here).
# - default_ulimits: podman asks runc for nofile=1048576 and nproc=max, which fails in a container whose hard limits
#   are lower ("error setting rlimit type 7: operation not permitted"): ask for the hard nofile limit of this
#   machine and nproc 4096 (the hard nproc limit itself was refused here too, for the pod's infra container).
set -euo pipefail
BENTO_LOG_TAG=podman
# shellcheck source=SCRIPTDIR/../lib/common.sh
source "$(dirname "${BASH_SOURCE[0]}")/../lib/common.sh"

CONF=/etc/containers/containers.conf

main() {
  apt_install podman catatonit runc
  local nofile
  nofile=$(ulimit -Hn)
  [[ "$nofile" == unlimited || "$nofile" -gt 65536 ]] && nofile=65536
  local want
  want=$(
    cat <<CONF
# Written by bento's scripts/provision/podman.sh.
[containers]
default_ulimits = ["nofile=$nofile:$nofile", "nproc=4096:4096"]
init_path = "/usr/bin/catatonit"

[engine]
runtime = "runc"
CONF
  )
  if [[ -f "$CONF" && "$(cat "$CONF")" == "$want" ]]; then
    log "$CONF already set"
  else
    mkdir -p "$(dirname "$CONF")"
    printf '%s\n' "$want" >"$CONF.tmp"
    mv "$CONF.tmp" "$CONF"
    log "wrote $CONF (nofile $nofile, nproc 4096, runc, catatonit)"
  fi
  podman info --format '{{.Version.Version}} {{.Store.GraphDriverName}} {{.Host.OCIRuntime.Name}}' >/dev/null || die "podman info failed"
  log "podman $(podman version --format '{{.Client.Version}}') ready"
}

timed "podman.sh" main
