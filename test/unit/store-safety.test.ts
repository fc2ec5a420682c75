/**
 * import, export, delete, get, list and prune through the compiled CLI, where the store or the input is hostile
 * or the user presses Ctrl-C: typed errors (exit code from the README table, no stack, one JSON error object),
 * nothing left behind in the store, its tmp/ or the export destination.
 */
import {spawn} from 'node:child_process'
import {randomBytes} from 'node:crypto'
import {existsSync} from 'node:fs'
import {mkdir, readdir, readFile, readlink, rm, symlink, writeFile} from 'node:fs/promises'
import {join} from 'node:path'

import {afterAll, beforeAll, describe, expect, it} from 'vitest'

import {writeTree} from '../helpers/files.js'
import {bentoTree, modelTree} from '../helpers/store-fixtures.js'
import {runBentoInProcess} from '../helpers/cli-in-process.js'
import {BIN, type RunResult, tempDir} from '../helpers/env.js'

const T1 = '2025-01-01T00:00:00+00:00'
const T2 = '2025-02-01T00:00:00+00:00'
const MODEL = {tag: 'flower:v1', creationTime: T1}

const dirs: string[] = []
afterAll(async () => {
  for (const d of dirs) await rm(d, {recursive: true, force: true})
})
async function scratch(): Promise<string> {
  const d = await tempDir('bento-cli-store-')
  dirs.push(d)
  return d
}

/** A home with a model and two Bentos of one name using it (as BentoML stores them). */
async function seededHome(modelBytes = 0): Promise<string> {
  const home = join(await scratch(), 'home')
  await writeTree(join(home, 'models', 'flower'), {v1: modelTree('flower', 'v1', T1), latest: 'v1'})
  if (modelBytes > 0) await writeFile(join(home, 'models', 'flower', 'v1', 'weights.bin'), randomBytes(modelBytes))
  await writeTree(join(home, 'bentos', 'iris'), {v1: bentoTree('iris', 'v1', T1, [MODEL]), v2: bentoTree('iris', 'v2', T2, [MODEL]), latest: 'v2'})
  for (const d of ['tmp', 'envs']) await mkdir(join(home, d), {recursive: true})
  return home
}

async function bento(args: string[], home: string): Promise<RunResult> {
  return runBentoInProcess([...args, '--json'], {env: {BENTOML_HOME: home}})
}

function expectError(r: RunResult, code: string, exitCode: number, message?: RegExp): {message: string; hint?: string} {
  const context = `exit ${r.code}\nstdout:\n${r.stdout}\nstderr:\n${r.stderr}`
  expect(r.code, context).toBe(exitCode)
  expect(r.stderr, context).not.toMatch(/\n\s+at /)
  expect(r.stderr, context).toContain(`Error [${code}]: `)
  const json = JSON.parse(r.stdout) as {error: {code: string; exitCode: number; message: string; hint?: string}}
  expect(json.error, context).toMatchObject({code, exitCode})
  if (message) expect(json.error.message, context).toMatch(message)
  return json.error
}

/**
 * Preloaded into the CLI process: prints a marker on stderr when a SIGTERM handler is added (bin/run.js does it before
 * it loads oclif), so a test can signal the process in that very window.
 */
const HANDLER_PROBE = `data:text/javascript,${encodeURIComponent(
  "const on = process.on.bind(process); process.on = (e, f) => { const r = on(e, f); if (e === 'SIGTERM') process.stderr.write('<handlers installed>\\n'); return r }",
)}`

/**
 * Preloaded into the CLI process: a module hook that holds back the loading of the signal handling (as a loaded
 * machine does: the reliability repro signalled 0.6 s in and the process died without a word) and says so on stderr:
 * dist/code-cache.js, which bin/run.js imports to load the bundle that holds it (dist/oclif.cjs, dist/direct.cjs),
 * or dist/interrupt.js itself where there is no bundle.
 */
