/**
 * A project that pins BentoML 1.3.x (issue 16: `bentoml==1.3.5` / `1.3.7` / `1.3.1` in real projects), built by
 * `bento build` and by the REAL `bentoml build` 1.3.22 (scripts/provision/bentoml-1.3.22-venv.sh), then read by the
 * real 1.3.22: `bentoml list` / `bentoml get` list and read bento's Bentos, and `bentoml serve <tag>` serves them
 * from the store on 127.0.0.1 and answers the APIs (one of them through a `bentoml.depends` service).
 *
 * - `bentoml==1.3.22`: spec 2 (the default from 1.3.21), compared key by key with 1.3.22's own bento.yaml.
 * - `bentoml==1.3.20`: spec 1 (what 1.3.0–1.3.20 write for a `@bentoml.service`), compared with 1.3.22's spec-1
 *   output (BENTOML_ENABLE_FEATURES=no_image: the same BentoInfo 1.3.10–1.3.20 write) but for `bentoml_version`.
 */
import {mkdir, readFile, writeFile} from 'node:fs/promises'
import {join} from 'node:path'

import {afterAll, beforeAll, describe, expect, it} from 'vitest'
import {parse} from 'yaml'

import {runBentoInProcess} from '../helpers/cli-in-process.js'
import {removeDir, serveWithBentoml, tempDir} from '../helpers/env.js'
import {filesUnder} from '../helpers/files.js'
import {type BentomlZygote, startBentomlZygote} from '../helpers/zygote.js'

const SERVICE = `import bentoml
from pydantic import BaseModel


class Item(BaseModel):
    text: str
    times: int = 2


@bentoml.service(workers=1)
class Back:
    @bentoml.api
    def shout(self, text: str) -> str:
        return text.upper()


@bentoml.service(resources={"cpu": "1"}, traffic={"timeout": 30})
class Echo:
    back = bentoml.depends(Back)

    @bentoml.api
    def echo(self, text: str, times: int = 1) -> str:
        return text * times

    @bentoml.api
    def loud(self, item: Item) -> str:
        return self.back.shout(text=item.text) * item.times
`

const bentofile = (pin: string): string => `service: "service:Echo"
labels:
  owner: me
include:
  - "*.py"
envs:
  - name: FOO
    value: bar
python:
  packages:
    - "bentoml==${pin}"
  lock_packages: false
`

type Manifest = Record<string, unknown>

/** A `str` output comes back as text/plain. */
async function postText(url: string, body: unknown): Promise<{status: number; text: string}> {
  const r = await fetch(url, {method: 'POST', headers: {'content-type': 'application/json'}, body: JSON.stringify(body), signal: AbortSignal.timeout(60_000)})
  return {status: r.status, text: await r.text()}
}

