#!/usr/bin/env bash
# The newest BentoML the tool targets (1.4.40), for the interop and containerize tests of SDK services:
#   ${BENTOML_1440_VENV:-<repo>/.tools/bentoml-1.4.40-venv}
# uv is installed up front: `bentoml build` locks requirements with it and would otherwise pip-install it
# into the venv during a test.
set -euo pipefail
BENTO_LOG_TAG=bentoml-1.4.40-venv
# shellcheck source=SCRIPTDIR/../lib/common.sh
source "$(dirname "${BASH_SOURCE[0]}")/../lib/common.sh"
# shellcheck source=SCRIPTDIR/../lib/venv.sh
source "$(dirname "${BASH_SOURCE[0]}")/../lib/venv.sh"

VENV="${BENTOML_1440_VENV:-$BENTO_TOOLS/bentoml-1.4.40-venv}"

main() {
  provision_venv "$VENV" 'bentoml==1.4.40' scikit-learn uv
  check_bentoml_version "$VENV" 1.4.40
}

timed "bentoml-1.4.40-venv.sh" main
