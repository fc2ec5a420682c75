#!/usr/bin/env bash
# The newest BentoML 1.3.x (1.3.22), the reference for Bentos that target a 1.3.x pin (sdk-1.3-interop):
#   ${BENTOML_1322_VENV:-<repo>/.tools/bentoml-1.3.22-venv}
# setuptools<81: BentoML 1.3.x imports PyFilesystem's `fs`, which needs pkg_resources (gone from setuptools 81).
# uv is installed up front: `bentoml build` locks requirements with it.
set -euo pipefail
BENTO_LOG_TAG=bentoml-1.3.22-venv
# shellcheck source=SCRIPTDIR/../lib/common.sh
source "$(dirname "${BASH_SOURCE[0]}")/../lib/common.sh"
# shellcheck source=SCRIPTDIR/../lib/venv.sh
source "$(dirname "${BASH_SOURCE[0]}")/../lib/venv.sh"

VENV="${BENTOML_1322_VENV:-$BENTO_TOOLS/bentoml-1.3.22-venv}"

main() {
  provision_venv "$VENV" 'bentoml==1.3.22' 'setuptools<81' uv
  check_bentoml_version "$VENV" 1.3.22
}

timed "bentoml-1.3.22-venv.sh" main
