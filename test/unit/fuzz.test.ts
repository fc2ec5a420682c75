/**
 * Typed errors for every bad input (issue 11, scope 2): a seeded, bounded property-based fuzz (fast-check) of
 * bentofiles, stored model.yaml and bento.yaml, and archives. Every input either works or fails with an error the
 * user can act on: a `UserError` (what the command layer prints without a stack, with its documented exit code),
 * never anything that would become E_BUG — and the store is unchanged by a failure (nothing under bentos/ or
 * models/ added or lost, nothing left in tmp/).
 *
 * The services run in-process (thousands of inputs in seconds); a sample of the failing inputs then goes through the
 * compiled CLI to check the printed contract (exit code, one JSON error object, no stack). Seeds are fixed: a
 * failure prints its seed and path, and `FUZZ_SEED` / `FUZZ_RUNS` replay or widen a run.
 */
import {createHash} from 'node:crypto'
import {mkdir, readdir, readFile, rm, writeFile} from 'node:fs/promises'
import {join} from 'node:path'
import {gzipSync} from 'node:zlib'

import fc from 'fast-check'
import {afterAll, beforeAll, describe, expect, it} from 'vitest'

import {exportBento, importBento} from '../../src/bento/archive/index.js'
import {ERROR_CODES, UserError} from '../../src/errors.js'
import {silentReporter} from '../../src/reporter.js'
import {build} from '../../src/services/build.js'
import {exportBentoService} from '../../src/services/export.js'
import {getBento} from '../../src/services/get.js'
import {listBentos} from '../../src/services/list.js'
import {getModel, listModels} from '../../src/services/models.js'
import {ensureHome} from '../../src/store/home.js'
import {Store} from '../../src/store/store.js'
import {makeProject, MODEL_VERSION, walk, writeModel} from '../helpers/build-inputs.js'
import {runBento, tempDir} from '../helpers/env.js'
import {apply, mutations} from '../helpers/fuzz.js'
import {readTar, type TarEntry, writeTar} from '../helpers/tar.js'

const SEED = Number(process.env.FUZZ_SEED ?? 20251111)
const SCALE = Number(process.env.FUZZ_RUNS ?? 1)
const runs = (n: number): number => Math.max(1, Math.round(n * SCALE))

let root: string
const counts: Record<string, {runs: number; accepted: number; rejected: Record<string, number>}> = {}
/** Failing inputs kept for the CLI sample: [kind, a file to hand to the CLI]. */
const samples: Array<{kind: 'bentofile' | 'archive'; file: string; code: string}> = []

function count(kind: string, outcome: string): void {
  const c = (counts[kind] ??= {runs: 0, accepted: 0, rejected: {}})
  c.runs++
  if (outcome === 'ok') c.accepted++
  else c.rejected[outcome] = (c.rejected[outcome] ?? 0) + 1
}

/** The contract for a failure, as the command layer sees it: a UserError with a registered code. */
function typed(error: unknown, context: string): string {
  if (!(error instanceof UserError)) {
    throw new Error(`${context}: not a typed error (would be E_BUG): ${error instanceof Error ? (error.stack ?? error.message) : String(error)}`)
  }
  expect(ERROR_CODES[error.code], context).toBeDefined()
  expect(error.message.length, context).toBeGreaterThan(0)
  expect(error.code, context).not.toBe('E_BUG')
  return error.code
}

/** bentos/, models/ and tmp/ of a home (paths and file hashes) — "the store is unchanged" compares these. */
async function storeState(home: string): Promise<string> {
  const h = createHash('sha256')
  for (const sub of ['bentos', 'models', 'tmp', '.bento-tmp']) {
    for (const rel of await walk(join(home, sub))) {
      h.update(`${sub}/${rel}\n`)
      const content = await readFile(join(home, sub, rel)).catch(() => null)
      if (content) h.update(content)
    }
  }
  return h.digest('hex')
}

