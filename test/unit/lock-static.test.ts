/**
 * `uv.lock` and `pylock.toml` read statically (issue 17, scope 4): a small uv project of our own, locked here by the
 * real uv against a local PEP 503 index over the provisioned wheelhouse, with markers for linux/amd64 vs linux/arm64
 * and python 3.11 vs 3.12, an extra and two dependency groups. For every target, the pinned set bento reads (no uv
 * runs) equals what uv itself installs from `uv export --frozen` for that target: the export's lines with their
 * markers evaluated by uv (`uv pip compile --no-deps --python-platform P --python-version V --generate-hashes`), hashes
 * included. The same for the `pylock.toml` that `uv export --format pylock.toml` writes.
 */
import {execFile} from 'node:child_process'
import {mkdir, readFile, writeFile} from 'node:fs/promises'
import {join} from 'node:path'
import {promisify} from 'node:util'

import {afterAll, beforeAll, describe, expect, it} from 'vitest'

import {LockError} from '../../src/errors.js'
import {lockPlatform} from '../../src/lock/index.js'
import {readProjectLock, type StaticLock} from '../../src/lock/static.js'
import {tempDir} from '../helpers/env.js'
import {type LocalIndex, startLocalIndex} from '../helpers/pypi-index.js'
import {realUv, WHEELHOUSE} from '../helpers/uv.js'

const run = promisify(execFile)
const UV_ENV = {...process.env, UV_PYTHON_DOWNLOADS: 'never', UV_NO_PROGRESS: '1', NO_COLOR: '1', UV_CACHE_DIR: ''}

const PYPROJECT = `[project]
name = "static-demo"
version = "0.1.0"
requires-python = ">=3.11"
dependencies = [
  "idna; platform_machine == 'x86_64'",
  "h11; platform_machine == 'aarch64'",
  "markdown-it-py; python_version < '3.12'",
  "attrs; python_version >= '3.12'",
  "certifi",
]

[project.optional-dependencies]
web = ["appdirs"]

[dependency-groups]
dev = ["packaging"]
lint = ["pathspec"]
`

const TARGETS = [
  {platform: 'linux/amd64', python: '3.11'},
  {platform: 'linux/amd64', python: '3.12'},
  {platform: 'linux/arm64', python: '3.11'},
  {platform: 'linux/arm64', python: '3.12'},
] as const

let root: string
let project: string
let index: LocalIndex

async function uv(args: string[], cwd: string): Promise<string> {
  const r = await run(realUv(), args, {cwd, env: {...UV_ENV, UV_CACHE_DIR: join(root, 'uv-cache')}})
  return r.stdout
}

/** name==version → sorted hashes, from a requirements file with `--hash` lines. */
function pinned(text: string): Record<string, string[]> {
  const out: Record<string, string[]> = {}
  let cur: string | null = null
  for (const raw of text.split('\n')) {
    const line = raw.replace(/\\$/, '').trim()
    if (line === '' || line.startsWith('#')) continue
    if (line.startsWith('--hash=') && cur !== null) (out[cur] as string[]).push(line.slice('--hash='.length))
    else if (!line.startsWith('-')) {
      cur = (line.split(';')[0] as string).trim().toLowerCase()
      out[cur] = []
    } else cur = null
  }
  for (const k of Object.keys(out)) out[k]?.sort()
  return out
}

/** What uv installs from `uv export --frozen` for the target: its markers evaluated by uv itself. */
async function uvTruth(exportArgs: string[], platform: string, python: string): Promise<Record<string, string[]>> {
  const exported = await uv(['export', '--frozen', '--no-hashes', '--no-header', '--no-annotate', '--no-emit-project', ...exportArgs], project)
  const file = join(root, `export-${platform.replace('/', '-')}-${python}-${exportArgs.join('')}.txt`)
  await writeFile(file, exported)
  const compiled = await uv(
    ['pip', 'compile', file, '--no-deps', '--generate-hashes', '--no-header', '--no-annotate', '--python-platform', lockPlatform(platform).uvTarget, '--python-version', python, '--index-url', index.url, '--quiet'],
    project,
  )
  return pinned(compiled)
}

function read(file: 'uv.lock' | 'pylock.toml', platform: string, python: string, extra: {extras?: string[]; groups?: string[]} = {}): Promise<StaticLock> {
  return readProjectLock({projectDir: project, file, platform: lockPlatform(platform), pythonVersion: python, ...extra})
}

