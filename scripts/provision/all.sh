#!/usr/bin/env bash
# Provision a bare Debian 12 machine (root, no container registry). Idempotent; a warm rerun takes a second or two.
#
#   all.sh        everything the build, the tests and the benchmarks need: docker daemon, python:3.11-slim, a local
#                 registry on 127.0.0.1:5000 (and one with htpasswd auth on :5001), the BentoML 1.4.15, 1.4.40 and 1.3.22
#                 venvs, the offline wheelhouse (1.4.15 and 1.4.40 sets), the lock differential's wheelhouse, node_modules,
#                 the Keras benchmark venv (TensorFlow; unless BENTO_SKIP_KERAS=1), Podman (`podman kube play` for the
#                 Kubernetes e2e), and for `containerize --platform linux/arm64`: QEMU user emulation, an arm64 stand-in
#                 of the base image and the iris example's arm64 wheels (platform-arm64.sh).
#   all.sh demo   only what scripts/demo.sh needs: docker daemon, python:3.11-slim, the BentoML 1.4.15 venv (it
#                 trains and saves the model), the wheelhouse's 1.4.15 set (offline pip in the image), node_modules.
set -euo pipefail
BENTO_LOG_TAG=all
# shellcheck source=SCRIPTDIR/../lib/common.sh
source "$(dirname "${BASH_SOURCE[0]}")/../lib/common.sh"
HERE="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
PROFILE="${1:-all}"
case "$PROFILE" in
  all | demo) ;;
  *) die "unknown profile '$PROFILE' (all.sh [all|demo])" ;;
esac

start=$(date +%s)
mkdir -p "$BENTO_TOOLS/logs"

# Independent of docker, so they run alongside it: the BentoML venv (pip) and npm ci.
bg_pids=() bg_names=()
run_bg() {
  local name="$1"
  shift
  "$@" >"$BENTO_TOOLS/logs/$name.log" 2>&1 </dev/null &
  bg_pids+=($!)
  bg_names+=("$name")
}
# node_modules: `npm ci` once per package-lock.json and Node version, kept under $BENTO_TOOLS/node-modules/<key>; a
# checkout without node_modules gets a hard-linked copy of it (≈ 1–3 s instead of ≈ 20 s of npm ci). Links, so
# nothing may write into the copy in place: the caches tools write there (.vite, .cache) are left out of it.
# link_tree SRC DST: DST a hard-linked copy of SRC; across two file systems (no hard links), a plain copy.
link_tree() {
  cp -al "$1" "$2" 2>/dev/null || { rm -rf "$2" && cp -a "$1" "$2"; }
}
npm_ci() {
  if [[ -e "$BENTO_REPO_ROOT/node_modules" ]]; then
    log "node_modules present; skipping npm ci"
    return 0
  fi
  command -v npm >/dev/null || die "npm not found (Node 20 is required)"
  local key cache
  key="$( (cat "$BENTO_REPO_ROOT/package-lock.json"; node --version) | sha256sum | cut -c1-16)"
  cache="$BENTO_TOOLS/node-modules/$key"
  if [[ ! -d "$cache/node_modules" ]]; then
    log "npm ci"
    (cd "$BENTO_REPO_ROOT" && npm ci --no-audit --no-fund)
    log "npm ci done; keeping it as $cache"
    rm -rf "$cache.tmp"
    mkdir -p "$cache.tmp"
    link_tree "$BENTO_REPO_ROOT/node_modules" "$cache.tmp/node_modules"
    rm -rf "$cache.tmp/node_modules/.vite" "$cache.tmp/node_modules/.vite-temp" "$cache.tmp/node_modules/.cache"
    rm -rf "$cache"
    mv "$cache.tmp" "$cache"
    # Older keys are dead weight (≈ 160 MB each).
    find "$BENTO_TOOLS/node-modules" -mindepth 1 -maxdepth 1 ! -name "$key" -exec rm -rf {} +
    return 0
  fi
  link_tree "$cache/node_modules" "$BENTO_REPO_ROOT/node_modules.tmp.$$"
  mv "$BENTO_REPO_ROOT/node_modules.tmp.$$" "$BENTO_REPO_ROOT/node_modules"
  log "node_modules linked from $cache (package-lock.json and Node $(node --version) unchanged)"
}

run_bg bentoml-venv bash "$HERE/bentoml-venv.sh"
run_bg npm-ci npm_ci
if [[ "$PROFILE" == all ]]; then
  run_bg bentoml-1.4.40-venv bash "$HERE/bentoml-1.4.40-venv.sh"
  # The newest 1.3.x, the reference for Bentos that target a 1.3.x pin (bentoml-13-interop); ~15 s cold.
  run_bg bentoml-1.3.22-venv bash "$HERE/bentoml-1.3.22-venv.sh"
  # The lock differential's wheels (lock-corpus-diff): ~63 MB of pinned wheels from PyPI, ~35 s cold.
  run_bg corpus-lock-wheelhouse bash "$HERE/corpus-lock-wheelhouse.sh"
  # TensorFlow for the Keras benchmark (bench --quick runs in CI); big, so it downloads alongside the rest.
  [[ "${BENTO_SKIP_KERAS:-0}" == 1 ]] || run_bg bentoml-keras-venv bash "$HERE/bentoml-keras-venv.sh"
fi

failed=0
bash "$HERE/docker.sh" || failed=1
if ((failed == 0)); then
  bash "$HERE/base-image.sh" || failed=1
  if [[ "$PROFILE" == all ]]; then
    bash "$HERE/registry.sh" || failed=1
    # apt, after docker.sh's: one apt at a time.
    bash "$HERE/podman.sh" || failed=1
    bash "$HERE/registry-auth.sh" || failed=1
    # apt (qemu-user-static), then debootstrap --arch=arm64 under QEMU: minutes cold, a second warm.
    bash "$HERE/platform-arm64.sh" || failed=1
    ((failed == 0)) && { bash "$HERE/wheelhouse.sh" || failed=1; }
  else
    ((failed == 0)) && { BENTO_WHEELHOUSE_SETS=1.4.15 BENTO_WHEELHOUSE_PROVE=0 bash "$HERE/wheelhouse.sh" || failed=1; }
  fi
fi

for i in "${!bg_pids[@]}"; do
  rc=0
  wait "${bg_pids[$i]}" || rc=$?
  cat "$BENTO_TOOLS/logs/${bg_names[$i]}.log" >&2
  if ((rc != 0)); then
    log "ERROR: ${bg_names[$i]} failed (exit $rc)"
    failed=1
  fi
done

total=$(($(date +%s) - start))
if ((failed != 0)); then
  log "provisioning FAILED after ${total}s"
  exit 1
fi
log "provisioning ($PROFILE) done in ${total}s"
