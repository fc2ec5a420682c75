/**
 * One Python process per test file for the real-BentoML oracles (README "Development": pay each real component once
 * per file). test/helpers/zygote.py imports BentoML once, then runs each case in an os.fork() of itself that sees
 * what a fresh `python ARGV...` would (argv, sys.path[0], cwd, environment, stdin, stdout/stderr, exit code): a case
 * costs the fork and BentoML's own work, not ≈ 0.6 CPU-s of imports.
 *
 *   const py = startZygote(bentomlVenv('1.4.40').python, ['bentoml_cli.cli'], {BENTOML_DO_NOT_TRACK: 'true'})
 *   const r = await py.run([script, ...args], {cwd, env: {BENTOML_HOME: home}})   // RunResult, as run() gives
 *   await py.close()                                                               // afterAll
 *
 * Cases run one at a time, in the order asked. An environment variable read while the modules are imported, or a
 * PYTHON* one (PYTHONPATH: read when the interpreter starts), cannot be changed per case: such a case fails with a
 * message naming it (pass it in `env` of startZygote instead).
 */
import {spawn} from 'node:child_process'
import {createInterface} from 'node:readline'
import {join} from 'node:path'

import {type BentomlRelease, bentomlCliEnv, bentomlVenv, REPO, runBentoml, type RunResult} from './env.js'

export interface Zygote {
  /** `python ...argv` (a script path and its arguments, or `-c CODE ...`) in a fork of the zygote. */
  run(argv: string[], opts?: {cwd?: string; env?: Record<string, string | undefined>; input?: string; timeoutMs?: number}): Promise<RunResult>
  /** Ends the zygote (its stdin closes, it exits); resolves when it has. */
  close(): Promise<void>
}

/** Starts `python test/helpers/zygote.py ...modules` with this process's environment updated by `env`. */
export function startZygote(python: string, modules: string[], env: Record<string, string> = {}): Zygote {
  // Its own process group: a case that outlives its time is ended with the zygote and everything it started.
  const child = spawn(python, [join(REPO, 'test/helpers/zygote.py'), ...modules], {
    env: {...process.env, ...env},
    stdio: ['pipe', 'pipe', 'pipe'],
    detached: true,
  })
  const killGroup = (): void => {
    try {
      if (child.pid !== undefined) process.kill(-child.pid, 'SIGKILL')
    } catch {
      // already gone
    }
  }
  let stderr = ''
  child.stderr.on('data', (d: Buffer) => {
    stderr += d.toString()
  })
  const waiting: Array<{resolve: (r: RunResult) => void; reject: (e: Error) => void}> = []
  let exited: Error | undefined
  const exit = new Promise<void>((resolve) => {
    child.on('close', (code, signal) => {
      exited = new Error(`the zygote (${python} ${modules.join(' ')}) exited (${signal ?? code}): ${stderr}`)
      for (const w of waiting.splice(0)) w.reject(exited)
      resolve()
    })
  })
  child.on('error', () => {}) // a spawn failure also closes; the close handler reports it
  child.stdin.on('error', () => {})
  createInterface({input: child.stdout}).on('line', (line) => {
    waiting.shift()?.resolve(JSON.parse(line) as RunResult)
  })
  return {
    run(argv, opts = {}) {
      if (exited) return Promise.reject(exited)
      const env = Object.fromEntries(Object.entries(opts.env ?? {}).filter((e): e is [string, string] => e[1] !== undefined))
      const timeoutMs = opts.timeoutMs ?? 600_000
      return new Promise<RunResult>((resolve, reject) => {
        // run()'s limit, counted from when the case is sent (cases run one at a time, so it includes the wait)
        const timer = setTimeout(() => {
          reject(new Error(`zygote case timed out after ${timeoutMs} ms: ${argv.join(' ').slice(0, 200)}`))
          killGroup()
        }, timeoutMs)
        waiting.push({
          resolve: (r) => {
            clearTimeout(timer)
            resolve(r)
          },
          reject: (e) => {
            clearTimeout(timer)
            reject(e)
          },
        })
        child.stdin.write(`${JSON.stringify({argv, cwd: opts.cwd, env, input: opts.input})}\n`)
      })
    },
    async close() {
      child.stdin.end()
      // a case still running (a test that gave up on it) is not waited for
      const late = setTimeout(killGroup, 10_000)
      await exit
      clearTimeout(late)
    },
  }
}

export interface BentomlZygote {
  /** What `runBentoml(args, home, opts)` gives, from a fork of the venv's `bentoml` console script. */
  bentoml(args: string[], home: string, opts?: {cwd?: string; env?: Record<string, string>}): Promise<RunResult>
  close(): Promise<void>
}

/**
 * A zygote of the real `bentoml` CLI of a venv (BentoML's CLI imported once), with runBentoml's environment and `env`
 * (what every call shares, e.g. PYTHONPATH, which a call cannot change).
 */
export function startBentomlZygote(version?: BentomlRelease, env: Record<string, string> = {}): BentomlZygote {
  const venv = bentomlVenv(version)
  const zygote = startZygote(venv.python, ['bentoml_cli.cli'], {COLUMNS: '10000', ...env, ...bentomlCliEnv(venv)})
  return {
    bentoml: (args, home, opts = {}) => zygote.run([venv.bentoml, ...args], {cwd: opts.cwd, env: {...opts.env, BENTOML_HOME: home}}),
    close: () => zygote.close(),
  }
}

/**
 * `runBentoml`'s signature, through one zygote per release (started at its first call; `close()` in afterAll): for a
 * file that calls the real CLI many times. A call that sets a PYTHON* variable (read when the interpreter starts)
 * runs as its own process, as runBentoml does.
 */
export function bentomlCaller(): {
  bentoml: (args: string[], home: string, opts?: {cwd?: string; env?: NodeJS.ProcessEnv; version?: BentomlRelease}) => Promise<RunResult>
  close: () => Promise<void>
} {
  const zygotes = new Map<BentomlRelease | undefined, BentomlZygote>()
  return {
    bentoml(args, home, opts = {}) {
      const env = Object.fromEntries(Object.entries(opts.env ?? {}).filter((e): e is [string, string] => e[1] !== undefined))
      if (Object.keys(env).some((k) => k.startsWith('PYTHON'))) return runBentoml(args, home, opts)
      let z = zygotes.get(opts.version)
      if (!z) {
        z = startBentomlZygote(opts.version)
        zygotes.set(opts.version, z)
      }
      return z.bentoml(args, home, {...(opts.cwd ? {cwd: opts.cwd} : {}), env})
    },
    async close() {
      for (const z of zygotes.values()) await z.close()
    },
  }
}
