/**
 * Issue 10's interop matrix against two REAL BentoMLs (1.4.15 and 1.4.40, scripts/provision/bentoml*-venv.sh):
 * for each fixture project of test/fixtures/interop (and the bundled runner-style iris example on 1.4.15),
 *
 *   1. `bento build` writes a Bento;
 *   2. the real `bentoml get -o json` reads it;
 *   3. the real `bentoml build` of the same project, into the same store, gives the same `bentoml get -o json` on
 *      every key but version, creation_time and what a resolver produces (`image.python_requirements`), and the
 *      same files (ours adds `models/`, BentoML's spec 1 adds its lock file);
 *   4. the real `bentoml get -o path` finds our Bento where `bento get TAG -o path` says;
 *   5. `bento export` → the real `bentoml import` into an empty home gives the same files, byte for byte, and the
 *      real `bentoml serve` of it answers a real request (each Bento is served once: a `bentoml serve` is ≈ 5 s of CPU);
 *   6. for projects with a model: `bento export` of the Bento the real `bentoml build` wrote (its models under
 *      `services[].models` for SDK services) carries the model: `bento list` shows its Model Size, and the real
 *      `bentoml import` into an empty home gives that Bento's files and its models' files byte for byte as the real
 *      `bentoml build` and the model's save left them. (Not served again: the bytes are BentoML's own, and step 5
 *      serves what bento wrote; a serve is ≈ 5 s of CPU.)
 *
 * SDK projects run on both BentoMLs: on 1.4.40 (the default target) and on 1.4.15 (the target the models saved by
 * 1.4.15 choose, or --bentoml-version 1.4.15). The src layout needs 1.4.38+ (`python.is_src_layout`), and
 * `bentoml.legacy.Service` 1.4.16+, so those run on 1.4.40 only; runner-style services only on 1.4.15.
 *
 * The containerize rows are in interop-matrix-containerize.docker.test.ts (real Docker engine).
 */
import {createHash} from 'node:crypto'
import {existsSync, readFileSync, readdirSync, statSync} from 'node:fs'
import {cp, mkdir} from 'node:fs/promises'
import {join, relative} from 'node:path'

import {afterAll, beforeAll, describe, expect, it} from 'vitest'

import {
  bentomlVenv,
  type BentomlRelease,
  removeDir,
  REPO,
  run,
  runBento,
  type RunResult,
  serveWithBentoml,
  tempDir,
} from '../helpers/env.js'
import {bentomlCaller} from '../helpers/zygote.js'

const FIXTURES = join(REPO, 'test/fixtures/interop')

interface Row {
  name: string
  /** The project directory to copy. */
  source: string
  version: BentomlRelease
  /** Save the iris model into the store first (with the same BentoML). */
  irisModel: boolean
  /** Extra `bento build` arguments. */
  buildArgs?: string[]
  /** Environment for the real `bentoml build` (a src layout is importable only as an installed package). */
  realBuildEnv?: (project: string) => NodeJS.ProcessEnv
  request: {route: string; body: unknown; answer: unknown}
  /** What bento.yaml must say (beyond agreeing with BentoML's). */
  expect: Record<string, unknown>
}

const fixture = (name: string): Pick<Row, 'source' | 'request'> => ({
  source: join(FIXTURES, name),
  request: JSON.parse(readFileSync(join(FIXTURES, name, 'request.json'), 'utf8')) as Row['request'],
})

