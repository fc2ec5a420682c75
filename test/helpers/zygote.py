"""A zygote: import a real Python package (BentoML) once, then run each case in a fork of this process.

    python zygote.py MODULE [MODULE...]

Imports every MODULE (the expensive part: BentoML's CLI takes ≈ 2 CPU-s to import), then answers one request per
stdin line, in order, with one reply per stdout line (test/helpers/zygote.ts speaks this; the README "Development"
rule "Pay each real component once per file"):

    request  {"argv": ["/path/script.py" | "-c", CODE, ...args], "cwd": "...", "env": {...}, "input": "..."}
    reply    {"code": N, "stdout": "...", "stderr": "..."}

Each case runs in a child made by os.fork(), which sees what `python ARGV...` started afresh in CWD with this
process's environment updated by ENV would see: the same sys.argv, sys.path[0] (the script's folder, or '' for -c),
working directory, environment, stdin (INPUT, else empty), stdout/stderr (files, read back into the reply; the
file descriptors themselves, so subprocesses' output is captured too), exit code (SystemExit as Python maps it, an
uncaught exception's traceback and 1) and atexit handlers. Nothing a case does reaches the parent or the next case.

What is read from the environment while the modules are imported cannot be changed per case (a fresh process would
have read the case's value): the parent records every key read during the imports, and refuses a case whose ENV
sets one of them, or a PYTHON* variable (read when the interpreter starts: PYTHONPATH, PYTHONHASHSEED, ...), to
another value (start another zygote with that value in its environment instead).
"""
import atexit
import json
import os
import runpy
import sys
import tempfile
import threading
import traceback

_read_at_import = set()


def _record_env_reads():
    """Record the environment keys read through os.environ (os.getenv reads through it) until the imports are done."""
    cls = type(os.environ)
    saved = {}
    for name in ("__getitem__", "get", "__contains__"):
        orig = getattr(cls, name)
        saved[name] = orig

        def wrapper(self, key, *rest, _orig=orig):
            if isinstance(key, str):
                _read_at_import.add(key)
            return _orig(self, key, *rest)

        setattr(cls, name, wrapper)

    def restore():
        for name, orig in saved.items():
            setattr(cls, name, orig)

    return restore


def _exit_code(e):
    """The exit status Python gives a SystemExit that reaches the top."""
    if e.code is None:
        return 0
    if isinstance(e.code, int):
        return e.code
    print(e.code, file=sys.stderr)
    return 1


def _print_from(e, filename):
    """The traceback a fresh interpreter prints: from the script's frame on, without the zygote's and runpy's."""
    tb = e.__traceback__
    while tb is not None and tb.tb_frame.f_code.co_filename != filename:
        tb = tb.tb_next
    traceback.print_exception(type(e), e, tb if tb is not None else e.__traceback__)


def _child(req, out_path, err_path):
    """Run one case in this (forked) process and leave with its exit code; never returns."""
    code = 1
    try:
        fd = os.open(os.devnull, os.O_RDONLY)
        if req.get("input"):
            r, w = os.pipe()
            data = req["input"].encode()
            if len(data) > 60000:  # a pipe holds 64 KiB: larger inputs through a file
                tmp = tempfile.TemporaryFile()
                tmp.write(data)
                tmp.seek(0)
                os.close(r)
                os.close(w)
                fd = os.dup(tmp.fileno())
            else:
                os.write(w, data)
                os.close(w)
                fd = r
        os.dup2(fd, 0)
        os.dup2(os.open(out_path, os.O_WRONLY), 1)
        os.dup2(os.open(err_path, os.O_WRONLY), 2)
        sys.stdin = open(0, "r", closefd=False)
        sys.stdout = open(1, "w", closefd=False)
        sys.stderr = open(2, "w", closefd=False, errors="backslashreplace")
        os.environ.update(req.get("env") or {})
        os.chdir(req.get("cwd") or os.getcwd())
        argv = list(req["argv"])
        try:
            if argv[0] == "-c":
                sys.argv = ["-c", *argv[2:]]
                sys.path[0] = ""
                exec(compile(argv[1], "<string>", "exec"), {"__name__": "__main__", "__builtins__": __builtins__})
            else:
                sys.argv = argv
                sys.path[0] = os.path.dirname(os.path.realpath(argv[0]))
                runpy.run_path(argv[0], run_name="__main__")
            code = 0
        except SystemExit as e:
            code = _exit_code(e)
        except BaseException as e:  # noqa: BLE001 - what an uncaught exception does to a fresh interpreter
            _print_from(e, "<string>" if argv[0] == "-c" else argv[0])
            code = 1
        try:
            atexit._run_exitfuncs()
        except BaseException:  # noqa: BLE001
            traceback.print_exc()
    finally:
        for f in (sys.stdout, sys.stderr):
            try:
                f.flush()
            except BaseException:  # noqa: BLE001
                pass
        os._exit(code & 0xFF)


def main():
    restore = _record_env_reads()
    for module in sys.argv[1:]:
        __import__(module)
    restore()
    if threading.active_count() != 1:
        sys.exit(f"zygote: importing {sys.argv[1:]} started threads; a fork would not copy them")
    parent_env = dict(os.environ)
    reply_out = sys.stdout
    for line in sys.stdin:
        if not line.strip():
            continue
        req = json.loads(line)
        # PYTHON* (PYTHONPATH, PYTHONHASHSEED, ...) are read when the interpreter starts, not through os.environ
        changed = sorted(
            k for k, v in (req.get("env") or {}).items() if (k in _read_at_import or k.startswith("PYTHON")) and parent_env.get(k) != v
        )
        if changed:
            reply = {"code": 1, "stdout": "", "stderr": f"zygote: the case sets {', '.join(changed)}, read while importing {sys.argv[1:]}: give the zygote that environment instead\n"}
        else:
            fd_out, out_path = tempfile.mkstemp(prefix="zygote-out-")
            fd_err, err_path = tempfile.mkstemp(prefix="zygote-err-")
            os.close(fd_out)
            os.close(fd_err)
            reply_out.flush()
            sys.stderr.flush()
            pid = os.fork()
            if pid == 0:
                _child(req, out_path, err_path)
            _, status = os.waitpid(pid, 0)
            code = os.waitstatus_to_exitcode(status)
            with open(out_path, encoding="utf-8", errors="replace") as f:
                stdout = f.read()
            with open(err_path, encoding="utf-8", errors="replace") as f:
                stderr = f.read()
            os.unlink(out_path)
            os.unlink(err_path)
            # killed by a signal: the shell's 128 + N
            reply = {"code": code if code >= 0 else 128 - code, "stdout": stdout, "stderr": stderr}
        reply_out.write(json.dumps(reply) + "\n")
        reply_out.flush()


if __name__ == "__main__":
    main()
