/**
 * Nothing left behind after a kill (issue 11, scope 3): build, import, delete and export are killed at seeded random
 * points (SIGKILL mostly, some SIGINT and SIGTERM), then the next command runs (the same one again) and the store
 * and the export destination must be clean: every item whole or absent, no scratch or temp file, no lock, no
 * `latest.tmp-*` or `.partial-*`, `latest` naming the newest version, nothing a listing reports as broken.
 *
 * Bounded: KILL_RUNS kills (default 16; each ~2 s), seeded with KILL_SEED (a failure prints the seed and the round).
 */
import {spawn} from 'node:child_process'
import {randomBytes} from 'node:crypto'
import {cp, mkdir, readdir, readFile, rm, writeFile} from 'node:fs/promises'
import {join} from 'node:path'

import {afterAll, beforeAll, describe, expect, it} from 'vitest'

import {listBentos} from '../../src/services/list.js'
import {listModels} from '../../src/services/models.js'
import {Store} from '../../src/store/store.js'
import {makeProject, writeModel} from '../helpers/build-inputs.js'
import {BIN, type RunResult, runBento, tempDir} from '../helpers/env.js'

const SEED = Number(process.env.KILL_SEED ?? 1111)
const RUNS = Number(process.env.KILL_RUNS ?? 16)

/** mulberry32: a small seeded PRNG (the kill points must be the same from run to run). */
function prng(seed: number): () => number {
  let a = seed >>> 0
  return () => {
    a = (a + 0x6d2b79f5) >>> 0
    let t = a
    t = Math.imul(t ^ (t >>> 15), t | 1)
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61)
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296
  }
}

type Op = 'build' | 'import' | 'delete' | 'export'
const OPS: Op[] = ['build', 'import', 'delete', 'export']

let root: string
afterAll(async () => {
  if (root) await rm(root, {recursive: true, force: true})
})

/** Run the CLI and kill it `delayMs` after it started (if it is still running then). */
async function killedAfter(args: string[], env: NodeJS.ProcessEnv, delayMs: number, signal: NodeJS.Signals): Promise<{killed: boolean; ms: number}> {
  const started = Date.now()
  const child = spawn(process.execPath, [BIN, ...args], {env: {...process.env, ...env}, stdio: 'ignore'})
  const exited = new Promise<void>((resolve) => child.on('exit', () => resolve()))
  const timer = new Promise<boolean>((resolve) =>
    setTimeout(() => {
      if (child.exitCode !== null || child.signalCode !== null) return resolve(false)
      resolve(child.kill(signal))
      if (signal !== 'SIGKILL') setTimeout(() => child.kill('SIGKILL'), 30_000) // an unheard signal still ends it
    }, delayMs),
  )
  const killed = await Promise.race([timer, exited.then(() => false)])
  await exited
  return {killed, ms: Date.now() - started}
}

/** What "clean" means for a store: see the file comment. */
async function expectClean(home: string, context: string): Promise<void> {
  const tmp = await readdir(join(home, 'tmp')).catch(() => [] as string[])
  expect(tmp.filter((n) => n.startsWith('bento-') || n.includes('.lock')), `${context}: tmp/`).toEqual([])
  expect(await readdir(join(home, '.bento-tmp')).catch(() => [] as string[]), `${context}: .bento-tmp/`).toEqual([])
  for (const kind of ['bentos', 'models'] as const) {
    const store = kind === 'bentos' ? Store.bentos(home) : Store.models(home)
    for (const name of await readdir(join(home, kind)).catch(() => [] as string[])) {
      const entries = await readdir(join(home, kind, name))
      const versions = (await store.listValid(name)).map((i) => i.tag.version)
      expect(entries.filter((e) => e !== 'latest' && !versions.includes(e)), `${context}: ${kind}/${name}`).toEqual([])
      expect(versions.length, `${context}: ${kind}/${name} has no version left`).toBeGreaterThan(0)
      const latest = await readFile(join(home, kind, name, 'latest'), 'utf8').catch(() => null)
      if (latest !== null) {
        const items = await store.listValid(name)
        const newest = Math.max(...items.map((i) => i.creationTime.getTime()))
        const named = items.find((i) => i.tag.version === latest)
        expect(named?.creationTime.getTime(), `${context}: ${kind}/${name}/latest = ${latest}`).toBe(newest)
      }
    }
  }
  expect((await listBentos({home})).problems, `${context}: bento list`).toEqual([])
  expect((await listModels({home})).problems, `${context}: models list`).toEqual([])
}