const ROWS: Row[] = [
  {
    name: 'legacy iris (runner-style bentoml.Service, BentoML 1.4.15)',
    source: join(REPO, 'examples/iris'),
    request: {route: '/classify', body: [[5.1, 3.5, 1.4, 0.2]], answer: ['setosa']},
    version: '1.4.15',
    irisModel: true,
    expect: {spec: 1, bentoml_version: '1.4.15', entry_service: 'clasificador_iris'},
  },
  {name: 'SDK iris with BentoModel', ...fixture('sdk-iris'), version: '1.4.40', irisModel: true, expect: {spec: 2, entry_service: 'Iris'}},
  {name: 'SDK iris with BentoModel', ...fixture('sdk-iris'), version: '1.4.15', irisModel: true, expect: {spec: 2, entry_service: 'Iris'}},
  {
    name: 'two services with bentoml.depends',
    ...fixture('two-services'),
    version: '1.4.15',
    irisModel: true,
    expect: {spec: 2, entry_service: 'Gateway', labels: {team: 'interop'}},
  },
  {
    name: 'two services with bentoml.depends',
    ...fixture('two-services'),
    version: '1.4.40',
    irisModel: true,
    expect: {spec: 2, entry_service: 'Gateway', labels: {team: 'interop'}},
  },
  {name: 'SDK service without a bentofile', ...fixture('no-bentofile'), version: '1.4.40', irisModel: false, expect: {spec: 2, service: 'service:Greeter'}},
  {
    name: 'SDK service without a bentofile',
    ...fixture('no-bentofile'),
    version: '1.4.15',
    irisModel: false,
    buildArgs: ['--bentoml-version', '1.4.15'],
    expect: {spec: 2, service: 'service:Greeter'},
  },
  {
    name: 'pyproject src/ layout',
    ...fixture('src-layout'),
    version: '1.4.40',
    irisModel: false,
    realBuildEnv: (project) => ({PYTHONPATH: join(project, 'src')}),
    expect: {spec: 2, name: 'greeting', service: 'greeting.service:Greeter'},
  },
  {
    name: 'nested requirements with an extra (bentoml.legacy.Service, spec 1 on 1.4.40)',
    ...fixture('nested-reqs'),
    version: '1.4.40',
    irisModel: false,
    expect: {spec: 1, bentoml_version: '1.4.40'},
  },
]

/** Keys `bentoml get -o json` may differ on: the version, the build time, and what a resolver produces. */
const IGNORED = new Set(['version', 'creation_time', 'image.python_requirements'])

function differences(real: unknown, ours: unknown, path = ''): string[] {
  if (IGNORED.has(path.slice(1))) return []
  if (Array.isArray(real) && Array.isArray(ours) && real.length === ours.length) {
    return real.flatMap((r, i) => differences(r, ours[i], `${path}[${i}]`))
  }
  if (real && ours && typeof real === 'object' && typeof ours === 'object' && !Array.isArray(real) && !Array.isArray(ours)) {
    const keys = new Set([...Object.keys(real), ...Object.keys(ours)])
    return [...keys].flatMap((k) => differences((real as Record<string, unknown>)[k], (ours as Record<string, unknown>)[k], `${path}.${k}`))
  }
  return JSON.stringify(real) === JSON.stringify(ours) ? [] : [`${path}: bentoml ${JSON.stringify(real)} / bento ${JSON.stringify(ours)}`]
}

function files(dir: string, sub = ''): string[] {
  return readdirSync(join(dir, sub)).flatMap((n) => {
    const rel = sub ? `${sub}/${n}` : n
    return statSync(join(dir, rel)).isDirectory() ? files(dir, rel) : [rel]
  })
}

/** The real `bentoml` CLI of each release, imported once for the file (test/helpers/zygote.ts): each call a fork. */
const cli = bentomlCaller()
const bentoml = (version: BentomlRelease, args: string[], home: string, opts: {cwd?: string; env?: NodeJS.ProcessEnv} = {}): Promise<RunResult> =>
  cli.bentoml(args, home, {...opts, version})
afterAll(async () => {
  await cli.close()
})

/** The iris model the real BentoML of each release saved, once per file (train.py is ≈ 3 s of CPU): rows copy it. */
const savedIris = new Map<BentomlRelease, Promise<string>>()

async function saveIris(home: string, version: BentomlRelease): Promise<void> {
  let saved = savedIris.get(version)
  if (!saved) {
    saved = (async () => {
      const modelHome = await tempDir('bento-matrix-model-')
      savedHomes.push(modelHome)
      const train = version === '1.4.15' ? join(REPO, 'examples/iris/train.py') : join(REPO, 'test/fixtures/sdk-iris/train.py')
      const r = await run(bentomlVenv(version).python, [train], {env: {BENTOML_HOME: modelHome, BENTOML_DO_NOT_TRACK: 'true'}})
      expect(r.code, r.stderr).toBe(0)
      return join(modelHome, 'models')
    })()
    savedIris.set(version, saved)
  }
  await cp(await saved, join(home, 'models'), {recursive: true})
}
const savedHomes: string[] = []
afterAll(async () => {
  for (const h of savedHomes) await removeDir(h)
})

