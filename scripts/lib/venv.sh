# shellcheck shell=bash
# provision_venv DIR REQUIREMENT...: create a venv at DIR with the host python 3.11 and
# pip-install the requirements; a stamp inside the venv (keyed on the python and the
# requirement list) makes a rerun instant. Uses pip's own config (/etc/pip.conf) untouched.
# Needs common.sh sourced first.

host_python() {
  local py="${BENTO_PYTHON:-python3}" ver
  ver=$("$py" -c 'import sys; print("%d.%d" % sys.version_info[:2])' 2>/dev/null) ||
    die "cannot run $py; set BENTO_PYTHON to a Python 3.11 interpreter"
  [[ "$ver" == 3.11 ]] || die "$py is Python $ver; need 3.11 (set BENTO_PYTHON)"
  "$py" -c 'import sys; print(sys.executable)'
}

provision_venv() {
  local dir="$1" py key stamp
  shift
  py=$(host_python)
  key="$("$py" -c 'import sys; print(sys.version.split()[0])') $py | $*"
  stamp="$dir/.bento-provision-stamp"
  if [[ -x "$dir/bin/python" ]] && stamp_file_ok "$stamp" "$key"; then
    log "venv up to date: $dir ($*)"
    return 0
  fi
  if [[ ! -x "$dir/bin/python" ]]; then
    log "creating venv $dir with $py"
    rm -rf "$dir"
    mkdir -p "$(dirname "$dir")"
    "$py" -m venv "$dir"
  fi
  log "pip install into $dir: $*"
  local logf="$dir/pip-install.log" rc=0
  "$dir/bin/python" -m pip install --disable-pip-version-check --upgrade pip >"$logf" 2>&1 || rc=$?
  ((rc == 0)) && { "$dir/bin/python" -m pip install --disable-pip-version-check "$@" >>"$logf" 2>&1 || rc=$?; }
  if ((rc != 0)); then
    tail -n 25 "$logf" >&2
    die "pip install failed in $dir (full log $logf)"
  fi
  printf '%s' "$key" >"$stamp"
  log "installed: $*"
}

# check_bentoml_version DIR VERSION: `bentoml --version` from the venv must print VERSION.
check_bentoml_version() {
  local out
  if venv_verified "$1" "bentoml $2"; then
    log "bentoml $2 already verified in $1 (since its last install)"
    return 0
  fi
  out=$("$1/bin/bentoml" --version 2>&1) || die "$1/bin/bentoml --version failed: $out"
  [[ "$out" == *"$2"* ]] || die "expected bentoml $2, got: $out"
  log "bentoml --version: $out"
  venv_mark_verified "$1" "bentoml $2"
}

# venv_verified DIR WHAT / venv_mark_verified DIR WHAT: a check (WHAT: "bentoml 1.4.15", "tensorflow") that passed
# since the venv's last install is not run again (a warm CI run saves ≈ 10 s of CPU: four `bentoml --version` and a
# TensorFlow import). A new install (another stamp) makes every check run again.
venv_verified() {
  local f="$1/.bento-verified"
  [[ -f "$f" && -f "$1/.bento-provision-stamp" ]] && grep -qxF "$(cat "$1/.bento-provision-stamp") | $2" "$f"
}
venv_mark_verified() {
  printf '%s | %s\n' "$(cat "$1/.bento-provision-stamp")" "$2" >>"$1/.bento-verified"
}