beforeAll(async () => {
  root = await tempDir('bento-lock-static-')
  index = await startLocalIndex(WHEELHOUSE)
  project = join(root, 'project')
  await mkdir(project)
  await writeFile(join(project, 'pyproject.toml'), PYPROJECT)
  await uv(['lock', '--index-url', index.url, '--quiet'], project)
  await writeFile(join(project, 'pylock.toml'), await uv(['export', '--frozen', '--format', 'pylock.toml', '--no-emit-project', '--quiet'], project))
}, 120_000)

afterAll(async () => {
  await index?.close()
})

describe('uv.lock read statically', () => {
  it.each(TARGETS)('$platform, python $python: the set uv export gives for the target, with its hashes', async ({platform, python}) => {
    const lock = await read('uv.lock', platform, python)
    expect(pinned(lock.text)).toEqual(await uvTruth([], platform, python))
    expect(lock.source).toBe('uv.lock')
    expect(lock.packages).toBe(Object.keys(pinned(lock.text)).length)
    expect(lock.text).not.toMatch(/static-demo/)
  }, 60_000)

  it('extras and groups as uv export takes them (--extra web, --only-group lint)', async () => {
    expect(pinned((await read('uv.lock', 'linux/arm64', '3.12', {extras: ['web'], groups: ['lint']})).text)).toEqual(await uvTruth(['--extra', 'web', '--no-default-groups', '--group', 'lint'], 'linux/arm64', '3.12'))
  }, 60_000)

  it('the index the lock names is in the lock file, every package pinned with its hash', async () => {
    const lock = await read('uv.lock', 'linux/amd64', '3.11')
    expect(lock.text).toMatch(new RegExp(`^--index-url ${index.url.replace(/[.]/g, '\\.')}$`, 'm'))
    expect(lock.text).toMatch(/^idna==3\.21 \\\n {4}--hash=sha256:[0-9a-f]{64}$/m)
  })

  it('a python the lock does not cover is E_LOCK naming the file', async () => {
    const error = await read('uv.lock', 'linux/amd64', '3.10').catch((e: unknown) => e)
    expect(error).toBeInstanceOf(LockError)
    expect((error as LockError).message).toMatch(/uv\.lock/)
    expect((error as LockError).message).toMatch(/3\.10/)
  })

  it('a package with no wheel for the platform (and no sdist) is E_LOCK naming the file, the package and the platform', async () => {
    const dir = join(root, 'nowheel')
    await mkdir(dir, {recursive: true})
    await writeFile(
      join(dir, 'uv.lock'),
      `version = 1
revision = 3
requires-python = ">=3.11"

[[package]]
name = "app"
version = "0.1.0"
source = { virtual = "." }
dependencies = [{ name = "fastpkg" }]

[[package]]
name = "fastpkg"
version = "1.0.0"
source = { registry = "https://pypi.org/simple" }
wheels = [
    { url = "https://files.example/fastpkg-1.0.0-cp311-cp311-manylinux_2_17_x86_64.whl", hash = "sha256:${'a'.repeat(64)}" },
]
`,
    )
    const ok = await readProjectLock({projectDir: dir, file: 'uv.lock', platform: lockPlatform('linux/amd64'), pythonVersion: '3.11'})
    expect(ok.text).toMatch(/^fastpkg==1\.0\.0 \\$/m)
    const error = await readProjectLock({projectDir: dir, file: 'uv.lock', platform: lockPlatform('linux/arm64'), pythonVersion: '3.11'}).catch((e: unknown) => e)
    expect(error).toBeInstanceOf(LockError)
    expect((error as LockError).message).toMatch(/^uv\.lock does not cover python 3\.11, linux\/arm64: fastpkg 1\.0\.0 has no wheel for it/)
  })

  it('a lock that is not TOML is E_LOCK naming the file', async () => {
    const dir = join(root, 'broken')
    await mkdir(dir, {recursive: true})
    await writeFile(join(dir, 'uv.lock'), 'version = = 1\n')
    await expect(readProjectLock({projectDir: dir, file: 'uv.lock', platform: lockPlatform('linux/amd64'), pythonVersion: '3.11'})).rejects.toThrow(/uv\.lock/)
  })
})

describe('pylock.toml read statically', () => {
  it.each(TARGETS)('$platform, python $python: the same set as uv export for the target', async ({platform, python}) => {
    const lock = await read('pylock.toml', platform, python)
    expect(pinned(lock.text)).toEqual(await uvTruth([], platform, python))
    expect(lock.source).toBe('pylock.toml')
    expect((await readFile(join(project, 'pylock.toml'), 'utf8')).length).toBeGreaterThan(0)
  }, 60_000)
})
