/**
 * `bento build` and the stores against the REAL BentoML 1.4.15 (scripts/provision/bentoml-venv.sh).
 * The model is saved by the real bentoml.sklearn.save_model; the real `bentoml` lists, gets, serves,
 * exports and imports what `bento` wrote, and `bento` reads what the real BentoML wrote.
 */
import {existsSync} from 'node:fs'
import {readFile, rm} from 'node:fs/promises'
import {join} from 'node:path'

import {afterAll, beforeAll, describe, expect, it} from 'vitest'

import {runBentoInProcess} from '../helpers/cli-in-process.js'
import {irisProject, postJson, removeDir, saveIrisModel, serveWithBentoml, tempDir} from '../helpers/env.js'
import {bentomlCaller} from '../helpers/zygote.js'

/** The real `bentoml` CLI imported once for the file (test/helpers/zygote.ts): each call a fork of it. */
const cli = bentomlCaller()
const runBentoml = cli.bentoml
afterAll(async () => {
  await cli.close()
})

describe('bento build ⇄ real BentoML 1.4.15', () => {
  let home: string
  let project: string
  let modelTag: string
  let tag: string
  let bentoPath: string

  beforeAll(async () => {
    home = await tempDir('bento-home-')
    project = await irisProject()
    modelTag = await saveIrisModel(home)
    const r = await runBentoInProcess(['build', '--json'], {cwd: project, env: {BENTOML_HOME: home}})
    expect(r.code, r.stderr).toBe(0)
    const out = JSON.parse(r.stdout) as {tag: string; path: string; created: boolean; models: Array<{tag: string}>}
    tag = out.tag
    bentoPath = out.path
    expect(out.created).toBe(true)
    expect(out.models.map((m) => m.tag)).toEqual([modelTag])
  })

  afterAll(async () => {
    await removeDir(home)
    await removeDir(project)
  })

  it('writes clasificador_iris:<16-char version> and prints only JSON on stdout', () => {
    expect(tag).toMatch(/^clasificador_iris:[a-z2-7]{16}$/)
    expect(existsSync(join(bentoPath, 'bento.yaml'))).toBe(true)
    expect(existsSync(join(bentoPath, 'src/service.py'))).toBe(true)
  })

  it('rebuilding the same inputs is a no-op that reports the same tag', async () => {
    const r = await runBentoInProcess(['build', '--json'], {cwd: project, env: {BENTOML_HOME: home}})
    expect(r.code, r.stderr).toBe(0)
    const out = JSON.parse(r.stdout) as {tag: string; created: boolean}
    expect(out).toMatchObject({tag, created: false})
  })

  it('`bentoml list -o json` and `bentoml get` show the Bento', async () => {
    const list = await runBentoml(['list', '-o', 'json'], home)
    expect(list.code, list.stderr).toBe(0)
    const rows = JSON.parse(list.stdout) as Array<{tag: string; model_size: string}>
    expect(rows.map((r) => r.tag)).toContain(tag)
    const get = await runBentoml(['get', tag, '-o', 'json'], home)
    expect(get.code, get.stderr).toBe(0)
    const info = JSON.parse(get.stdout) as {name: string; models: Array<{tag: string}>; apis: Array<{name: string}>}
    expect(info.name).toBe('clasificador_iris')
    expect(info.models[0]?.tag).toBe(modelTag)
    expect(info.apis[0]?.name).toBe('classify')
    const latest = await runBentoml(['get', 'clasificador_iris:latest', '-o', 'path'], home)
    expect(latest.stdout.trim()).toBe(bentoPath)
  })

  it('`bento list` and `bento get` agree with the store', async () => {
    const list = await runBentoInProcess(['list', '--json'], {env: {BENTOML_HOME: home}})
    expect(list.code, list.stderr).toBe(0)
    const out = JSON.parse(list.stdout) as {bentos: Array<{tag: string}>}
    expect(out.bentos.map((b) => b.tag)).toEqual([tag])
    const get = await runBentoInProcess(['get', 'clasificador_iris', '-o', 'path'], {env: {BENTOML_HOME: home}})
    expect(get.stdout.trim()).toBe(bentoPath)
  })

  // Served once, without the model in the store: the Bento carries its models. (The interop matrix serves it with the
  // model in the store, after a round trip through `bentoml import`.)
  it('`bentoml serve <abs path>` answers POST /classify with the model deleted from the store', async () => {
    const [name, version] = modelTag.split(':') as [string, string]
    await rm(join(home, 'models', name), {recursive: true, force: true})
    const models = await runBentoml(['models', 'list', '-o', 'json'], home)
    expect(models.stdout).not.toContain(version)
    const server = await serveWithBentoml(bentoPath, home)
    try {
      const a = await postJson(`${server.url}/classify`, [[5.1, 3.5, 1.4, 0.2]])
      expect(a, server.logs()).toEqual({status: 200, json: ['setosa']})
      const b = await postJson(`${server.url}/classify`, [[6.7, 3.0, 5.2, 2.3]])
      expect(b.json).toEqual(['virginica'])
    } finally {
      await server.stop()
    }
  })

  it('`bentoml import` accepts `bento export`, and `bento import` accepts `bentoml export`', async () => {
    const work = await tempDir('bento-archives-')
    try {
      const archive = join(work, 'iris.bento')
      const ex = await runBentoInProcess(['export', tag, archive, '--json'], {env: {BENTOML_HOME: home}})
      expect(ex.code, ex.stderr).toBe(0)
      const other = join(work, 'home-a')
      const imp = await runBentoml(['import', archive], other)
      expect(imp.code, imp.stderr + imp.stdout).toBe(0)
      const list = await runBentoml(['list', '-o', 'json'], other)
      expect((JSON.parse(list.stdout) as Array<{tag: string}>).map((r) => r.tag)).toEqual([tag])
      const models = await runBentoml(['models', 'list', '-o', 'json'], other)
      expect(models.stdout).toContain(modelTag.split(':')[1])

      const archive2 = join(work, 'from-bentoml.bento')
      const ex2 = await runBentoml(['export', tag, archive2], other)
      expect(ex2.code, ex2.stderr + ex2.stdout).toBe(0)
      const third = join(work, 'home-b')
      const imp2 = await runBentoInProcess(['import', archive2, '--json'], {env: {BENTOML_HOME: third}})
      expect(imp2.code, imp2.stderr).toBe(0)
      expect((JSON.parse(imp2.stdout) as {tag: string}).tag).toBe(tag)
      const list3 = await runBentoml(['list', '-o', 'json'], third)
      expect((JSON.parse(list3.stdout) as Array<{tag: string}>).map((r) => r.tag)).toEqual([tag])
    } finally {
      await removeDir(work)
    }
  })

  // A Bento the real `bentoml build` wrote, listed (with its Model Size), exported by bento and imported by the real
  // `bentoml import`, then served: test/e2e/interop-matrix.test.ts (every row with a model, 1.4.15 and 1.4.40).

  it('the Bento pins bentoml 1.4.15 and scikit-learn at the version that saved the model', async () => {
    const req = await readFile(join(bentoPath, 'env/python/requirements.txt'), 'utf8')
    expect(req).toMatch(/^bentoml==1\.4\.15$/m)
    expect(req).toMatch(/^scikit-learn$/m) // the user's own line names it: kept, not duplicated
    const yaml = await readFile(join(bentoPath, 'bento.yaml'), 'utf8')
    expect(yaml).toContain("bentoml_version: '1.4.15'")
  })
})
