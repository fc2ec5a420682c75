#!/usr/bin/env bash
# An offline wheelhouse for the containers of the tests (CPython 3.11, manylinux x86_64):
#   ${BENTO_WHEELHOUSE:-<repo>/.tools/wheelhouse}
# with bentoml==1.4.15, click<8.3, scikit-learn, numpy, uv (BentoML's Dockerfile runs
# `pip install uv` and install.sh uses `uv pip install`) and all their dependencies, and in a
# second, separately resolved pass bentoml==1.4.40 with scikit-learn and numpy (the SDK examples'
# images). One directory: pip picks, per requirement set, the versions that satisfy it.
#
# The host python is CPython 3.11 on Debian 12 (glibc 2.36), the same ABI as the
# python:3.11-slim image, so `pip wheel` with it picks exactly the wheels the container
# can use, and turns any sdist-only dependency into a wheel.
#
# Proof: in a python:3.11-slim container with --network none, a venv installs from the
# wheelhouse with --no-index and imports bentoml and sklearn. Done once per
# (wheelhouse, image) pair.
set -euo pipefail
BENTO_LOG_TAG=wheelhouse
# shellcheck source=SCRIPTDIR/../lib/common.sh
source "$(dirname "${BASH_SOURCE[0]}")/../lib/common.sh"
# shellcheck source=SCRIPTDIR/../lib/venv.sh
source "$(dirname "${BASH_SOURCE[0]}")/../lib/venv.sh"

WHEELHOUSE="${BENTO_WHEELHOUSE:-$BENTO_TOOLS/wheelhouse}"
REQS=('bentoml==1.4.15' 'click<8.3' 'setuptools<81' scikit-learn numpy uv)
REQS_1440=('bentoml==1.4.40' scikit-learn numpy)
IMAGE=python:3.11-slim
STAMP="$WHEELHOUSE/.bento-provision-stamp"

fill() {
  local py key
  py=$(host_python)
  key="$("$py" -c 'import sys; print(sys.version.split()[0])') | ${REQS[*]} | ${REQS_1440[*]}"
  if [[ -f "$STAMP" && "$(cat "$STAMP")" == "$key" ]]; then
    log "wheelhouse up to date: $WHEELHOUSE ($(find "$WHEELHOUSE" -name '*.whl' | wc -l) wheels)"
    return 0
  fi
  mkdir -p "$WHEELHOUSE"
  log "filling $WHEELHOUSE"
  local logf="$WHEELHOUSE/.pip-wheel.log"
  : >"$logf"
  local set
  for set in REQS REQS_1440; do
    local -n reqs="$set"
    log "pip wheel ${reqs[*]}"
    if ! "$py" -m pip wheel --disable-pip-version-check --prefer-binary \
      --wheel-dir "$WHEELHOUSE" "${reqs[@]}" >>"$logf" 2>&1; then
      tail -n 25 "$logf" >&2
      die "pip wheel failed (full log $logf)"
    fi
  done
  local built
  built=$(grep -E '^\s*Building wheel for' "$logf" | sed -E 's/.*Building wheel for ([^ ]+).*/\1/' | sort -u | tr '\n' ' ' || true)
  [[ -n "$built" ]] && log "built from sdist (no wheel on PyPI): $built"
  # Every wheel must be usable by CPython 3.11 on manylinux x86_64.
  local bad
  bad=$(find "$WHEELHOUSE" -name '*.whl' -printf '%f\n' |
    grep -vE -- '-(py3|py2\.py3|cp311|cp311-abi3|cp3[0-9]+-abi3)-' |
    grep -vE -- '-py3[0-9]*-none-' || true)
  [[ -z "$bad" ]] || log "warning: wheels with unexpected tags: $bad"
  bad=$(find "$WHEELHOUSE" -name '*.whl' -printf '%f\n' | grep -E -- '(macosx|win_amd64|aarch64|musllinux)' || true)
  [[ -z "$bad" ]] || die "wheels for the wrong platform: $bad"
  printf '%s' "$key" >"$STAMP"
  log "wheelhouse: $(find "$WHEELHOUSE" -name '*.whl' | wc -l) wheels, $(du -sh "$WHEELHOUSE" | cut -f1)"
}

prove_offline_install() {
  require_docker
  local image_id key
  image_id=$("$DOCKER" image inspect -f '{{.Id}}' "$IMAGE" 2>/dev/null) ||
    die "$IMAGE missing; run scripts/provision/base-image.sh first"
  key="$(cat "$STAMP") | $image_id"
  if stamp_ok wheelhouse-offline "$key"; then
    log "offline install already proven for this wheelhouse and $IMAGE"
    return 0
  fi
  log "proving an offline install: $IMAGE, --network none, --no-index --find-links /wheels"
  local out
  if ! out=$("$DOCKER" run --rm --network none -v "$WHEELHOUSE:/wheels:ro" "$IMAGE" sh -euc '
      python3 -m venv /app/.venv
      /app/.venv/bin/pip install -q --disable-pip-version-check --no-index --find-links /wheels \
        "bentoml==1.4.15" "click<8.3" scikit-learn uv
      /app/.venv/bin/python -c "import bentoml, sklearn; print(\"bentoml\", bentoml.__version__, \"sklearn\", sklearn.__version__)"
      /app/.venv/bin/uv --version
      python3 -m venv /app/.venv140
      /app/.venv140/bin/pip install -q --disable-pip-version-check --no-index --find-links /wheels \
        "bentoml==1.4.40" scikit-learn numpy
      /app/.venv140/bin/python -c "import bentoml, sklearn; print(\"bentoml\", bentoml.__version__, \"sklearn\", sklearn.__version__)"' 2>&1); then
    echo "$out" | tail -n 25 >&2
    die "offline install from the wheelhouse failed"
  fi
  stamp_set wheelhouse-offline "$key"
  log "offline install works: $(echo "$out" | tr '\n' ' ')"
}

main() {
  fill
  prove_offline_install
}

timed "wheelhouse.sh" main
