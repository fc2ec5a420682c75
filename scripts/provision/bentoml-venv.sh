#!/usr/bin/env bash
# The reference BentoML (1.4.15) for compatibility tests, in its own venv:
#   ${BENTOML_VENV:-<repo>/.tools/bentoml-venv}
# Rerun is instant (stamp keyed on python + requirements).
set -euo pipefail
BENTO_LOG_TAG=bentoml-venv
# shellcheck source=SCRIPTDIR/../lib/common.sh
source "$(dirname "${BASH_SOURCE[0]}")/../lib/common.sh"
# shellcheck source=SCRIPTDIR/../lib/venv.sh
source "$(dirname "${BASH_SOURCE[0]}")/../lib/venv.sh"

VENV="${BENTOML_VENV:-$BENTO_TOOLS/bentoml-venv}"

main() {
  provision_venv "$VENV" 'bentoml==1.4.15' 'click<8.3' scikit-learn
  check_bentoml_version "$VENV" 1.4.15
}

timed "bentoml-venv.sh" main
