#!/usr/bin/env bash
# BentoML 1.4.15 + TensorFlow (CPU) for the Keras benchmarks; big (~2 GB), not run in CI.
#   ${BENTOML_KERAS_VENV:-<repo>/.tools/bentoml-keras-venv}
set -euo pipefail
BENTO_LOG_TAG=bentoml-keras-venv
# shellcheck source=SCRIPTDIR/../lib/common.sh
source "$(dirname "${BASH_SOURCE[0]}")/../lib/common.sh"
# shellcheck source=SCRIPTDIR/../lib/venv.sh
source "$(dirname "${BASH_SOURCE[0]}")/../lib/venv.sh"

VENV="${BENTOML_KERAS_VENV:-$BENTO_TOOLS/bentoml-keras-venv}"

main() {
  provision_venv "$VENV" 'bentoml==1.4.15' 'click<8.3' 'tensorflow-cpu==2.15.*' scikit-learn
  check_bentoml_version "$VENV" 1.4.15
  local tf
  if venv_verified "$VENV" tensorflow; then
    log "tensorflow import already verified in $VENV (since its last install)"
    return 0
  fi
  tf=$("$VENV/bin/python" -c 'import os; os.environ["TF_CPP_MIN_LOG_LEVEL"]="3"; import tensorflow as tf; print(tf.__version__)' 2>/dev/null) ||
    die "import tensorflow failed in $VENV"
  log "tensorflow $tf"
  venv_mark_verified "$VENV" tensorflow
}

timed "bentoml-keras-venv.sh" main
