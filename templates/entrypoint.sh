#!/usr/bin/env bash
# Container entrypoint for a Bento image built by `bento containerize`.
# Behaves like BentoML 1.4's entrypoint so `docker run IMAGE [ARGS]` means the same thing:
#   (no args) or -flags             -> bentoml serve [-flags] "$BENTO_PATH"
#   serve | serve-http | serve-grpc -> bentoml <that command> [args] "$BENTO_PATH"
#   start-http-server | start-grpc-server | start-runner-server -> the same, for yatai-style components
#   python -m bentoml._internal.server.cli.{runner,api_server} ... (yatai < 1.0) -> bentoml start-*-server ...
#   anything else (bash, python, ...) -> run as given
# $PORT, when set, becomes $BENTOML_PORT.
set -Eeuo pipefail

BENTO_PATH="${BENTO_PATH:-/home/bentoml/bento}"

activate_venv() {
	local venv
	for venv in /app/.venv ./.venv; do
		if [[ -f "${venv}/bin/activate" ]]; then
			# shellcheck disable=SC1091
			source "${venv}/bin/activate"
			return 0
		fi
	done
}

main() {
	activate_venv

	if [[ $# -ge 3 && "$1" == python && "$2" == -m ]]; then
		case "$3" in
		bentoml._internal.server.cli.runner) set -- bentoml start-runner-server "${@:4}" ;;
		bentoml._internal.server.cli.api_server) set -- bentoml start-http-server "${@:4}" ;;
		esac
	elif [[ $# -eq 0 || "$1" == -* ]]; then
		case "${BENTOML_SERVE_COMPONENT-}" in
		http_server) set -- start-http-server "$@" ;;
		grpc_server) set -- start-grpc-server "$@" ;;
		runner) set -- start-runner-server "$@" ;;
		*) set -- serve "$@" ;;
		esac
		if [[ -n "${BENTOML_SERVE_COMPONENT+set}" ]]; then
			echo "\$BENTOML_SERVE_COMPONENT=${BENTOML_SERVE_COMPONENT} is set: running 'bentoml $1'" >&2
		fi
	fi

	if [[ -n "${PORT+set}" ]]; then
		echo "\$PORT is set: using it as \$BENTOML_PORT (${PORT})" >&2
		export BENTOML_PORT="${PORT}"
	fi

	case "$1" in
	serve | serve-http | serve-grpc | start-http-server | start-grpc-server | start-runner-server)
		exec bentoml "$@" "${BENTO_PATH}"
		;;
	*)
		exec "$@"
		;;
	esac
}

main "$@"
