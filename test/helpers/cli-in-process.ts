/**
 * The compiled CLI called in this process: the same bundles bin/run.js runs (dist/direct.cjs for `build` and
 * `--version` lines, then dist/oclif.cjs; scripts/bundle.mjs), loaded once per test process, with the command line in
 * `process.argv`, the environment in `process.env`, the working directory, and what the command writes to
 * process.stdout/stderr (and the console, which oclif's `this.log` uses), its `process.exitCode` or `process.exit`
 * taken as a child's would be. A CLI run in a child costs ≈ 0.15 CPU-s on a quiet machine and ≈ 0.3 in CI (Node's
 * start, the bundle's load): the error matrices call it hundreds of times. What only a process shows stays in
 * subprocess tests (`runBento`): signals, stdin, another uid, two commands at once, the start-up itself
 * (test/unit/bin-bundle.test.ts, kill.test.ts, stdin.test.ts, the races in build-errors.test.ts).
 *
 * One run at a time per process (a queue): the process's env, cwd, argv and streams are the command's while it runs,
 * so a file whose tests run concurrently (`describe(..., {concurrent: true})`) must not use it: a child another test
 * starts meanwhile would inherit the command's environment (interop-matrix.test.ts runs its two BentoMLs side by side
 * and keeps `runBento`). In a worker thread (the e2e-docker tier, whose files keep `runBento`: run there, the CLI
 * cost the vitest process more than the children it saved), and with `input`/`cleanEnv`/a timeout, it runs the child
 * instead.
 */
import {Console} from 'node:console'
import {existsSync} from 'node:fs'
import {createRequire} from 'node:module'
import {join} from 'node:path'
import {pathToFileURL} from 'node:url'
import {isMainThread} from 'node:worker_threads'

import {Interrupts} from '../../src/interrupt.js'
import {BIN, REPO, type RunOptions, type RunResult, runBento} from './env.js'

interface DirectBundle {
  runDirect(argv: string[]): Promise<boolean>
}
interface OclifBundle {
  runOclif(dir: string): Promise<void>
}

const requireBundle = createRequire(import.meta.url)
const DIRECT = join(REPO, 'dist/direct.cjs')
const OCLIF = join(REPO, 'dist/oclif.cjs')
/** Both bundles are there (the tests' global setup builds them); without them every run is a child. */
const BUNDLED = existsSync(DIRECT) && existsSync(OCLIF)
/** `Symbol.for` key of the process's Interrupts (src/interrupt.ts `processInterrupts`). */
const INTERRUPTS_KEY = Symbol.for('bento-cli.interrupts')

/** What `process.exit` throws while a command runs here: the code it was asked to exit with. */
class Exited {
  constructor(readonly code: number) {}
}

let queue: Promise<unknown> = Promise.resolve()

export async function runBentoInProcess(args: string[], opts: RunOptions = {}): Promise<RunResult> {
  if (!isMainThread || opts.input !== undefined || opts.cleanEnv || opts.timeoutMs !== undefined || !BUNDLED) {
    return runBento(args, opts)
  }
  const run = queue.then(() => runNow(args, opts))
  queue = run.catch(() => {})
  return run
}

async function runNow(args: string[], opts: RunOptions): Promise<RunResult> {
  // The CLI's process-wide Interrupts, without signal handlers: nothing here sends this process a signal.
  const holder = globalThis as unknown as Record<symbol, unknown>
  holder[INTERRUPTS_KEY] ??= new Interrupts()

  const saved = {
    argv: process.argv,
    env: process.env,
    cwd: process.cwd(),
    exitCode: process.exitCode,
    exit: process.exit,
    stdout: process.stdout.write,
    stderr: process.stderr.write,
    console: globalThis.console,
  }
  let stdout = ''
  let stderr = ''
  const capture =
    (append: (text: string) => void) =>
    (chunk: string | Uint8Array, encodingOrCallback?: BufferEncoding | ((error?: Error | null) => void), callback?: (error?: Error | null) => void): boolean => {
      append(typeof chunk === 'string' ? chunk : Buffer.from(chunk).toString('utf8'))
      const done = typeof encodingOrCallback === 'function' ? encodingOrCallback : callback
      if (done) queueMicrotask(() => done())
      return true
    }
  const env: NodeJS.ProcessEnv = {...process.env}
  for (const [k, v] of Object.entries(opts.env ?? {})) {
    if (v === undefined) delete env[k]
    else env[k] = v
  }
  let code = 0
  try {
    process.argv = [process.execPath, BIN, ...args]
    process.env = env
    if (opts.cwd !== undefined) process.chdir(opts.cwd)
    process.exitCode = undefined
    process.exit = ((c?: number | string | null) => {
      throw new Exited(typeof c === 'number' ? c : Number(c ?? process.exitCode ?? 0))
    }) as typeof process.exit
    process.stdout.write = capture((t) => (stdout += t)) as typeof process.stdout.write
    process.stderr.write = capture((t) => (stderr += t)) as typeof process.stderr.write
    // oclif's `this.log` is console.log: the worker's console is vitest's, which would keep the output.
    globalThis.console = new Console({stdout: process.stdout, stderr: process.stderr})
    try {
      const direct = args[0] === 'build' || args[0] === '--version'
      const handled = direct && (await (requireBundle(DIRECT) as DirectBundle).runDirect(args))
      if (!handled) await (requireBundle(OCLIF) as OclifBundle).runOclif(pathToFileURL(BIN).href)
      code = typeof process.exitCode === 'number' ? process.exitCode : Number(process.exitCode ?? 0)
    } catch (error) {
      if (!(error instanceof Exited)) throw error
      code = error.code
    }
  } finally {
    globalThis.console = saved.console
    process.stdout.write = saved.stdout
    process.stderr.write = saved.stderr
    process.exit = saved.exit
    process.exitCode = saved.exitCode
    process.chdir(saved.cwd)
    process.env = saved.env
    process.argv = saved.argv
  }
  return {code, stdout, stderr}
}