const SLOW_INTERRUPT_LOAD = `data:text/javascript,${encodeURIComponent(
  `import {register} from 'node:module'; register('data:text/javascript,' + encodeURIComponent(${JSON.stringify(
    "export async function load(url, context, next) { if (url.endsWith('/dist/interrupt.js') || url.endsWith('/dist/code-cache.js')) { process.stderr.write('<loading interrupt.js>\\n'); await new Promise((r) => setTimeout(r, 1500)) } return next(url, context) }",
  )}))`,
)}`

const loadingInterrupts = async (_pid: number, stderr: () => string): Promise<boolean> => stderr().includes('<loading interrupt.js>')

const handlersInstalled = async (_pid: number, stderr: () => string): Promise<boolean> => stderr().includes('<handlers installed>')

/** Run the CLI, send `signals` (one every `gapMs`) once `when` says so; resolve with the outcome. */
async function interrupted(
  args: string[],
  home: string,
  when: (pid: number, stderr: () => string) => Promise<boolean>,
  signals: NodeJS.Signals[] = ['SIGINT'],
  gapMs = 0,
  preload = HANDLER_PROBE,
): Promise<RunResult & {sent: boolean}> {
  const child = spawn(process.execPath, ['--import', preload, BIN, ...args, '--json'], {
    env: {...process.env, BENTOML_HOME: home},
    stdio: ['ignore', 'pipe', 'pipe'],
  })
  let stdout = ''
  let stderr = ''
  child.stdout.on('data', (d) => (stdout += d))
  child.stderr.on('data', (d) => (stderr += d))
  // Killed by the signal itself (no handler): 128 + its number, as a shell reports it, and visible as such.
  const exited = new Promise<number>((resolve) => child.on('exit', (code, signal) => resolve(code ?? (signal === 'SIGTERM' ? 143 : signal === 'SIGINT' ? 1130 : -1))))
  let sent = false
  const deadline = Date.now() + 30_000
  while (Date.now() < deadline && child.exitCode === null) {
    if (await when(child.pid ?? 0, () => stderr)) {
      for (const s of signals) {
        child.kill(s)
        if (gapMs > 0) await new Promise((r) => setTimeout(r, gapMs))
      }
      sent = true
      break
    }
    await new Promise((r) => setTimeout(r, 1))
  }
  return {code: await exited, stdout, stderr, sent}
}

/** True once the process has a file open whose path matches. */
function hasOpen(pattern: RegExp): (pid: number) => Promise<boolean> {
  return async (pid) => {
    const fds = await readdir(`/proc/${pid}/fd`).catch(() => [] as string[])
    for (const fd of fds) {
      const target = await readlink(`/proc/${pid}/fd/${fd}`).catch(() => '')
      if (pattern.test(target)) return true
    }
    return false
  }
}

describe('import: hostile input (D13)', () => {
  let home: string
  beforeAll(async () => {
    home = join(await scratch(), 'home')
  })

  it('a directory: E_ARCHIVE_INVALID, exit 6', async () => {
    const e = expectError(await bento(['import', await scratch()], home), 'E_ARCHIVE_INVALID', 6, /is a directory, not an archive file/)
    expect(e.hint).toMatch(/export it first/)
  })

  it('/dev/zero: refused at once, E_ARCHIVE_INVALID', async () => {
    const started = Date.now()
    expectError(await bento(['import', '/dev/zero'], home), 'E_ARCHIVE_INVALID', 6, /is a device/)
    expect(Date.now() - started).toBeLessThan(10_000)
  })

  it('bad limit flags: E_USAGE, exit 2', async () => {
    expectError(await bento(['import', '/dev/null', '--max-size', 'lots'], home), 'E_USAGE', 2, /--max-size "lots"/)
  })
})