/** Every file of a Bento and its bytes' sha256: two trees are the same Bento when these are equal. */
function treeDigest(dir: string): Record<string, string> {
  return Object.fromEntries(files(dir).map((f) => [f, fileSha256(join(dir, f))]))
}

function fileSha256(path: string): string {
  return createHash('sha256').update(readFileSync(path)).digest('hex')
}

async function ask(bentoPath: string, home: string, row: Row): Promise<void> {
  const server = await serveWithBentoml(bentoPath, home, {version: row.version})
  try {
    const r = await fetch(`${server.url}${row.request.route}`, {
      method: 'POST',
      headers: {'content-type': 'application/json'},
      body: JSON.stringify(row.request.body),
      signal: AbortSignal.timeout(60_000),
    })
    const text = await r.text()
    // A str output is text/plain; everything else JSON.
    const body = (r.headers.get('content-type') ?? '').startsWith('application/json') ? (JSON.parse(text) as unknown) : text
    expect({status: r.status, body}, server.logs()).toEqual({status: 200, body: row.request.answer})
  } finally {
    await server.stop()
  }
}

// The rows of each BentoML release one after the other, the two releases side by side (the file's half of the
// wall time: each row waits on its own Python processes and servers).
for (const release of ['1.4.15', '1.4.40'] as const) {
  describe(`interop matrix on BentoML ${release}`, {concurrent: true}, () => {
    for (const row of ROWS.filter((r) => r.version === release)) {
      describe.sequential(`interop matrix: ${row.name} (BentoML ${row.version})`, () => {
        let root: string
        let home: string
        let project: string
        let ours: {tag: string; path: string}
        let oursInfo: Record<string, unknown>
        let realTag: string

        beforeAll(async () => {
          root = await tempDir('bento-matrix-')
          home = join(root, 'home')
          project = join(root, 'project')
          await cp(row.source, project, {recursive: true})
          if (row.irisModel) await saveIris(home, row.version)
          const r = await runBento(['build', project, '--json', ...(row.buildArgs ?? [])], {env: {BENTOML_HOME: home}})
          expect(r.code, r.stderr).toBe(0)
          ours = JSON.parse(r.stdout) as {tag: string; path: string}
        }, 300_000)

        afterAll(async () => {
          await removeDir(root)
        })

        it('bento build writes it; the real `bentoml get -o json` reads it', async () => {
          const get = await bentoml(row.version, ['get', ours.tag, '-o', 'json'], home)
          expect(get.code, get.stderr).toBe(0)
          oursInfo = JSON.parse(get.stdout) as Record<string, unknown>
          expect(oursInfo).toMatchObject({bentoml_version: row.version, ...row.expect})
          if (row.version === '1.4.40' && oursInfo.spec === 2) expect(existsSync(join(ours.path, 'env/python/install.sh'))).toBe(false)
        })

        it('the real `bentoml build` of the same project in the same store agrees on every key but version, creation_time and the lock', async () => {
          const r = await bentoml(row.version, ['build', '--version', 'realbentoml', '--output', 'tag'], home, {
            cwd: project,
            env: row.realBuildEnv?.(project) ?? {},
          })
          expect(r.code, r.stderr + r.stdout).toBe(0)
          const tag = /__tag__:(\S+)/.exec(r.stdout)?.[1] ?? ''
          realTag = tag
          const get = await bentoml(row.version, ['get', tag, '-o', 'json'], home)
          expect(get.code, get.stderr).toBe(0)
          const real = JSON.parse(get.stdout) as Record<string, unknown>
          expect(real.name).toBe(oursInfo.name)
          expect(differences(real, oursInfo)).toEqual([])
          // The same files, but for the models bento's Bentos carry and the lock file BentoML's spec 1 writes.
          // The store path (BentoML's console may wrap a long `bentoml get -o path`).
          const [realName = '', realVersion = ''] = tag.split(':')
          const realPath = join(home, 'bentos', realName, realVersion)
          const listed = (dir: string): string[] =>
            files(dir)
              .filter((f) => !f.startsWith('models/') && f !== 'env/python/requirements.lock.txt')
              .sort()
          expect(listed(ours.path)).toEqual(listed(realPath))
          expect(relative(home, realPath).startsWith('bentos/')).toBe(true)
        }, 600_000)

        it('the real `bentoml get -o path` finds our Bento where `bento get TAG -o path` says', async () => {
          const get = await runBento(['get', ours.tag, '-o', 'path'], {env: {BENTOML_HOME: home}})
          expect(get.code, get.stderr).toBe(0)
          expect(get.stdout.trim()).toBe(ours.path)
          const real = await bentoml(row.version, ['get', ours.tag, '-o', 'path'], home)
          expect(real.code, real.stderr).toBe(0)
          expect(real.stdout.replace(/\s+/g, '')).toBe(ours.path)
        })

        // Each Bento is served once: our Bento after the round trip below (its files the same bytes as in our store).
        it('bento export → the real `bentoml import` into an empty home: the same files, byte for byte (its models moved to the model store) → the real `bentoml serve` answers', async () => {
          const archive = join(root, 'x.bento')
          const ex = await runBento(['export', ours.tag, archive, '--json'], {env: {BENTOML_HOME: home}})
          expect(ex.code, ex.stderr).toBe(0)
          const other = join(root, 'other-home')
          await mkdir(other, {recursive: true})
          const imp = await bentoml(row.version, ['import', archive], other)
          expect(imp.code, imp.stderr + imp.stdout).toBe(0)
          const [name = '', version = ''] = ours.tag.split(':')
          const path = join(other, 'bentos', name, version)
          // BentoML's import moves a Bento's models/ into the model store: the rest of the Bento as it was, each
          // model version's files the same bytes in the store.
          const split = (tree: Record<string, string>, models: boolean): Record<string, string> =>
            Object.fromEntries(Object.entries(tree).filter(([f]) => f.startsWith('models/') === models))
          const ourTree = treeDigest(ours.path)
          expect(treeDigest(path)).toEqual(split(ourTree, false))
          const ourModels = Object.entries(split(ourTree, true)).filter(([f]) => !f.endsWith('/latest'))
          expect(ourModels.length > 0).toBe(row.irisModel)
          for (const [f, digest] of ourModels) {
            expect(fileSha256(join(other, f)), f).toBe(digest)
          }
          await ask(path, other, row)
        }, 300_000)

        if (row.irisModel) {
          it("bento export of the real bentoml build's Bento carries its model: Model Size, the real `bentoml import` into an empty home → the Bento and its models, byte for byte", async () => {
            expect(realTag).toMatch(/:realbentoml$/)
            const list = await runBento(['list', '--json'], {env: {BENTOML_HOME: home}})
            expect(list.code, list.stderr).toBe(0)
            const {bentos: rows} = JSON.parse(list.stdout) as {bentos: Array<{tag: string; modelSizeBytes: number}>}
            expect(rows.find((b) => b.tag === realTag)?.modelSizeBytes ?? 0).toBeGreaterThan(0)
            const archive = join(root, 'real.bento')
            const ex = await runBento(['export', realTag, archive, '--json'], {env: {BENTOML_HOME: home}})
            expect(ex.code, ex.stderr).toBe(0)
            const other = join(root, 'real-home')
            await mkdir(other, {recursive: true})
            const imp = await bentoml(row.version, ['import', archive], other)
            expect(imp.code, imp.stderr + imp.stdout).toBe(0)
            const models = await bentoml(row.version, ['models', 'list', '-o', 'json'], other)
            expect(models.code, models.stderr).toBe(0)
            expect(models.stdout).toContain('iris_clf')
            // The store path (BentoML's console may wrap a long `bentoml get -o path`).
            const [name = '', version = ''] = realTag.split(':')
            const bento = join('bentos', name, version)
            expect(treeDigest(join(other, bento))).toEqual(treeDigest(join(home, bento)))
            // Each model the real Bento names: its version directory the same bytes in both model stores.
            const info = JSON.parse((await bentoml(row.version, ['get', realTag, '-o', 'json'], other)).stdout) as {models?: Array<{tag: string}>; services?: Array<{models?: Array<{tag: string}>}>}
            const tags = [...(info.models ?? []), ...(info.services ?? []).flatMap((svc) => svc.models ?? [])].map((m) => m.tag)
            expect(tags.length).toBeGreaterThan(0)
            for (const tag of new Set(tags)) {
              const [model = '', modelVersion = ''] = tag.split(':')
              const dir = join('models', model, modelVersion)
              expect(treeDigest(join(other, dir)), dir).toEqual(treeDigest(join(home, dir)))
            }
          }, 300_000)
        }
      })
    }
  })
}