// ───────────────────────── the inputs ─────────────────────────

const BENTOFILE = `service: "service:svc"
name: iris-fuzz
description: "Iris classifier"
labels:
  owner: bentoml-team
  stage: dev
include:
  - "*.py"
exclude:
  - "tests/"
models:
  - tag: "iris_clf:${MODEL_VERSION}"
    alias: iris
envs:
  - name: MODE
    value: fast
args:
  threshold: 0.5
python:
  packages:
    - scikit-learn
    - "numpy>=1.26"
  lock_packages: false
docker:
  distro: debian
  python_version: "3.11"
  system_packages:
    - curl
  env:
    LOG_LEVEL: info
`

describe('fuzz: every bad input is a typed error, and the store is unchanged', () => {
  let home: string
  let project: string
  let bentoTag: string
  let goodArchiveEntries: TarEntry[]

  beforeAll(async () => {
    root = await tempDir('bento-fuzz-')
    home = join(root, 'home')
    await writeModel(home)
    await ensureHome(home)
    project = await makeProject({'bentofile.yaml': BENTOFILE}, join(root, 'project'))
    const r = await build({projectDir: project, home, reporter: silentReporter, env: {}})
    bentoTag = r.tag
    const archive = join(root, 'good.tar')
    const bento = await Store.bentos(home).get(bentoTag)
    await exportBento({bentoDir: bento.path, out: archive})
    goodArchiveEntries = await readTar(await readFile(archive))
  }, 120_000)

  afterAll(async () => {
    const lines = Object.entries(counts).map(
      ([kind, c]) => `  ${kind}: ${c.runs} inputs, ${c.accepted} accepted, rejected: ${Object.entries(c.rejected).map(([k, v]) => `${k} ${v}`).join(', ') || '-'}`,
    )
    // The numbers behind the report (how much was fuzzed and what it showed).
    console.log(`fuzz (seed ${SEED}):\n${lines.join('\n')}`)
    await rm(root, {recursive: true, force: true})
  })

  it('bentofiles (bento build)', async () => {
    let n = 0
    await fc.assert(
      fc.asyncProperty(mutations, async (ms) => {
        const text = apply(BENTOFILE, ms)
        await writeFile(join(project, 'bentofile.yaml'), text)
        const before = await storeState(home)
        const bentosBefore = new Set((await Store.bentos(home).listValid()).map((b) => `${b.tag.name}:${b.tag.version}`))
        try {
          const r = await build({projectDir: project, home, reporter: silentReporter, env: {}})
          count('bentofile', 'ok')
          // Accepted: it is a Bento the store can read; put the store back as it was for the next input.
          expect((await Store.bentos(home).get(r.tag)).tag.name).toBe(r.name)
          expect(r.created).toBe(!bentosBefore.has(r.tag))
          if (r.created) await Store.bentos(home).delete(r.tag)
        } catch (error) {
          const code = typed(error, `bentofile:\n${text}`)
          count('bentofile', code)
          if (samples.filter((s) => s.kind === 'bentofile').length < 4 && n++ % 7 === 0) {
            const file = join(root, `sample-bentofile-${samples.length}.yaml`)
            await writeFile(file, text)
            samples.push({kind: 'bentofile', file, code})
          }
        }
        expect(await storeState(home)).toBe(before)
      }),
      {seed: SEED, numRuns: runs(300), endOnFailure: true},
    )
  }, 300_000)

  it('stored model.yaml (bento models list/get, bento build)', async () => {
    const modelFile = join(home, 'models', 'iris_clf', MODEL_VERSION, 'model.yaml')
    const good = await readFile(modelFile, 'utf8')
    await writeFile(join(project, 'bentofile.yaml'), BENTOFILE)
    try {
      await fc.assert(
        fc.asyncProperty(mutations, async (ms) => {
          const text = apply(good, ms)
          await writeFile(modelFile, text)
          const before = await storeState(home)
          // Listing never fails on one bad model: it is reported as a problem.
          const listed = await listModels({home})
          expect(listed.models.length + listed.problems.length).toBeGreaterThan(0)
          let outcome = 'ok'
          try {
            await getModel({home, tag: `iris_clf:${MODEL_VERSION}`})
          } catch (error) {
            outcome = typed(error, `model.yaml:\n${text}`)
          }
          try {
            const r = await build({projectDir: project, home, reporter: silentReporter, env: {}})
            if (r.created) await Store.bentos(home).delete(r.tag)
          } catch (error) {
            typed(error, `build with model.yaml:\n${text}`)
          }
          count('model.yaml', outcome)
          expect(await storeState(home)).toBe(before)
        }),
        {seed: SEED + 1, numRuns: runs(150), endOnFailure: true},
      )
    } finally {
      await writeFile(modelFile, good)
    }
  }, 300_000)

  it('stored bento.yaml (bento list/get/export)', async () => {
    const bento = await Store.bentos(home).get(bentoTag)
    const file = join(bento.path, 'bento.yaml')
    const good = await readFile(file, 'utf8')
    const out = join(root, 'exports')
    await mkdir(out, {recursive: true})
    try {
      await fc.assert(
        fc.asyncProperty(mutations, async (ms) => {
          const text = apply(good, ms)
          await writeFile(file, text)
          const before = await storeState(home)
          const listed = await listBentos({home})
          expect(listed.bentos.length + listed.problems.length).toBeGreaterThan(0)
          let outcome = 'ok'
          try {
            await getBento({home, tag: bentoTag})
          } catch (error) {
            outcome = typed(error, `bento.yaml:\n${text}`)
          }
          try {
            const r = await exportBentoService({home, tag: bentoTag, out: join(out, 'x.tar')})
            await rm(r.path)
          } catch (error) {
            typed(error, `export of bento.yaml:\n${text}`)
          }
          expect(await readdir(out)).toEqual([]) // no temp file left in the destination
          count('bento.yaml', outcome)
          expect(await storeState(home)).toBe(before)
        }),
        {seed: SEED + 2, numRuns: runs(150), endOnFailure: true},
      )
    } finally {
      await writeFile(file, good)
    }
  }, 300_000)

  it('archives (bento import)', async () => {
    const names = goodArchiveEntries.map((e) => e.header.name)
    const entryMutation = fc.oneof(
      // bento.yaml (or model.yaml) text damaged as above.
      fc.tuple(fc.constantFrom('bento.yaml', ...names.filter((n) => n.endsWith('model.yaml'))), mutations).map(
        ([name, ms]) =>
          (entries: typeof goodArchiveEntries) =>
            entries.map((e) => (e.header.name === name ? {header: {...e.header}, content: Buffer.from(apply(e.content.toString('utf8'), ms))} : e)),
      ),
      // An entry renamed to something hostile.
      fc.tuple(fc.nat(), fc.constantFrom('../x', '/abs', 'a\\b', 'src/../../x', '.', './bento.yaml', 'models/../../x', 'x'.repeat(300), 'src/\u0000x', 'bento.yaml/')).map(
        ([i, name]) =>
          (entries: typeof goodArchiveEntries) =>
            entries.map((e, j) => (j === i % entries.length ? {header: {...e.header, name}, content: e.content} : e)),
      ),
      // An entry of another type: links out, devices, a FIFO, a directory where a file was.
      fc.tuple(fc.nat(), fc.constantFrom('symlink', 'link', 'character-device', 'block-device', 'fifo', 'directory'), fc.constantFrom('../../etc/passwd', '/etc/passwd', 'bento.yaml', 'src', '')).map(
        ([i, type, linkname]) =>
          (entries: typeof goodArchiveEntries) =>
            entries.map((e, j) =>
              j === i % entries.length ? {header: {...e.header, type: type as TarEntry['header']['type'], linkname, size: 0}, content: Buffer.alloc(0)} : e,
            ),
      ),
      // An entry dropped or duplicated.
      fc.tuple(fc.nat(), fc.boolean()).map(
        ([i, drop]) =>
          (entries: typeof goodArchiveEntries) => {
            const copy = [...entries]
            const at = i % copy.length
            if (drop) copy.splice(at, 1)
            else copy.splice(at, 0, copy[at] as (typeof entries)[number])
            return copy
          },
      ),
    )
    const byteMutation = fc.oneof(
      fc.constant((b: Buffer) => b),
      fc.double({min: 0, max: 1, noNaN: true}).map((at) => (b: Buffer) => b.subarray(0, Math.floor(at * b.length))),
      fc.tuple(fc.double({min: 0, max: 1, noNaN: true}), fc.integer({min: 1, max: 255})).map(([at, x]) => (b: Buffer) => {
        const c = Buffer.from(b)
        const i = Math.floor(at * c.length) % Math.max(1, c.length)
        c[i] = (c[i] ?? 0) ^ x
        return c
      }),
    )
    const target = join(root, 'import-home')
    let n = 0
    await fc.assert(
      fc.asyncProperty(fc.array(entryMutation, {maxLength: 3}), byteMutation, fc.constantFrom('tar', 'gz'), async (ems, bm, format) => {
        const entries = ems.reduce((es, m) => m(es), goodArchiveEntries)
        let bytes = await writeTar(entries, {leaveOutRefused: true})
        if (format === 'gz') bytes = gzipSync(bytes)
        bytes = bm(bytes)
        const archive = join(root, `fuzz.${format === 'gz' ? 'tar.gz' : 'tar'}`)
        await writeFile(archive, bytes)
        await rm(target, {recursive: true, force: true})
        await ensureHome(target)
        const before = await storeState(target)
        try {
          const r = await importBento({archive, home: target, limits: {maxBytes: 64 * 2 ** 20, maxEntries: 10_000}})
          count('archive', 'ok')
          expect((await Store.bentos(target).get(`${r.tag.name}:${r.tag.version}`)).tag).toEqual(r.tag)
        } catch (error) {
          const code = typed(error, `archive (${format}, ${entries.length} entries)`)
          count('archive', code)
          expect(await storeState(target)).toBe(before)
          if (samples.filter((s) => s.kind === 'archive').length < 4 && n++ % 11 === 0) {
            const file = join(root, `sample-archive-${samples.length}.${format === 'gz' ? 'tar.gz' : 'tar'}`)
            await writeFile(file, bytes)
            samples.push({kind: 'archive', file, code})
          }
        }
      }),
      {seed: SEED + 3, numRuns: runs(400), endOnFailure: true},
    )
  }, 300_000)

  it('through the CLI: a sample of the failures prints the contract (exit code, one JSON error, no stack)', async () => {
    expect(samples.length).toBeGreaterThan(2)
    for (const s of samples) {
      const h = join(root, 'cli-home')
      await rm(h, {recursive: true, force: true})
      await writeModel(h)
      const args = s.kind === 'archive' ? ['import', s.file, '--json'] : ['build', project, '-f', s.file, '--json']
      const r = await runBento(args, {env: {BENTOML_HOME: h}})
      const context = `${args.join(' ')}\n${r.stdout}\n${r.stderr}`
      const json = JSON.parse(r.stdout) as {error: {code: string; exitCode: number}}
      expect(json.error.code, context).toBe(s.code)
      expect(r.code, context).toBe(ERROR_CODES[s.code as keyof typeof ERROR_CODES].exitCode)
      expect(r.stderr, context).not.toMatch(/\n\s+at /)
      expect(await readdir(join(h, 'bentos')).catch(() => []), context).toEqual([])
      expect(await readdir(join(h, 'tmp')).catch(() => []), context).toEqual([])
    }
  }, 120_000)
})