describe('store problems are typed errors (D9)', () => {
  it('latest is a directory: get → E_STORE, exit 5; an exact version still works', async () => {
    const home = await seededHome()
    await rm(join(home, 'bentos', 'iris', 'latest'))
    await mkdir(join(home, 'bentos', 'iris', 'latest'))
    const e = expectError(await bento(['get', 'iris'], home), 'E_STORE', 5, /latest is a directory/)
    expect(e.hint).toMatch(/rm -r/)
    expect((await bento(['get', 'iris:v1'], home)).code).toBe(0)
  })

  it('latest is a symlink loop: delete → E_STORE, exit 5, nothing deleted', async () => {
    const home = await seededHome()
    await rm(join(home, 'bentos', 'iris', 'latest'))
    await symlink('latest', join(home, 'bentos', 'iris', 'latest'))
    expectError(await bento(['delete', 'iris'], home), 'E_STORE', 5, /symbolic link loop/)
    expect((await readdir(join(home, 'bentos', 'iris'))).sort()).toEqual(['latest', 'v1', 'v2'])
  })
})

describe('export destination (D16)', () => {
  it('a place it cannot write: E_ARCHIVE, exit 6, naming it', async () => {
    const home = await seededHome()
    expectError(await bento(['export', 'iris', '/sys/iris.bento'], home), 'E_ARCHIVE', 6, /\/sys\/iris\.bento/)
  })
})

describe('Ctrl-C in every command (D6, D7, D20)', () => {
  it('export: E_INTERRUPTED, exit 130, no file and no temp file in the destination', async () => {
    const home = await seededHome(48 * 2 ** 20) // incompressible: xz takes seconds
    const out = await scratch()
    const r = await interrupted(['export', 'iris:v2', join(out, 'iris.bento')], home, hasOpen(/weights\.bin$/))
    expect(r.sent, r.stderr).toBe(true)
    expectError(r, 'E_INTERRUPTED', 130)
    expect(await readdir(out)).toEqual([])
  })

  it('import: E_INTERRUPTED, exit 130, nothing in the store, nothing in tmp/', async () => {
    const src = await seededHome(96 * 2 ** 20)
    const archive = join(await scratch(), 'iris.tar')
    expect((await bento(['export', 'iris:v2', archive], src)).code).toBe(0)
    const home = join(await scratch(), 'home')
    const r = await interrupted(['import', archive], home, hasOpen(/weights\.bin$/))
    expect(r.sent, r.stderr).toBe(true)
    expectError(r, 'E_INTERRUPTED', 130)
    expect(await readdir(join(home, 'bentos'))).toEqual([])
    expect(await readdir(join(home, 'models'))).toEqual([])
    expect(await readdir(join(home, 'tmp'))).toEqual([])
  })

  it('a second Ctrl-C right after the first: exit 130, nothing left (D7)', async () => {
    const src = await seededHome(96 * 2 ** 20)
    const archive = join(await scratch(), 'iris.tar')
    expect((await bento(['export', 'iris:v2', archive], src)).code).toBe(0)
    const home = join(await scratch(), 'home')
    const r = await interrupted(['import', archive], home, hasOpen(/weights\.bin$/), ['SIGINT', 'SIGINT'], 1)
    expect(r.sent).toBe(true)
    expect(r.code, r.stderr).toBe(130)
    expect(r.stderr).toContain('E_INTERRUPTED')
    expect(await readdir(join(home, 'bentos'))).toEqual([])
    // Whatever the second signal cut short is gone, or carries a dead owner and goes with the next command:
    await bento(['list'], home)
    expect(await readdir(join(home, 'tmp'))).toEqual([])
    expect(await readdir(join(home, 'models'))).toEqual([])
  })

  it('a signal while oclif loads (bin/run.js has its handlers): exit 130, E_INTERRUPTED, before the command started', async () => {
    const home = await seededHome()
    const r = await interrupted(['list'], home, handlersInstalled, ['SIGINT'])
    expect(r.sent).toBe(true)
    expect(r.code, r.stderr).toBe(130)
    expect(r.stderr).toMatch(/E_INTERRUPTED\]: Interrupted \(SIGINT\) before the command started/)
    expect(JSON.parse(r.stdout)).toMatchObject({error: {code: 'E_INTERRUPTED', exitCode: 130}})
  })

  it('a signal while bin/run.js is still loading the signal handling (a loaded machine): exit 130, E_INTERRUPTED (D6, D20)', async () => {
    const home = await seededHome()
    const r = await interrupted(['list'], home, loadingInterrupts, ['SIGINT'], 0, SLOW_INTERRUPT_LOAD)
    expect(r.sent, r.stderr).toBe(true)
    expect(r.code, r.stderr).toBe(130)
    expect(r.stderr).toMatch(/E_INTERRUPTED\]: Interrupted \(SIGINT\) before the command started/)
    expect(JSON.parse(r.stdout)).toMatchObject({error: {code: 'E_INTERRUPTED', exitCode: 130}})
  })

  it('prune: the first Ctrl-C stops it between removals (E_INTERRUPTED, exit 130); what is left is whole', async () => {
    const home = await seededHome()
    const child = spawn(process.execPath, ['-e', '0'])
    await new Promise((r) => child.on('exit', r))
    const {currentOwner, ownerToken} = await import('../../src/store/owner.js')
    const token = ownerToken({...currentOwner(), pid: child.pid ?? 0, start: '3'})
    // Leftovers of a killed build, each with enough files that removing them all takes a while.
    const files = Object.fromEntries(Array.from({length: 300}, (_, i) => [`f${i}`, 'x']))
    const leftovers = Array.from({length: 40}, (_, i) => join(home, 'tmp', `bento-${token}-build-iris-${String(i).padStart(6, '0')}`))
    for (const dir of leftovers) await writeTree(dir, files)
    const r = await interrupted(['prune', '--only', 'store-scratch'], home, async (_pid, stderr) => /removed /.test(stderr()))
    expect(r.sent, r.stderr).toBe(true)
    expectError(r, 'E_INTERRUPTED', 130, /Interrupted; \d+ item\(s\) were removed/)
    const left = leftovers.filter((dir) => existsSync(dir))
    expect(left.length, r.stderr).toBeGreaterThan(0)
    for (const dir of left) expect((await readdir(dir)).length).toBe(300)
  })

  it('SIGTERM at the start of a delete: nothing deleted (exit 130), never half (D20)', async () => {
    const home = await seededHome()
    const r = await interrupted(['delete', 'iris:v2'], home, handlersInstalled, ['SIGTERM'])
    expect(r.sent).toBe(true)
    expect(r.code, r.stderr).toBe(130)
    expect(r.stderr).toContain('E_INTERRUPTED')
    expect((await readdir(join(home, 'bentos', 'iris'))).sort()).toEqual(['latest', 'v1', 'v2'])
    expect(await readdir(join(home, 'tmp'))).toEqual([])
  })
})

