#!/usr/bin/env bash
# The wheelhouse of the lock differential (test/e2e/lock-corpus-diff.test.ts, scripts/lock-diff/):
#   ${BENTO_CORPUS_LOCK_WHEELHOUSE:-<repo>/.tools/corpus-lock-wheelhouse}
# the wheels (CPython 3.11, manylinux x86_64) of the pinned closure of what the corpus projects it locks ask for:
# langgraph-anthropic's requirements.txt (langgraph, langchain-anthropic, langchain-community, duckduckgo-search) with
# bentoml==1.4.40, which also covers the projects that need bentoml alone (bml-service-in-module, bml-static-http).
# The pins are `uv pip compile --python-version 3.11 --python-platform x86_64-manylinux_2_36` of that set against PyPI
# (2026-12-06); both `bentoml build` and `bento build` then lock against a local index over this directory, so the
# two resolutions see the same packages. ~40 MB, from PyPI with pip (wheels only, no dependency resolution here).
# Idempotent: a stamp keyed on the pins; a warm rerun does nothing.
set -euo pipefail
BENTO_LOG_TAG=corpus-lock-wheelhouse
# shellcheck source=SCRIPTDIR/../lib/common.sh
source "$(dirname "${BASH_SOURCE[0]}")/../lib/common.sh"
# shellcheck source=SCRIPTDIR/../lib/venv.sh
source "$(dirname "${BASH_SOURCE[0]}")/../lib/venv.sh"

DIR="${BENTO_CORPUS_LOCK_WHEELHOUSE:-$BENTO_TOOLS/corpus-lock-wheelhouse}"
PINS=(
  a2wsgi==1.10.10 aiohappyeyeballs==2.7.1 aiohttp==3.14.5 aiohttp-asgi-connector==1.2.0 aiosignal==1.4.0
  aiosqlite==0.22.1 annotated-types==0.8.0 anthropic==2.17.0 anyio==4.16.0 asgiref==3.13.0 attrs==26.1.0
  bentoml==1.4.40 cattrs==23.1.2 certifi==2026.10.19.post1 charset-normalizer==3.5.3 click==8.5.1
  click-option-group==0.5.10 cloudpickle==3.1.3 distro==1.9.0 docstring-parser==0.18.0 duckduckgo-search==8.1.1
  frozenlist==1.8.0 fsspec==2026.9.0 h11==0.16.0 httpcore==1.0.9 httpcore2==2.17.0 httpx==0.29.0
  httpx-sse==0.4.3 httpx-ws==0.9.0 httpx2==2.17.0 idna==3.21 jinja2==3.1.6 jiter==0.19.0 jsonpatch==1.48
  jsonpointer==3.12 kantoku==0.18.3 langchain-anthropic==1.7.10 langchain-classic==1.0.8
  langchain-community==0.4.2 langchain-core==1.8.3 langchain-protocol==0.0.20 langchain-text-splitters==1.1.3
  langgraph==1.2.24 langgraph-checkpoint==4.3.2 langgraph-prebuilt==1.1.3 langgraph-sdk==0.4.14
  langsmith==0.15.1 lxml==6.2.0 markdown-it-py==4.3.0 markupsafe==3.0.4 mdurl==0.1.2 multidict==7.2.1
  numpy==2.4.6 nvidia-ml-py==13.615.71 opentelemetry-api==1.45.1 opentelemetry-instrumentation==0.66b1
  opentelemetry-instrumentation-aiohttp-client==0.66b1 opentelemetry-instrumentation-asgi==0.66b1
  opentelemetry-sdk==1.45.1 opentelemetry-semantic-conventions==0.66b1 opentelemetry-util-http==0.66b1
  orjson==3.13.0 ormsgpack==1.13.1 packaging==26.4 pathspec==1.1.1 pip-requirements-parser==32.0.1 primp==2.0.1
  prometheus-client==0.26.0 propcache==0.5.4 psutil==7.2.2 pydantic==2.14.4 pydantic-core==2.50.5
  pydantic-settings==2.16.3 pygments==2.21.0 pyparsing==3.3.3 python-dateutil==4.0.0 python-dotenv==1.2.4
  python-json-logger==4.2.0 python-multipart==0.0.34 pyyaml==6.0.4 pyzmq==27.3.0 requests==2.34.2
  requests-toolbelt==1.0.0 rich==15.0.0 rich-toolkit==0.20.6 schema==0.7.8 simple-di==0.1.5 sniffio==1.3.1
  sqlalchemy==2.1.9 starlette==1.10.0 tenacity==9.2.1 tomli-w==1.2.0 tornado==6.6.1 truststore==0.10.5
  typing-extensions==4.16.0 typing-inspection==0.4.5 tzdata==2026.6 urllib3==2.8.0 uuid-utils==0.19.0
  uvicorn==0.55.0 watchfiles==1.3.0 websockets==17.4 wrapt==2.5.2 wsproto==1.3.2 xxhash==4.1.0 yarl==1.25.1
  zstandard==0.25.0
)
KEY="$(printf '%s\n' "${PINS[@]}" | sha256sum | cut -c1-64)"
STAMP="$DIR/.bento-provision-stamp"
if [[ -f "$STAMP" && "$(cat "$STAMP")" == "$KEY" ]]; then
  log "corpus lock wheelhouse up to date: $DIR (${#PINS[@]} wheels)"
  exit 0
fi
mkdir -p "$DIR"
log "downloading ${#PINS[@]} pinned wheels into $DIR"
"$(host_python)" -m pip download --disable-pip-version-check --quiet --no-deps --only-binary=:all: \
  --python-version 3.11 --implementation cp --abi cp311 --abi abi3 --abi none \
  --platform manylinux_2_36_x86_64 --platform manylinux_2_28_x86_64 --platform manylinux_2_17_x86_64 \
  --platform manylinux2014_x86_64 --platform any \
  -d "$DIR" "${PINS[@]}"
count=$(find "$DIR" -maxdepth 1 -name '*.whl' | wc -l)
((count >= ${#PINS[@]})) || die "only $count wheels in $DIR for ${#PINS[@]} pins"
printf '%s' "$KEY" >"$STAMP"
log "corpus lock wheelhouse ready: $count wheels, $(du -sh "$DIR" | cut -f1)"
