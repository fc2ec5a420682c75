/**
 * `bento build` of a service module that reads the environment (`os.getenv`, `os.environ`) and computes labels
 * with `json.dumps`: the values come from the environment of the build, as `bentoml build` takes them; the names
 * read are in `--json` (`envRead`, never the values) and in one warning; the values are part of the version.
 */
import {mkdir, readFile, rm, writeFile} from 'node:fs/promises'
import {join} from 'node:path'

import {afterAll, beforeAll, describe, expect, it} from 'vitest'
import {parse as parseYaml} from 'yaml'

import {runBentoInProcess} from '../helpers/cli-in-process.js'
import {tempDir} from '../helpers/env.js'

const SERVICE = `import json
import os

import bentoml

TIMEOUT = int(os.getenv("TIMEOUT", 300))
SECRET_SET = "BENTO_TEST_SECRET" in os.environ


@bentoml.service(
    labels={"cfg": json.dumps({"timeout": TIMEOUT, "tags": ["a", "b"], "secret": SECRET_SET}, sort_keys=True)},
    traffic={"timeout": TIMEOUT},
)
class Svc:
    @bentoml.api
    def hi(self) -> str:
        return "hi"
`

interface Built {
  tag: string
  path: string
  created: boolean
  envRead: string[]
  warnings: string[]
}

let root: string
let project: string
let home: string

beforeAll(async () => {
  root = await tempDir('bento-build-env-')
  project = join(root, 'p')
  home = join(root, 'home')
  await mkdir(project)
  await writeFile(join(project, 'service.py'), SERVICE)
  await writeFile(join(project, 'bentofile.yaml'), 'service: "service:Svc"\npython:\n  lock_packages: false\n')
})
afterAll(async () => {
  await rm(root, {recursive: true, force: true})
})

async function build(env: Record<string, string>): Promise<Built & {info: {labels: Record<string, string>; services: Array<{config: {traffic: {timeout: number}}}>}}> {
  const r = await runBentoInProcess(['build', project, '--json'], {env: {...env, BENTOML_HOME: home}})
  expect(r.code, r.stdout + r.stderr).toBe(0)
  const out = JSON.parse(r.stdout) as Built
  const info = parseYaml(await readFile(join(out.path, 'bento.yaml'), 'utf8')) as {labels: Record<string, string>; services: Array<{config: {traffic: {timeout: number}}}>}
  return {...out, info}
}

describe('bento build: the service module reads the environment of the build', () => {
  it('the value of the environment, listed by name only, in one warning; same value → same tag, another → another', async () => {
    const a = await build({TIMEOUT: '600', BENTO_TEST_SECRET: 'hunter2'})
    expect(a.created).toBe(true)
    expect(a.info.services[0]?.config.traffic.timeout).toBe(600)
    expect(a.info.labels.cfg).toBe('{"secret": true, "tags": ["a", "b"], "timeout": 600}')
    expect(a.envRead).toEqual(['BENTO_TEST_SECRET', 'TIMEOUT'])
    const w = a.warnings.filter((x) => x.includes('reads the environment'))
    expect(w).toEqual([expect.stringContaining('service.py:6')])
    expect(w[0]).toContain('service.py reads the environment: BENTO_TEST_SECRET, TIMEOUT; a different value gives a different Bento')
    expect(JSON.stringify(a)).not.toContain('hunter2')

    const again = await build({TIMEOUT: '600', BENTO_TEST_SECRET: 'hunter2'})
    expect(again).toMatchObject({tag: a.tag, created: false})

    const other = await build({TIMEOUT: '601', BENTO_TEST_SECRET: 'hunter2'})
    expect(other.tag).not.toBe(a.tag)
    expect(other.info.services[0]?.config.traffic.timeout).toBe(601)

    const otherSecret = await build({TIMEOUT: '600', BENTO_TEST_SECRET: 'other'})
    expect(otherSecret.tag).not.toBe(a.tag)
  })

  it('unset: the default of os.getenv', async () => {
    const r = await runBentoInProcess(['build', project, '--json'], {env: {BENTOML_HOME: home, TIMEOUT: undefined, BENTO_TEST_SECRET: undefined}})
    expect(r.code, r.stdout + r.stderr).toBe(0)
    const out = JSON.parse(r.stdout) as Built
    const info = parseYaml(await readFile(join(out.path, 'bento.yaml'), 'utf8')) as {services: Array<{config: {traffic: {timeout: number}}}>}
    expect(info.services[0]?.config.traffic.timeout).toBe(300)
    expect(out.envRead).toEqual(['BENTO_TEST_SECRET', 'TIMEOUT'])
  })

  it('os.environ["X"] of a variable that is not set: E_CONFIG at the line naming it', async () => {
    const dir = join(root, 'missing')
    await mkdir(dir)
    await writeFile(join(dir, 'service.py'), 'import os\nimport bentoml\n\nT = os.environ["BENTO_TEST_NOT_SET"]\n\n@bentoml.service(traffic={"timeout": int(T)})\nclass Svc:\n    pass\n')
    const r = await runBentoInProcess(['build', dir, '--json'], {env: {BENTOML_HOME: home, BENTO_TEST_NOT_SET: undefined}})
    expect(r.code).toBe(3)
    const err = JSON.parse(r.stdout) as {error: {code: string; message: string}}
    expect(err.error.code).toBe('E_CONFIG')
    expect(err.error.message).toContain("service.py:4:")
    expect(err.error.message).toContain("KeyError: 'BENTO_TEST_NOT_SET'")
  })
})

