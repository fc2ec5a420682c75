#!/usr/bin/env bash
# bento push vs docker push, side by side: a cold push, a re-push of the same image, and a push after a code edit,
# each with its time and the bytes it uploaded. The iris example (its model saved by the real bentoml.sklearn) is
# built and containerized offline (the wheelhouse); a second Bento differs by one comment in service.py.
#
# Both push to a throwaway docker-registry (Debian's, the tests' registry) started here on a free port with its own
# storage, so the bytes each push stored are measured on disk (docker push: gzip layers; bento: uncompressed ones)
# and nothing is left behind: the registry, its storage, the images and the temp homes are removed at exit.
#
#   flock /work/docker.lock bash bench/push.sh        # needs scripts/provision/all.sh (tools) and npm run build
set -euo pipefail
BENTO_LOG_TAG=bench-push
# shellcheck source=SCRIPTDIR/../scripts/lib/common.sh
source "$(dirname "${BASH_SOURCE[0]}")/../scripts/lib/common.sh"
require_docker
BIN="$BENTO_REPO_ROOT/bin/run.js"
VENV="${BENTOML_VENV:-$BENTO_TOOLS/bentoml-venv}"
WHEELHOUSE="${BENTO_WHEELHOUSE:-$BENTO_TOOLS/wheelhouse}"
[[ -f "$BENTO_REPO_ROOT/dist/commands/push.js" ]] || die "run npm run build first"

WORK=$(mktemp -d /tmp/bento-bench-push-XXXXXX)
PORT=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')
REG="127.0.0.1:$PORT"
RUN=$(date +%s)
IMG1="bench-push:$RUN-a" IMG2="bench-push:$RUN-b"
cleanup() {
  [[ -f "$WORK/registry.pid" ]] && kill "$(cat "$WORK/registry.pid")" 2>/dev/null || true
  "$DOCKER" rmi -f "$IMG1" "$IMG2" "$REG/docker/iris:1" "$REG/docker/iris:2" >/dev/null 2>&1 || true
  for i in $(cat "$WORK/made-images" 2>/dev/null); do "$DOCKER" rmi -f "$i" >/dev/null 2>&1 || true; done
  rm -rf "$WORK"
}
trap cleanup EXIT

cat >"$WORK/config.yml" <<CFG
version: 0.1
log: {level: error, accesslog: {disabled: true}}
storage: {filesystem: {rootdirectory: $WORK/data}, delete: {enabled: true}}
http: {addr: $REG}
CFG
mkdir -p "$WORK/data"
start_registry "$REG" "$WORK/config.yml" "$WORK/registry.pid" "$WORK/registry.log"

export BENTOML_HOME="$WORK/home" BENTOML_DO_NOT_TRACK=true DOCKER_CONFIG="$WORK/docker-config"
mkdir -p "$DOCKER_CONFIG"
cp -r "$BENTO_REPO_ROOT/examples/iris" "$WORK/iris"
"$VENV/bin/python" "$WORK/iris/train.py" >/dev/null
build_image() { # IMAGE: bento build + containerize (offline), the image tagged IMAGE
  local tag
  tag=$(cd "$WORK/iris" && node "$BIN" build --json | python3 -c 'import json,sys; print(json.load(sys.stdin)["tag"])')
  node "$BIN" containerize "$tag" -t "$1" --wheelhouse "$WHEELHOUSE" --json -q >"$WORK/c.json"
  python3 -c 'import json; d=json.load(open("'"$WORK/c.json"'")); print("\n".join([m["image"] for m in d["modelImages"]] + ([d["wheelhouseImage"]["image"]] if d.get("wheelhouseImage") else [])))' >>"$WORK/made-images"
}
log "building the two images (iris, and iris with a one-line code edit)"
build_image "$IMG1"
printf '\n# a code edit\n' >>"$WORK/iris/service.py"
build_image "$IMG2"

stored() { du -sb "$WORK/data" | cut -f1; }
now_ms() { date +%s%3N; }
ROWS=()
# row LABEL TOOL MS BYTES
row() { ROWS+=("| $1 | $2 | $(awk "BEGIN{printf \"%.2f\", $3/1000}") s | $(awk "BEGIN{printf \"%.2f\", $4/1048576}") MiB |"); }

bento_push() { # LABEL IMAGE REF
  local t0 t1 bytes
  t0=$(now_ms)
  bytes=$(node "$BIN" push "$2" "$3" --json -q | python3 -c 'import json,sys; print(json.load(sys.stdin)["uploadedBytes"])')
  t1=$(now_ms)
  row "$1" "bento push" $((t1 - t0)) "$bytes"
}
docker_push() { # LABEL IMAGE REF (bytes: what the registry stored, gzip layers)
  local t0 t1 s0 s1
  "$DOCKER" tag "$2" "$3"
  s0=$(stored)
  t0=$(now_ms)
  "$DOCKER" push -q "$3" >/dev/null
  t1=$(now_ms)
  s1=$(stored)
  row "$1" "docker push" $((t1 - t0)) $((s1 - s0))
}

log "bento push: cold, re-push, after the edit"
bento_push "cold push" "$IMG1" "$REG/bento/iris:1"
bento_push "re-push" "$IMG1" "$REG/bento/iris:1"
bento_push "push after a code edit" "$IMG2" "$REG/bento/iris:2"
log "docker push: the same three"
docker_push "cold push" "$IMG1" "$REG/docker/iris:1"
docker_push "re-push" "$IMG1" "$REG/docker/iris:1"
docker_push "push after a code edit" "$IMG2" "$REG/docker/iris:2"

size=$("$DOCKER" image inspect -f '{{.Size}}' "$IMG1")
echo
echo "bench/push.sh, $(date -u +%Y-%m-%dT%H:%MZ), $(nproc) cores, Docker $("$DOCKER" version -f '{{.Server.Version}}'), iris image $(awk "BEGIN{printf \"%.1f\", $size/1048576}") MiB"
echo
echo "| push | tool | time | bytes uploaded |"
echo "| --- | --- | --- | --- |"
printf '%s\n' "${ROWS[@]}"