describe('a project pinning BentoML 1.3.x ⇄ the real BentoML 1.3.22', () => {
  let root: string
  const homeBento = (): string => join(root, 'home-bento')
  const built: Record<'v2' | 'v1', {ours: Manifest; theirs: Manifest; oursFiles: string[]; theirsFiles: string[]; stderr: string}> = {} as never

  // One Python for the file's CLI calls: BentoML 1.3.22's CLI imported once, each call a fork (test/helpers/zygote.ts).
  let python: BentomlZygote
  beforeAll(async () => {
    root = await tempDir('bento-13-')
    python = startBentomlZygote('1.3.22')
    for (const [tag, pin, env] of [
      ['v2', '1.3.22', {}],
      ['v1', '1.3.20', {BENTOML_ENABLE_FEATURES: 'no_image'}],
    ] as const) {
      const project = join(root, `proj-${tag}`)
      await mkdir(project)
      await writeFile(join(project, 'service.py'), SERVICE)
      await writeFile(join(project, 'bentofile.yaml'), bentofile(pin))
      const real = await python.bentoml(['build', '--version', tag], join(root, 'home-bentoml'), {cwd: project, env})
      expect(real.code, real.stderr + real.stdout).toBe(0)
      const mine = await runBentoInProcess(['build', '--version', tag], {cwd: project, env: {BENTOML_HOME: homeBento()}})
      expect(mine.code, mine.stderr).toBe(0)
      const theirsDir = join(root, 'home-bentoml/bentos/echo', tag)
      const oursDir = join(homeBento(), 'bentos/echo', tag)
      built[tag] = {
        theirs: parse(await readFile(join(theirsDir, 'bento.yaml'), 'utf8')) as Manifest,
        ours: parse(await readFile(join(oursDir, 'bento.yaml'), 'utf8')) as Manifest,
        theirsFiles: await filesUnder(theirsDir),
        oursFiles: await filesUnder(oursDir),
        stderr: mine.stderr,
      }
    }
  }, 600_000)

  afterAll(async () => {
    await python.close()
    if (root) await removeDir(root)
  })

  it('bentoml==1.3.22: spec 2 with the keys 1.3.22 writes, in its order, and the same values', () => {
    const {ours, theirs} = built.v2
    expect(ours.bentoml_version).toBe('1.3.22')
    expect(ours.spec).toBe(2)
    expect(Object.keys(ours)).toEqual(Object.keys(theirs))
    for (const k of Object.keys(theirs)) {
      if (k === 'creation_time' || k === 'image') continue
      expect(ours[k], k).toEqual(theirs[k])
    }
    const [oi, ti] = [ours.image as Record<string, unknown>, theirs.image as Record<string, unknown>]
    expect(Object.keys(oi)).toEqual(Object.keys(ti))
    for (const k of ['base_image', 'python_version', 'commands', 'post_commands', 'scripts']) expect(oi[k], `image.${k}`).toEqual(ti[k])
    // 1.3.22 locks (uv pip compile); bento does not: its lines are the requirements themselves, the pin among them.
    expect(String(ti.python_requirements)).toMatch(/^bentoml==1\.3\.22$/m)
    expect(String(oi.python_requirements)).toMatch(/^bentoml==1\.3\.22$/m)
  })

  it('bentoml==1.3.20: spec 1 with the keys 1.3.x writes for a @bentoml.service, the same values but bentoml_version', () => {
    const {ours, theirs} = built.v1
    expect(ours.bentoml_version).toBe('1.3.20')
    expect(theirs.bentoml_version).toBe('1.3.22')
    expect(ours.spec).toBe(1)
    expect(Object.keys(ours)).toEqual(Object.keys(theirs))
    for (const k of Object.keys(theirs)) {
      if (k === 'creation_time' || k === 'bentoml_version') continue
      expect(ours[k], k).toEqual(theirs[k])
    }
  })

  it('the same filled build config in src/bentofile.yaml (no args: 1.3.x has none)', async () => {
    for (const tag of ['v2', 'v1'] as const) {
      const read = async (home: string): Promise<unknown> => parse(await readFile(join(root, home, 'bentos/echo', tag, 'src/bentofile.yaml'), 'utf8'))
      expect(await read('home-bento'), tag).toEqual(await read('home-bentoml'))
    }
  })

  it('the same files in the Bento (the generated env/ layout of each spec)', () => {
    expect(built.v2.oursFiles).toEqual(built.v2.theirsFiles)
    // spec 1: bento also writes env/python/version.txt and install.sh, as 1.3.x does; the rest is the same
    expect(built.v1.oursFiles).toEqual(built.v1.theirsFiles)
  })

  it("the real 1.3.22 lists and reads bento's Bentos (bentoml list / get)", async () => {
    const list = await python.bentoml(['list', '-o', 'json'], homeBento())
    expect(list.code, list.stderr).toBe(0)
    const tags = (JSON.parse(list.stdout) as Array<{tag: string}>).map((b) => b.tag).sort()
    expect(tags).toEqual(['echo:v1', 'echo:v2'])
    for (const tag of ['echo:v1', 'echo:v2']) {
      const got = await python.bentoml(['get', tag, '-o', 'json'], homeBento())
      expect(got.code, got.stderr).toBe(0)
      const info = JSON.parse(got.stdout) as Manifest
      expect(info.name).toBe('echo')
      expect(info.entry_service).toBe('Echo')
    }
  })

  for (const tag of ['v2', 'v1'] as const) {
    it(`the real 1.3.22 serves echo:${tag} from the store and answers both APIs`, async () => {
      const server = await serveWithBentoml(`echo:${tag}`, homeBento(), {version: '1.3.22'})
      try {
        expect(await postText(`${server.url}/echo`, {text: 'ab', times: 3}), server.logs()).toEqual({status: 200, text: 'ababab'})
        // through the bentoml.depends(Back) service, with a pydantic input and its default
        expect(await postText(`${server.url}/loud`, {item: {text: 'hi'}}), server.logs()).toEqual({status: 200, text: 'HIHI'})
      } finally {
        await server.stop()
      }
    })
  }
})
