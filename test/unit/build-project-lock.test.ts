/**
 * `bento build` in a project that holds its own lock (issue 17, scope 4): the `uv.lock` (locked here by the real uv
 * against a local index over the wheelhouse) is read statically for the image's Python and platform, and no resolver
 * runs (BENTO_UV names no file: looking for uv would fail the build). `Image(...).uv_lock()` reads it as well (BentoML
 * 1.4.40 runs `uv export` there). The Bento's requirement lines must be in the lock; a line that is not, a target the
 * lock does not cover, or `uv_lock()` without a uv.lock is E_LOCK naming the file.
 */
import {execFile} from 'node:child_process'
import {readFile, rm} from 'node:fs/promises'
import {join} from 'node:path'
import {promisify} from 'node:util'

import {afterAll, beforeAll, describe, expect, it} from 'vitest'
import {parse as parseYaml} from 'yaml'

import {silentReporter} from '../../src/reporter.js'
import {build} from '../../src/services/build.js'
import {tempDir} from '../helpers/env.js'
import {writeTree} from '../helpers/files.js'
import {lockedService} from '../helpers/projects.js'
import {type LocalIndex, startLocalIndex} from '../helpers/pypi-index.js'
import {realUv, WHEELHOUSE} from '../helpers/uv.js'

const run = promisify(execFile)

const PYPROJECT = `[project]
name = "locked-svc"
version = "0.1.0"
requires-python = ">=3.11"
dependencies = ["bentoml==1.4.40", "attrs", "idna; platform_machine == 'x86_64'"]

[tool.uv]
environments = ["sys_platform == 'linux' and implementation_name == 'cpython'"]
`

let root: string
let index: LocalIndex
let uvLock: string

async function project(name: string, files: Record<string, string>): Promise<string> {
  return writeTree(join(root, name), files)
}

/** No uv anywhere: BENTO_UV names a file that does not exist, so a build that looked for uv would fail E_UV_NOT_FOUND. */
const env = (): Record<string, string> => ({PATH: '/usr/bin:/bin', HOME: root, BENTO_UV: join(root, 'no-uv-here')})

beforeAll(async () => {
  root = await tempDir('bento-project-lock-')
  index = await startLocalIndex(WHEELHOUSE)
  const dir = await project('lockgen', {'pyproject.toml': PYPROJECT})
  await run(realUv(), ['lock', '--index-url', index.url, '--quiet'], {cwd: dir, env: {...process.env, UV_PYTHON_DOWNLOADS: 'never', UV_CACHE_DIR: join(root, 'uv-cache')}})
  uvLock = await readFile(join(dir, 'uv.lock'), 'utf8')
}, 120_000)
afterAll(async () => {
  await index?.close()
  await rm(root, {recursive: true, force: true})
})

describe('bento build reads the project\'s uv.lock (no resolver)', () => {
  it('a bentofile project holding uv.lock: the Bento\'s lock is its set for python 3.11, linux/amd64, hashed', async () => {
    const dir = await project('auto', {'pyproject.toml': PYPROJECT, 'uv.lock': uvLock, 'service.py': lockedService(''), 'bentofile.yaml': 'service: "service:Locked"\npython:\n  packages: [attrs]\ndocker:\n  python_version: "3.11"\n'})
    const r = await build({projectDir: dir, home: join(root, 'home-auto'), reporter: silentReporter, env: env()})
    const lock = await readFile(join(r.path, 'env/python/requirements.txt'), 'utf8')
    expect(lock).toMatch(/^# bento lock: read from uv\.lock \(no resolver ran\): python 3\.11, linux\/amd64/)
    expect(lock).toMatch(/^bentoml==1\.4\.40 \\\n {4}--hash=sha256:[0-9a-f]{64}/m)
    expect(lock).toMatch(/^idna==\S+ \\$/m)
    expect(lock).not.toMatch(/^locked-svc/m)
    expect(r.lock).toMatchObject({platform: 'linux/amd64', pythonVersion: '3.11', source: 'uv.lock'})
    const info = parseYaml(await readFile(join(r.path, 'bento.yaml'), 'utf8')) as {image: {python_requirements: string}}
    expect(info.image.python_requirements).toBe(lock)
  }, 120_000)

  it('Image(...).uv_lock(): the same set; without a uv.lock it is E_LOCK naming the file', async () => {
    const image = 'image = bentoml.images.Image(python_version="3.11").uv_lock()'
    const dir = await project('sdk', {'pyproject.toml': PYPROJECT, 'uv.lock': uvLock, 'service.py': lockedService(image), 'bentofile.yaml': 'service: "service:Locked"\n'})
    const r = await build({projectDir: dir, home: join(root, 'home-sdk'), reporter: silentReporter, env: env()})
    expect(await readFile(join(r.path, 'env/python/requirements.txt'), 'utf8')).toMatch(/^# bento lock: read from uv\.lock/)
    const bare = await project('sdk-bare', {'pyproject.toml': PYPROJECT, 'service.py': lockedService(image), 'bentofile.yaml': 'service: "service:Locked"\n'})
    await expect(build({projectDir: bare, home: join(root, 'home-bare'), reporter: silentReporter, env: env()})).rejects.toMatchObject({code: 'E_LOCK', message: expect.stringMatching(/uv_lock\(\).*uv\.lock/s)})
  }, 120_000)

  it('a requirement the lock does not hold is E_LOCK naming it and the file; nothing stored', async () => {
    const dir = await project('missing', {'pyproject.toml': PYPROJECT, 'uv.lock': uvLock, 'service.py': lockedService(''), 'bentofile.yaml': 'service: "service:Locked"\npython:\n  packages: [joblib]\ndocker:\n  python_version: "3.11"\n'})
    const home = join(root, 'home-missing')
    await expect(build({projectDir: dir, home, reporter: silentReporter, env: env()})).rejects.toMatchObject({code: 'E_LOCK', message: expect.stringMatching(/uv\.lock.*joblib/s)})
    await expect(readFile(join(home, 'bentos', 'locked', 'latest'), 'utf8')).rejects.toThrow()
  }, 120_000)

  it('--platform linux/arm64: the lock has no aarch64 wheel for a package (the wheelhouse is x86_64): E_LOCK naming uv.lock', async () => {
    const dir = await project('arm', {'pyproject.toml': PYPROJECT, 'uv.lock': uvLock, 'service.py': lockedService(''), 'bentofile.yaml': 'service: "service:Locked"\ndocker:\n  python_version: "3.11"\n'})
    await expect(build({projectDir: dir, home: join(root, 'home-arm'), reporter: silentReporter, env: env(), platform: 'linux/arm64'})).rejects.toMatchObject({code: 'E_LOCK', message: expect.stringMatching(/^uv\.lock does not cover python 3\.11, linux\/arm64: \S+ \S+ has no wheel/)})
  }, 120_000)

  it('--no-lock: the lines unlocked, the uv.lock ignored', async () => {
    const dir = await project('nolock', {'pyproject.toml': PYPROJECT, 'uv.lock': uvLock, 'service.py': lockedService(''), 'bentofile.yaml': 'service: "service:Locked"\npython:\n  packages: [pathspec]\n'})
    const r = await build({projectDir: dir, home: join(root, 'home-nolock'), reporter: silentReporter, env: env(), noLock: true})
    expect(r.lock).toBeNull()
  }, 120_000)
})
