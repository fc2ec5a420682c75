/**
 * test/helpers/zygote.ts: a case run in a fork of the zygote gives what the same `python ARGV...` started afresh gives
 * (argv, sys.path[0], cwd, environment, stdin, stdout/stderr of the process and its subprocesses, exit code, atexit),
 * nothing a case does reaches the next, and a case may not change what the zygote read while importing.
 */
import {mkdir, readFile, writeFile} from 'node:fs/promises'
import {join} from 'node:path'

import {afterAll, beforeAll, describe, expect, it} from 'vitest'

import {bentomlVenv, removeDir, run, tempDir} from '../helpers/env.js'
import {startZygote, type Zygote} from '../helpers/zygote.js'

const PROBE = `
import atexit, json, os, subprocess, sys
import zyg_preloaded
atexit.register(lambda: print("atexit ran"))
subprocess.run([sys.executable, "-c", "import sys; print('child out'); print('child err', file=sys.stderr)"], check=True)
print(json.dumps({
    "argv": sys.argv, "path0": sys.path[0], "cwd": os.getcwd(), "case": os.environ.get("ZYG_CASE"),
    "stdin": sys.stdin.read(), "global": getattr(zyg_preloaded, "touched", None), "leak": os.environ.get("ZYG_LEAK"),
}))
zyg_preloaded.touched = True
os.environ["ZYG_LEAK"] = "1"
print("to stderr", file=sys.stderr)
mode = sys.argv[1] if len(sys.argv) > 1 else ""
if mode == "code": sys.exit(3)
if mode == "message": sys.exit("a message")
if mode == "raise": raise ValueError("boom")
`

describe('zygote: one Python per file, each case as a fresh process', () => {
  let root: string
  let lib: string
  let py: Zygote
  const python = bentomlVenv('1.4.40').python
  beforeAll(async () => {
    root = await tempDir('bento-zygote-')
    lib = join(root, 'lib')
    await mkdir(join(root, 'scripts'), {recursive: true})
    await mkdir(lib, {recursive: true})
    // read at import: the zygote's value is every case's
    await writeFile(join(lib, 'zyg_preloaded.py'), 'import os\nAT_IMPORT = os.environ.get("ZYG_AT_IMPORT")\n')
    await writeFile(join(root, 'scripts/probe.py'), PROBE)
    py = startZygote(python, ['zyg_preloaded'], {PYTHONPATH: lib, ZYG_AT_IMPORT: 'zygote'})
  })
  afterAll(async () => {
    await py.close()
    await removeDir(root)
  })

  for (const mode of ['', 'code', 'message', 'raise']) {
    it(`equals a fresh process: ${mode || 'exit 0'}`, async () => {
      const argv = [join(root, 'scripts/probe.py'), ...(mode ? [mode] : [])]
      const opts = {cwd: root, env: {ZYG_CASE: mode || 'plain'}, input: 'from stdin'}
      const fresh = await run(python, argv, {...opts, env: {...opts.env, PYTHONPATH: lib, ZYG_AT_IMPORT: 'zygote'}})
      const forked = await py.run(argv, opts)
      expect(forked).toEqual(fresh)
      expect(forked.code).toBe({'': 0, code: 3, message: 1, raise: 1}[mode])
      expect(JSON.parse(forked.stdout.split('\n').find((l) => l.startsWith('{')) ?? '')).toMatchObject({
        argv,
        path0: join(root, 'scripts'),
        cwd: root,
        case: mode || 'plain',
        stdin: 'from stdin',
        global: null, // the previous case's module global and environment did not leak
        leak: null,
      })
      expect(forked.stdout).toContain('child out')
      expect(forked.stdout).toContain('atexit ran')
      expect(forked.stderr).toContain('child err')
    })
  }

  it('runs -c CODE with its arguments', async () => {
    const r = await py.run(['-c', 'import sys, os; print(sys.argv, repr(sys.path[0]), os.getcwd())', 'a'], {cwd: root})
    expect(r).toEqual({code: 0, stdout: `['-c', 'a'] '' ${root}\n`, stderr: ''})
  })

  it('ends a case that outlives its time, with the zygote and what the case started', async () => {
    const own = startZygote(python, ['json'])
    const pidFile = join(root, 'sleeper.pid')
    const code = `import subprocess, time; p = subprocess.Popen(["sleep", "60"]); open(${JSON.stringify(pidFile)}, "w").write(str(p.pid)); time.sleep(60)`
    await expect(own.run(['-c', code], {timeoutMs: 1500})).rejects.toThrow(/timed out after 1500 ms/)
    await own.close()
    const sleeper = Number(await readFile(pidFile, 'utf8'))
    await new Promise((r) => setTimeout(r, 200))
    // gone, or a zombie waiting for a reaper (this container's init may not reap)
    const state = await readFile(`/proc/${sleeper}/stat`, 'utf8').then((t) => t.slice(t.lastIndexOf(')') + 2, t.lastIndexOf(')') + 3), () => 'gone')
    expect(['gone', 'Z', 'X']).toContain(state)
    await expect(own.run(['-c', 'print(1)'])).rejects.toThrow(/exited/)
  })

  it('refuses a case that changes a variable read while importing or a PYTHON* variable', async () => {
    const r = await py.run(['-c', 'print(1)'], {env: {ZYG_AT_IMPORT: 'case'}})
    expect(r.code).toBe(1)
    expect(r.stderr).toContain('ZYG_AT_IMPORT')
    // PYTHONPATH and the other PYTHON* variables are read when the interpreter starts: a fork cannot take them
    const path = await py.run(['-c', 'print(1)'], {env: {PYTHONPATH: root}})
    expect(path.code).toBe(1)
    expect(path.stderr).toContain('PYTHONPATH')
    // the same value is no change
    expect(await py.run(['-c', 'import zyg_preloaded; print(zyg_preloaded.AT_IMPORT)'], {env: {ZYG_AT_IMPORT: 'zygote'}})).toEqual({code: 0, stdout: 'zygote\n', stderr: ''})
  })
})
