# shellcheck shell=bash
# Disk accounting for scripts/test-all.sh and scripts/disk-guard.sh (source it after common.sh). The CI machine once
# ran out of space mid-run ("no space left on device" from the daemon's overlay2): every step says how much is free
# before and after, a sampler records the lowest point, and the summary prints it.

DOCKER_DATA_ROOT="${DOCKER_DATA_ROOT:-/var/lib/docker}"

# free_bytes PATH: bytes available to an unprivileged writer on PATH's file system (0 when PATH is missing).
free_bytes() {
  local p="$1"
  while [[ ! -e "$p" && "$p" != / ]]; do p=$(dirname "$p"); done
  df -B1 --output=avail "$p" 2>/dev/null | tail -1 | tr -d ' ' || echo 0
}

# gb BYTES: "12.3 GB" (decimal, as docker system df prints).
gb() { awk -v b="$1" 'BEGIN { printf "%.1f GB", b / 1e9 }'; }

# docker_df: one line, `docker system df` in short (images, containers, volumes, build cache: count and size).
docker_df() {
  docker_answers || { echo "docker: not answering"; return 0; }
  "$DOCKER" system df --format '{{.Type}} {{.TotalCount}} {{.Size}} (reclaimable {{.Reclaimable}})' 2>/dev/null |
    sed -e 's/^Local Volumes/volumes/' -e 's/^Build Cache/build-cache/' -e 's/^Images/images/' -e 's/^Containers/containers/' |
    paste -sd ';' - | sed 's/;/; /g'
}

# disk_report LABEL: log the free space of the docker data root and the repository, and docker's usage.
disk_report() {
  local docker_free repo_free
  docker_free=$(free_bytes "$DOCKER_DATA_ROOT")
  repo_free=$(free_bytes "$BENTO_REPO_ROOT")
  log "disk $1: free $(gb "$docker_free") on $DOCKER_DATA_ROOT, $(gb "$repo_free") on the repository; $(docker_df)"
}

# disk_sampler FILE: every 5 s append "epoch free-docker-root free-repo step" to FILE (the step from FILE.step);
# runs until killed.
disk_sampler() {
  local file="$1" step
  while true; do
    step=$(cat "$file.step" 2>/dev/null || echo -)
    printf '%s %s %s %s\n' "$(date +%s)" "$(free_bytes "$DOCKER_DATA_ROOT")" "$(free_bytes "$BENTO_REPO_ROOT")" "$step" >>"$file"
    sleep 5
  done
}

# disk_low_point FILE START_EPOCH: the lowest free space the sampler saw on the docker data root (when, in which
# step, and how far below the first sample: the peak the run used there) and on the repository.
disk_low_point() {
  awk -v t0="$2" '
    NR == 1 { first = $2 }
    NR == 1 || $2 < min_d { min_d = $2; at = $1; step = $4 }
    NR == 1 || $3 < min_r { min_r = $3 }
    END {
      if (NR == 0) { print "no disk samples"; exit }
      printf "lowest free space: %.1f GB on the docker data root (during %s, at +%ds: %.1f GB below the start), %.1f GB on the repository (%d samples)\n",
        min_d / 1e9, step, at - t0, (first - min_d) / 1e9, min_r / 1e9, NR
    }' "$1"
}