describe('prune', () => {
  // --only: the store pruners; the image pruners would look at the shared Docker daemon.
  const only = ['--only', 'store-locks', '--only', 'store-name-leftovers', '--only', 'store-scratch']

  it('--dry-run --json reports a killed build’s directory; prune removes it', async () => {
    const home = await seededHome()
    const child = spawn(process.execPath, ['-e', '0'])
    await new Promise((r) => child.on('exit', r))
    const {currentOwner, ownerToken} = await import('../../src/store/owner.js')
    const leftover = join(home, 'tmp', `bento-${ownerToken({...currentOwner(), pid: child.pid ?? 0, start: '3'})}-build-iris-abcdef`)
    await writeTree(leftover, bentoTree('iris', 'v9', T2))
    const dry = await bento(['prune', '--dry-run', ...only], home)
    expect(dry.code, dry.stderr).toBe(0)
    const report = JSON.parse(dry.stdout) as {found: Array<{pruner: string; id: string}>; removed: unknown[]}
    expect(report.found.map((i) => [i.pruner, i.id])).toEqual([['store-scratch', leftover]])
    expect(report.removed).toEqual([])
    expect(existsSync(leftover)).toBe(true)
    const done = await runBentoInProcess(['prune', ...only], {env: {BENTOML_HOME: home}})
    expect(done.code, done.stderr).toBe(0)
    expect(done.stdout).toMatch(/Removed 1 item\(s\)/)
    expect(await readdir(join(home, 'tmp'))).toEqual([])
    expect(await readFile(join(home, 'bentos', 'iris', 'latest'), 'utf8')).toBe('v2')
  })
})
