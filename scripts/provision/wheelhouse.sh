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
# (set, wheelhouse, image).
#
# BENTO_WHEELHOUSE_SETS: which requirement sets (default "1.4.15 1.4.40"; the demo needs only 1.4.15). Each set
# has its own stamp, so filling one never redoes the other.
set -euo pipefail
BENTO_LOG_TAG=wheelhouse
# shellcheck source=SCRIPTDIR/../lib/common.sh
source "$(dirname "${BASH_SOURCE[0]}")/../lib/common.sh"
# shellcheck source=SCRIPTDIR/../lib/venv.sh
source "$(dirname "${BASH_SOURCE[0]}")/../lib/venv.sh"

WHEELHOUSE="${BENTO_WHEELHOUSE:-$BENTO_TOOLS/wheelhouse}"
REQS_1415=('bentoml==1.4.15' 'click<8.3' 'setuptools<81' scikit-learn numpy uv)
REQS_1440=('bentoml==1.4.40' scikit-learn numpy)
read -r -a SETS <<<"${BENTO_WHEELHOUSE_SETS:-1.4.15 1.4.40}"
IMAGE=python:3.11-slim
# One stamp per set, keyed on the host Python and the set's requirements.
stamp_of() { printf '%s' "$WHEELHOUSE/.bento-provision-stamp-$1"; }
key_of() {
  local -n reqs="REQS_${1//./}"
  printf '%s | %s' "$("$(host_python)" -c 'import sys; print(sys.version.split()[0])')" "${reqs[*]}"
}

fill_set() {
  local set="$1" py key stamp
  case "$set" in 1.4.15 | 1.4.40) ;; *) die "unknown wheelhouse set '$set' (1.4.15, 1.4.40)" ;; esac
  local -n reqs="REQS_${set//./}"
  py=$(host_python)
  key=$(key_of "$set")
  stamp=$(stamp_of "$set")
  if stamp_file_ok "$stamp" "$key"; then
    log "wheelhouse set $set up to date: $WHEELHOUSE"
    return 0
  fi
  mkdir -p "$WHEELHOUSE"
  local logf="$WHEELHOUSE/.pip-wheel-$set.log"
  log "pip wheel ${reqs[*]} -> $WHEELHOUSE"
  run_logged "$logf" "pip wheel" "$py" -m pip wheel --disable-pip-version-check --prefer-binary \
    --wheel-dir "$WHEELHOUSE" "${reqs[@]}"
  local built
  built=$(grep -E '^\s*Building wheel for' "$logf" | sed -E 's/.*Building wheel for ([^ ]+).*/\1/' | sort -u | tr '\n' ' ' || true)
  [[ -n "$built" ]] && log "built from sdist (no wheel on PyPI): $built"
  printf '%s' "$key" >"$stamp"
}

fill() {
  # A wheelhouse filled before the sets had their own stamps: its combined stamp vouches for both sets.
  local old="$WHEELHOUSE/.bento-provision-stamp" set
  if [[ -f "$old" && "$(cat "$old")" == "$("$(host_python)" -c 'import sys; print(sys.version.split()[0])') | ${REQS_1415[*]} | ${REQS_1440[*]}" ]]; then
    for set in 1.4.15 1.4.40; do [[ -f "$(stamp_of "$set")" ]] || key_of "$set" >"$(stamp_of "$set")"; done
  fi
  for set in "${SETS[@]}"; do fill_set "$set"; done
  # Every wheel must be usable by CPython 3.11 on manylinux x86_64.
  local bad
  bad=$(find "$WHEELHOUSE" -name '*.whl' -printf '%f\n' |
    grep -vE -- '-(py3|py2\.py3|cp311|cp311-abi3|cp3[0-9]+-abi3)-' |
    grep -vE -- '-py3[0-9]*-none-' || true)
  [[ -z "$bad" ]] || log "warning: wheels with unexpected tags: $bad"
  bad=$(find "$WHEELHOUSE" -name '*.whl' -printf '%f\n' | grep -E -- '(macosx|win_amd64|aarch64|musllinux)' || true)
  [[ -z "$bad" ]] || die "wheels for the wrong platform: $bad"
  log "wheelhouse ${SETS[*]}: $(find "$WHEELHOUSE" -name '*.whl' | wc -l) wheels, $(du -sh "$WHEELHOUSE" | cut -f1)"
}

# What the proof installs and imports, per set.
PROOF_1415='python3 -m venv /app/.venv
/app/.venv/bin/pip install -q --disable-pip-version-check --no-index --find-links /wheels "bentoml==1.4.15" "click<8.3" scikit-learn uv
/app/.venv/bin/python -c "import bentoml, sklearn; print(\"bentoml\", bentoml.__version__, \"sklearn\", sklearn.__version__)"
/app/.venv/bin/uv --version'
PROOF_1440='python3 -m venv /app/.venv
/app/.venv/bin/pip install -q --disable-pip-version-check --no-index --find-links /wheels "bentoml==1.4.40" scikit-learn numpy
/app/.venv/bin/python -c "import bentoml, sklearn; print(\"bentoml\", bentoml.__version__, \"sklearn\", sklearn.__version__)"'

prove_offline_install() {
  require_docker
  local image_id set
  image_id=$("$DOCKER" image inspect -f '{{.Id}}' "$IMAGE" 2>/dev/null) ||
    die "$IMAGE missing; run scripts/provision/base-image.sh first"
  for set in "${SETS[@]}"; do
    local key script out
    key="$(cat "$(stamp_of "$set")") | $image_id"
    if stamp_ok "wheelhouse-offline-$set" "$key"; then
      log "offline install of set $set already proven for this wheelhouse and $IMAGE"
      continue
    fi
    log "proving an offline install of set $set: $IMAGE, --network none, --no-index --find-links /wheels"
    script="PROOF_${set//./}"
    if ! out=$("$DOCKER" run --rm --network none -v "$WHEELHOUSE:/wheels:ro" "$IMAGE" sh -euc "${!script}" 2>&1); then
      echo "$out" | tail -n 25 >&2
      die "offline install of set $set from the wheelhouse failed"
    fi
    stamp_set "wheelhouse-offline-$set" "$key"
    log "offline install works: $(echo "$out" | tr '\n' ' ')"
  done
}

main() {
  fill
  # BENTO_WHEELHOUSE_PROVE=0 (the demo): the image build that follows is the proof, and says which wheel is missing.
  if [[ "${BENTO_WHEELHOUSE_PROVE:-1}" == 1 ]]; then prove_offline_install; else log "offline-install proof left to the image build"; fi
}

timed "wheelhouse.sh" main