/**
 * `load_dotenv()` as `bentoml build` runs it (python-dotenv 1.2, faster-whisper's `pkg/__init__.py`): the nearest
 * `.env` from the calling module's directory up (inside the build context), its variables set where the build's
 * environment does not already set them (override=False); no `.env`: the environment unchanged.
 */
describe('bento build: load_dotenv() in the service package', () => {
  const PKG_INIT = 'from dotenv import load_dotenv\n\nload_dotenv()\n'
  const PKG_SERVICE = `import os

import bentoml

TIMEOUT = int(os.getenv("DOTENV_TIMEOUT", "300"))


@bentoml.service(traffic={"timeout": TIMEOUT}, labels={"model": os.environ.get("DOTENV_MODEL", "base")})
class Svc:
    @bentoml.api
    def hi(self) -> str:
        return "hi"
`
  const dotenvProject = async (name: string, dotenv?: string): Promise<string> => {
    const dir = join(root, name)
    await mkdir(join(dir, 'pkg'), {recursive: true})
    await writeFile(join(dir, 'pkg/__init__.py'), PKG_INIT)
    await writeFile(join(dir, 'pkg/service.py'), PKG_SERVICE)
    await writeFile(join(dir, 'bentofile.yaml'), 'service: "pkg.service:Svc"\npython:\n  lock_packages: false\n')
    if (dotenv !== undefined) await writeFile(join(dir, '.env'), dotenv)
    return dir
  }
  const buildAt = async (dir: string, env: Record<string, string | undefined> = {}): Promise<{code: number; out: Built & {error?: {code: string; message: string}}; info?: {labels: Record<string, string>; services: Array<{config: {traffic: {timeout: number}}}>}}> => {
    const r = await runBentoInProcess(['build', dir, '--json'], {env: {BENTOML_HOME: home, DOTENV_TIMEOUT: undefined, DOTENV_MODEL: undefined, PYTHON_DOTENV_DISABLED: undefined, ...env}})
    const out = JSON.parse(r.stdout) as Built & {error?: {code: string; message: string}}
    if (r.code !== 0) return {code: r.code, out}
    return {code: 0, out, info: parseYaml(await readFile(join(out.path, 'bento.yaml'), 'utf8')) as {labels: Record<string, string>; services: Array<{config: {traffic: {timeout: number}}}>}}
  }

  it('no .env in the build context: the environment as it is (the defaults of os.getenv)', async () => {
    const b = await buildAt(await dotenvProject('dotenv-none'))
    expect(b.code, JSON.stringify(b.out)).toBe(0)
    expect(b.info?.services[0]?.config.traffic.timeout).toBe(300)
    expect(b.info?.labels.model).toBe('base')
  })

  it("the project's .env: its values where the environment does not set them; the names in envRead; another value, another Bento", async () => {
    const dir = await dotenvProject('dotenv-root', '# settings\nDOTENV_TIMEOUT=42\nexport DOTENV_MODEL="large-v3"\nOTHER=1\n')
    const a = await buildAt(dir)
    expect(a.code, JSON.stringify(a.out)).toBe(0)
    expect(a.info?.services[0]?.config.traffic.timeout).toBe(42)
    expect(a.info?.labels.model).toBe('large-v3')
    expect(a.out.envRead).toEqual(expect.arrayContaining(['DOTENV_MODEL', 'DOTENV_TIMEOUT']))
    // override=False: the build's environment wins.
    const b = await buildAt(dir, {DOTENV_TIMEOUT: '7'})
    expect(b.info?.services[0]?.config.traffic.timeout).toBe(7)
    expect(b.info?.labels.model).toBe('large-v3')
    await writeFile(join(dir, '.env'), 'DOTENV_TIMEOUT=43\nexport DOTENV_MODEL="large-v3"\n')
    const c = await buildAt(dir)
    expect(c.info?.services[0]?.config.traffic.timeout).toBe(43)
    expect(c.out.tag).not.toBe(a.out.tag)
  })

  it('PYTHON_DOTENV_DISABLED=1: the .env is not loaded, as python-dotenv', async () => {
    const b = await buildAt(await dotenvProject('dotenv-disabled', 'DOTENV_TIMEOUT=42\n'), {PYTHON_DOTENV_DISABLED: '1'})
    expect(b.code, JSON.stringify(b.out)).toBe(0)
    expect(b.info?.services[0]?.config.traffic.timeout).toBe(300)
  })

  it('a .env bento does not model (interpolation): E_CONFIG where a value read after it is needed', async () => {
    const b = await buildAt(await dotenvProject('dotenv-interp', 'BASE=1\nDOTENV_TIMEOUT=${BASE}0\n'))
    expect(b.code).toBe(3)
    expect(b.out.error?.message).toContain('load_dotenv')
  })
})