function ok(r: RunResult, context: string, allowed: string[] = []): void {
  if (r.code === 0) return
  const code = (JSON.parse(r.stdout || '{}') as {error?: {code?: string}}).error?.code ?? ''
  expect(allowed, `${context}: ${r.stdout}${r.stderr}`).toContain(code)
}

describe(`killed at random points (seed ${SEED}, ${RUNS} kills)`, () => {
  let project: string
  let home: string
  let archive: string
  let tag: string
  const duration: Record<Op, number> = {build: 1000, import: 1000, delete: 600, export: 1000}

  beforeAll(async () => {
    root = await tempDir('bento-kill-')
    home = join(root, 'home')
    // A model big enough that hashing, linking, archiving and extracting take a while (random: no compression).
    const modelDir = await writeModel(home)
    await writeFile(join(modelDir, 'weights.bin'), randomBytes(24 * 2 ** 20))
    project = await makeProject({'data.txt': 'round 0\n'}, join(root, 'project'))
    await writeFile(join(project, 'bentofile.yaml'), 'service: "service:svc"\ninclude: ["*.py", "*.txt"]\n')
    const built = await runBento(['build', project, '--json'], {env: {BENTOML_HOME: home}})
    expect(built.code, built.stderr).toBe(0)
    tag = (JSON.parse(built.stdout) as {tag: string}).tag
    archive = join(root, 'iris.tar')
    expect((await runBento(['export', tag, archive], {env: {BENTOML_HOME: home}})).code).toBe(0)
    // How long each command takes here, so the kill points fall inside it.
    const time = async (args: string[], env: NodeJS.ProcessEnv): Promise<number> => {
      const t = Date.now()
      await runBento(args, {env})
      return Date.now() - t
    }
    const fresh = join(root, 'calibrate')
    duration.import = await time(['import', archive], {BENTOML_HOME: fresh})
    duration.export = await time(['export', tag, join(root, 'calibrate.tar')], {BENTOML_HOME: home})
    duration.delete = await time(['delete', tag], {BENTOML_HOME: fresh})
    await writeFile(join(project, 'data.txt'), 'calibration\n')
    duration.build = await time(['build', project], {BENTOML_HOME: home})
  }, 300_000)

  it('leaves the store and the destination clean after the next command', async () => {
    const random = prng(SEED)
    const seen: Record<string, number> = {}
    for (let round = 0; round < RUNS; round++) {
      const op = OPS[Math.floor(random() * OPS.length)] as Op
      const signal: NodeJS.Signals = random() < 0.75 ? 'SIGKILL' : random() < 0.5 ? 'SIGINT' : 'SIGTERM'
      const delay = Math.floor(random() * duration[op] * 1.1)
      const context = `seed ${SEED} round ${round}: ${op} ${signal} at ${delay} ms`
      let target = home
      let args: string[] = []
      let out = ''
      if (op === 'build') {
        await writeFile(join(project, 'data.txt'), `round ${round}\n`) // a new version each time
        args = ['build', project, '--json']
      } else if (op === 'import') {
        target = join(root, `import-${round}`)
        args = ['import', archive, '--json']
      } else if (op === 'delete') {
        target = join(root, `delete-${round}`)
        await cp(home, target, {recursive: true}) // hard to kill a delete of nothing: a store with the Bento
        args = ['delete', tag, '--json']
      } else {
        out = join(root, `out-${round}`)
        await mkdir(out)
        // .tar: the archive is streamed the same way as .bento, without minutes of xz on random bytes
        args = ['export', tag, join(out, 'iris.tar'), '--json']
      }
      const env = {BENTOML_HOME: target}
      const {killed} = await killedAfter(args, env, delay, signal)
      seen[`${op}${killed ? ` ${signal}` : ' (finished first)'}`] = (seen[`${op}${killed ? ` ${signal}` : ' (finished first)'}`] ?? 0) + 1
      // The next command: the same one again. It completes (or says the first one already did).
      const again = await runBento(args, {env})
      ok(again, context, op === 'import' ? ['E_ALREADY_EXISTS'] : op === 'delete' ? ['E_BENTO_NOT_FOUND'] : [])
      await expectClean(target, context)
      if (out !== '') expect(await readdir(out), `${context}: destination`).toEqual(['iris.tar'])
      if (op === 'import' || op === 'delete') await rm(target, {recursive: true, force: true})
    }
    console.log(`kills (seed ${SEED}): ${Object.entries(seen).map(([k, v]) => `${k} ${v}`).join(', ')}`)
  }, 900_000)
})
