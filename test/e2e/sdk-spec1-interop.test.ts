/**
 * An SDK service the bentofile forces to spec 1 (`docker.cuda_version`), whose API defaults come from an installed
 * package (a stub on PYTHONPATH for the real build), built by the REAL `bentoml build` 1.4.40 and by `bento build`:
 * bento.yaml agrees on every key but `creation_time` and `schema`, which differs only by the defaults bento cannot
 * read (left out with a warning, never written as null). Issue 16: `apis: []`, and no `"default": null`.
 */
import {mkdir, readFile, writeFile} from 'node:fs/promises'
import {join} from 'node:path'

import {afterAll, beforeAll, describe, expect, it} from 'vitest'
import {parse} from 'yaml'

import {runBentoInProcess} from '../helpers/cli-in-process.js'
import {removeDir, runBentoml, tempDir} from '../helpers/env.js'

const SERVICE = `import bentoml
import stubpkg
from pydantic import BaseModel


class Query(BaseModel):
    k: int = stubpkg.TOP_K
    tag: str | None = None


@bentoml.service
class Svc:
    @bentoml.api
    def one(self, text: str, top_k: int = stubpkg.TOP_K, note: str | None = None) -> str:
        return text

    @bentoml.api
    def two(self, q: Query) -> str:
        return ""
`

const BENTOFILE = `service: "service:Svc"
include:
  - "*.py"
docker:
  cuda_version: "12.1.1"
python:
  packages: []
  lock_packages: false
`

type Manifest = Record<string, unknown> & {schema: {routes: Array<{input: {properties: Record<string, Record<string, unknown>>}}>}}

describe('an SDK service forced to spec 1, defaults from an installed package ⇄ the real bentoml build 1.4.40', () => {
  let root: string
  let theirs: Manifest
  let ours: Manifest
  let stderr: string

  beforeAll(async () => {
    root = await tempDir('bento-spec1-')
    const project = join(root, 'proj')
    await mkdir(join(root, 'stub/stubpkg'), {recursive: true})
    await mkdir(project)
    await writeFile(join(root, 'stub/stubpkg/__init__.py'), 'TOP_K = 5\n')
    await writeFile(join(project, 'service.py'), SERVICE)
    await writeFile(join(project, 'bentofile.yaml'), BENTOFILE)
    const real = await runBentoml(['build', '--version', 'v1'], join(root, 'home-bentoml'), {cwd: project, env: {PYTHONPATH: join(root, 'stub')}, version: '1.4.40'})
    expect(real.code, real.stderr + real.stdout).toBe(0)
    const mine = await runBentoInProcess(['build', '--version', 'v1'], {cwd: project, env: {BENTOML_HOME: join(root, 'home-bento')}})
    expect(mine.code, mine.stderr).toBe(0)
    stderr = mine.stderr
    theirs = parse(await readFile(join(root, 'home-bentoml/bentos/svc/v1/bento.yaml'), 'utf8')) as Manifest
    ours = parse(await readFile(join(root, 'home-bento/bentos/svc/v1/bento.yaml'), 'utf8')) as Manifest
  }, 600_000)

  afterAll(async () => {
    if (root) await removeDir(root)
  })

  it('spec 1 with apis: [] and runners: [], as BentoML writes them', () => {
    expect(theirs.spec).toBe(1)
    expect(ours.spec).toBe(1)
    expect(theirs.apis).toEqual([])
    expect(ours.apis).toEqual([])
    expect(ours.runners).toEqual(theirs.runners)
  })

  it('every other key agrees but creation_time and schema', () => {
    for (const k of new Set([...Object.keys(theirs), ...Object.keys(ours)])) {
      if (k === 'creation_time' || k === 'schema') continue
      expect(ours[k], k).toEqual(theirs[k])
    }
  })

  it('the schema differs only by the unreadable defaults, left out (never null); None stays null; one warning per site', () => {
    const drop = (m: Manifest): unknown => {
      const copy = structuredClone(m.schema)
      const one = copy.routes[0]!.input.properties
      delete one.top_k!.default
      const q = copy.routes[1]!.input.properties.q as {properties: Record<string, Record<string, unknown>>}
      delete q.properties.k!.default
      return copy
    }
    expect(drop(ours)).toEqual(drop(theirs))
    expect(theirs.schema.routes[0]!.input.properties.top_k!.default).toBe(5)
    expect(ours.schema.routes[0]!.input.properties.top_k).not.toHaveProperty('default')
    expect(ours.schema.routes[0]!.input.properties.note!.default).toBeNull()
    expect(stderr.match(/service\.py:14:\d+ cannot read the default `stubpkg\.TOP_K`/g)).toHaveLength(1)
    expect(stderr.match(/service\.py:7:\d+ cannot read the default `stubpkg\.TOP_K`/g)).toHaveLength(1)
  })
})
