#!/usr/bin/env bash
# The main job on the bundled iris example, from a bare machine:
#   provision only what it needs (all.sh demo: Docker engine, python:3.11-slim, the BentoML 1.4.15 venv,
#   the wheelhouse's 1.4.15 set, node_modules; no test-only tools, no TensorFlow)
#   -> train and save the model with the real bentoml.sklearn.save_model
#   -> bento build -> bento containerize -> docker run -> POST /classify -> prints the answer.
# Env: BENTOML_HOME (default .tools/demo-home), PORT (default 3000).
set -euo pipefail
BENTO_LOG_TAG=demo
# shellcheck source=SCRIPTDIR/lib/common.sh
source "$(dirname "${BASH_SOURCE[0]}")/lib/common.sh"
cd "$BENTO_REPO_ROOT"

bash scripts/provision/all.sh demo
npm run build --silent >&2

export BENTOML_HOME="${BENTOML_HOME:-$BENTO_TOOLS/demo-home}"
export BENTOML_DO_NOT_TRACK=true
PORT="${PORT:-3000}"
bento() { node "$BENTO_REPO_ROOT/bin/run.js" "$@"; }

if ! bento models get iris_clf:latest -o path >/dev/null 2>&1; then
  log "training the iris classifier and saving it with bentoml.sklearn.save_model"
  "$BENTO_TOOLS/bentoml-venv/bin/python" examples/iris/train.py >&2
fi

log "bento build examples/iris"
tag=$(bento build examples/iris --json | node -e 'let s="";process.stdin.on("data",d=>s+=d).on("end",()=>console.log(JSON.parse(s).tag))')
log "built $tag"

log "bento containerize $tag (pip installs offline from $BENTO_TOOLS/wheelhouse)"
bento containerize "$tag" --wheelhouse "$BENTO_TOOLS/wheelhouse"

cid=$("$DOCKER" run -d --rm -p "127.0.0.1:$PORT:3000" "$tag")
trap '"$DOCKER" rm -f "$cid" >/dev/null 2>&1 || true' EXIT
log "container ${cid:0:12} started; waiting for /readyz"
for _ in $(seq 1 120); do
  curl -fsS "http://127.0.0.1:$PORT/readyz" >/dev/null 2>&1 && break
  sleep 1
done
log "POST /classify [[5.1,3.5,1.4,0.2]]"
answer=$(curl -fsS -X POST -H 'content-type: application/json' -d '[[5.1,3.5,1.4,0.2]]' "http://127.0.0.1:$PORT/classify")
echo "$answer"
[[ "$answer" == '["setosa"]' ]] || die "unexpected answer: $answer"
