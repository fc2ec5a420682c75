/**
 * Locked dependencies (issue 17), with the real uv against a local PEP 503 index started here on 127.0.0.1 over the
 * provisioned wheelhouse, behind basic auth: `bento build` locks with hashes where BentoML 1.4.40 holds the lock
 * (spec 2: env/python/requirements.txt and image.python_requirements; spec 1: env/python/requirements.lock.txt),
 * a rebuild with unchanged inputs runs no uv (counted by a wrapper set as BENTO_UV), a requirement the index lacks is
 * E_LOCK naming it and the index with the credentials masked and nothing stored, and the index credentials
 * (`${VAR}` in the index URL, expanded by uv from the build's environment) are in no file of the Bento.
 */
import {mkdir, readdir, readFile, rm, writeFile} from 'node:fs/promises'
import {createHash} from 'node:crypto'
import {existsSync} from 'node:fs'
import {join} from 'node:path'

import {afterAll, beforeAll, describe, expect, it} from 'vitest'
import {parse as parseYaml} from 'yaml'

import {lockPlatform, lockRequirements, uvTool} from '../../src/lock/index.js'
import {silentReporter} from '../../src/reporter.js'
import {build} from '../../src/services/build.js'
import {runBentoInProcess} from '../helpers/cli-in-process.js'
import {runBentoml, tempDir} from '../helpers/env.js'
import {type LocalIndex, startLocalIndex} from '../helpers/pypi-index.js'
import {lockedService} from '../helpers/projects.js'
import {countingUv, WHEELHOUSE} from '../helpers/uv.js'

const USER = 'lockuser'
const TOKEN = 's3cr3t-t0ken-4242'

const LEGACY_SERVICE = `import bentoml

svc = bentoml.legacy.Service("legacy_locked", runners=[])
`

let root: string
let index: LocalIndex
let wrapper: string
let compileCalls: () => Promise<number>

function envFor(extra: Record<string, string> = {}): Record<string, string> {
  // UV_HTTP_RETRIES=0: an index that is down fails at once (uv retries 3 times over ~10 s by default).
  return {PATH: '/usr/local/bin:/usr/bin:/bin', HOME: root, UV_CACHE_DIR: join(root, 'uv-cache'), UV_HTTP_RETRIES: '0', BENTO_UV: wrapper, IDX_USER: USER, IDX_TOKEN: TOKEN, ...extra}
}

async function project(name: string, bentofile: string, service = lockedService()): Promise<string> {
  const dir = join(root, name)
  await mkdir(dir, {recursive: true})
  await writeFile(join(dir, 'service.py'), service)
  await writeFile(join(dir, 'bentofile.yaml'), bentofile)
  return dir
}

async function filesOf(dir: string): Promise<string[]> {
  const out: string[] = []
  for (const e of await readdir(dir, {withFileTypes: true, recursive: true})) if (e.isFile()) out.push(join(e.parentPath, e.name))
  return out
}

function sha256(text: string): string {
  return createHash('sha256').update(text).digest('hex')
}

beforeAll(async () => {
  root = await tempDir('bento-lock-')
  index = await startLocalIndex(WHEELHOUSE, {auth: {user: USER, password: TOKEN}})
  const uv = await countingUv(root)
  wrapper = uv.path
  compileCalls = uv.pipRuns
})
afterAll(async () => {
  await index?.close()
  await rm(root, {recursive: true, force: true})
})

const indexUrl = (): string => `http://\${IDX_USER}:\${IDX_TOKEN}@127.0.0.1:${index.port}/simple`

describe('bento build locks the requirements (uv, hashed, cached)', () => {
  it('spec 2: env/python/requirements.txt and image.python_requirements hold the hashed lock; the credentials are in no file', async () => {
    const dir = await project('sdk', `service: "service:Locked"\npython:\n  packages: [attrs]\n  index_url: "${indexUrl()}"\n`)
    const home = join(root, 'home-sdk')
    const before = await compileCalls()
    const r = await build({projectDir: dir, home, reporter: silentReporter, env: envFor()})
    expect(await compileCalls()).toBe(before + 1)
    const lock = await readFile(join(r.path, 'env/python/requirements.txt'), 'utf8')
    expect(lock).toMatch(/^attrs==[^\n]+\\\n\s+--hash=sha256:[0-9a-f]{64}/m)
    expect(lock).toMatch(/^bentoml==1\.4\.40 \\\n\s+--hash=sha256:/m)
    // Every pinned package carries a hash.
    const pins = lock.split('\n').filter((l) => /^[A-Za-z0-9]/.test(l))
    expect(pins.length).toBeGreaterThan(20)
    for (const p of pins) expect(p, p).toMatch(/==\S+ \\$/)
    expect(lock).toContain('--index-url http://${IDX_USER}:${IDX_TOKEN}@127.0.0.1:')
    expect(await readFile(join(r.path, 'env/python/requirements.in'), 'utf8')).toMatch(/^attrs\nbentoml==1\.4\.40\n$/m)
    const info = parseYaml(await readFile(join(r.path, 'bento.yaml'), 'utf8')) as {labels: Record<string, string>; image: {python_requirements: string}}
    expect(info.image.python_requirements).toBe(lock)
    expect(info.labels['dev.bento.lock.sha256']).toBe(sha256(lock))
    expect(r.lock).toMatchObject({sha256: sha256(lock), platform: 'linux/amd64', pythonVersion: '3.11', cached: false})
    for (const f of await filesOf(r.path)) {
      const bytes = await readFile(f, 'latin1')
      expect(bytes.includes(TOKEN), f).toBe(false)
    }

    // Unchanged inputs: the cached lock, no uv at all; the same Bento.
    const again = await build({projectDir: dir, home, reporter: silentReporter, env: envFor()})
    expect(await compileCalls()).toBe(before + 1)
    expect(again.tag).toBe(r.tag)
    expect(again.created).toBe(false)
    // Even into another store path of the same home after a delete: the lock comes from the cache.
    await rm(r.path, {recursive: true})
    const third = await build({projectDir: dir, home, reporter: silentReporter, env: envFor({BENTO_UV: join(root, 'no-such-uv-is-needed')})}).catch((e: unknown) => e)
    expect(third).toMatchObject({code: 'E_UV_NOT_FOUND'})
    const fourth = await build({projectDir: dir, home, reporter: silentReporter, env: envFor()})
    expect(await compileCalls()).toBe(before + 1)
    expect(fourth.tag).toBe(r.tag)
    expect(fourth.lock?.cached).toBe(true)
  })

  it('--platform linux/arm64 is another lock (uv runs again) for aarch64; one the index cannot serve is E_LOCK naming the package', async () => {
    const base = {requirements: ['attrs'], optionLines: [`--index-url ${indexUrl()}`], pythonVersion: '3.11', home: join(root, 'home-arm'), cwd: root, env: envFor()}
    const uv = await uvTool(wrapper, envFor())
    const before = await compileCalls()
    const amd = await lockRequirements({...base, uv, platform: lockPlatform('linux/amd64')})
    const arm = await lockRequirements({...base, uv, platform: lockPlatform('linux/arm64')})
    expect(await compileCalls()).toBe(before + 2)
    expect(arm.key).not.toBe(amd.key)
    expect(arm.text).toMatch(/^# bento lock: python 3\.11, linux\/arm64 \(aarch64-manylinux_2_36\)/)
    expect(arm.text).toMatch(/^attrs==\S+ \\\n\s+--hash=sha256:/m)
    // The wheelhouse has x86_64 wheels only: bentoml 1.4.40 (aiohttp) cannot be locked for arm64 from it.
    const err = await lockRequirements({...base, requirements: ['bentoml==1.4.40'], uv, platform: lockPlatform('linux/arm64')}).catch((e: unknown) => e)
    expect(err).toMatchObject({code: 'E_LOCK', data: {requirement: 'aiohttp==3.14.5', platform: 'linux/arm64'}})
    expect(String((err as Error).message)).toContain('manylinux_2_36_aarch64')
    expect(() => lockPlatform('linux/s390')).toThrow(/--platform "linux\/s390"/)
  })

  it('spec 1: env/python/requirements.lock.txt holds the hashed lock, requirements.txt the unlocked lines', async () => {
    const dir = await project('legacy', `service: "service:svc"\npython:\n  packages: [attrs]\n  index_url: "${indexUrl()}"\n`, LEGACY_SERVICE)
    const r = await build({projectDir: dir, home: join(root, 'home-legacy'), reporter: silentReporter, env: envFor()})
    const lock = await readFile(join(r.path, 'env/python/requirements.lock.txt'), 'utf8')
    expect(lock).toMatch(/^attrs==\S+ \\\n\s+--hash=sha256:/m)
    expect(await readFile(join(r.path, 'env/python/requirements.txt'), 'utf8')).toBe('attrs\nbentoml==1.4.40\n')
    const info = parseYaml(await readFile(join(r.path, 'bento.yaml'), 'utf8')) as {labels: Record<string, string>}
    expect(info.labels['dev.bento.lock.sha256']).toBe(sha256(lock))
    for (const f of await filesOf(r.path)) expect((await readFile(f, 'latin1')).includes(TOKEN), f).toBe(false)
  })

  it('a requirement the index does not have: E_LOCK naming it and the index, credentials masked, nothing stored', async () => {
    const dir = await project('missing', `service: "service:Locked"\npython:\n  packages: [attrs, no-such-package-xyz]\n  index_url: "${indexUrl()}"\n`)
    const home = join(root, 'home-missing')
    const err = (await build({projectDir: dir, home, reporter: silentReporter, env: envFor()}).catch((e: unknown) => e)) as {code: string; exitCode: number; message: string; toJSON: () => unknown}
    expect(err).toMatchObject({code: 'E_LOCK', exitCode: 3})
    expect(err.message).toContain('no-such-package-xyz')
    expect(err.message).toContain(`127.0.0.1:${index.port}/simple`)
    expect(JSON.stringify(err.toJSON())).not.toContain(TOKEN)
    expect(err.message).not.toContain(TOKEN)
    const stored = existsSync(join(home, 'bentos')) ? await readdir(join(home, 'bentos')) : []
    expect(stored).toEqual([])
    const locks = existsSync(join(home, '.bento/locks')) ? (await readdir(join(home, '.bento/locks'))).filter((f) => f.endsWith('.txt')) : []
    expect(locks).toEqual([])
  })

  it('literal credentials in the index URL never reach the lock (a warning names the key), and are masked in errors', async () => {
    const literal = `http://${USER}:${TOKEN}@127.0.0.1:${index.port}/simple`
    const dir = await project('literal', `service: "service:Locked"\npython:\n  packages: [no-such-package-xyz]\n  index_url: "${literal}"\n`)
    const err = (await build({projectDir: dir, home: join(root, 'home-literal'), reporter: silentReporter, env: envFor()}).catch((e: unknown) => e)) as {code: string; message: string; toJSON: () => unknown}
    expect(err).toMatchObject({code: 'E_LOCK'})
    expect(JSON.stringify(err.toJSON())).not.toContain(TOKEN)

    // A lock that resolves: the lock holds the index without them, and a warning says the bentofile holds them.
    const ok = await project('literal-ok', `service: "service:Locked"\npython:\n  packages: [attrs]\n  index_url: "${literal}"\n`)
    const r = await build({projectDir: ok, home: join(root, 'home-literal'), reporter: silentReporter, env: envFor()})
    const lock = await readFile(join(r.path, 'env/python/requirements.txt'), 'utf8')
    expect(lock).toContain(`--index-url http://127.0.0.1:${index.port}/simple\n`)
    expect(lock).not.toContain(TOKEN)
    expect(r.warnings.some((w) => w.includes('python.index_url') && w.includes('holds credentials'))).toBe(true)
  })

  it('differential: the package set equals the one the real bentoml build 1.4.40 locks from the same index', async () => {
    // Not "Locked": bentoml build prints `__tag__:locked:…`, which rich renders as an emoji (`:locked:` → 🔒).
    const bentofile = `service: "service:Differential"\ninclude: ["*.py"]\npython:\n  packages: [scikit-learn, numpy]\n  no_index: true\n  find_links: ["${WHEELHOUSE}"]\n`
    const dir = await project('differential', bentofile, lockedService().replace('class Locked', 'class Differential'))
    const ours = await build({projectDir: dir, home: join(root, 'home-diff-bento'), reporter: silentReporter, env: envFor()})
    const real = await runBentoml(['build', '--output', 'tag'], join(root, 'home-diff-bentoml'), {cwd: dir, version: '1.4.40', env: {UV_CACHE_DIR: join(root, 'uv-cache')}})
    expect(real.code, real.stderr).toBe(0)
    const tag = /__tag__:(\S+)/.exec(real.stdout)?.[1]
    expect(tag, real.stdout + real.stderr).toBeDefined()
    const [name, version] = (tag as string).split(':') as [string, string]
    const theirs = await readFile(join(root, 'home-diff-bentoml/bentos', name, version, 'env/python/requirements.txt'), 'utf8')
    const pins = (text: string): string[] =>
      text.split('\n').map((l) => /^([A-Za-z0-9][A-Za-z0-9._-]*)==(\S+)/.exec(l)).filter((m) => m !== null).map((m) => `${m[1]!.toLowerCase().replace(/[-_.]+/g, '-')}==${m[2]!}`).sort()
    const mine = pins(await readFile(join(ours.path, 'env/python/requirements.txt'), 'utf8'))
    expect(mine.length).toBeGreaterThan(20)
    expect(mine).toEqual(pins(theirs))
    // BentoML's lock has no hash; ours has one per package.
    expect(theirs).not.toContain('--hash=')
  })

  it('--no-lock and python.lock_packages: false build unlocked and run no uv', async () => {
    const before = await compileCalls()
    const a = await project('nolock', `service: "service:Locked"\npython:\n  packages: [attrs]\n`)
    const r1 = await build({projectDir: a, home: join(root, 'home-nolock'), reporter: silentReporter, env: envFor(), noLock: true})
    const b = await project('nolock-cfg', `service: "service:Locked"\npython:\n  packages: [attrs]\n  lock_packages: false\n`)
    const r2 = await build({projectDir: b, home: join(root, 'home-nolock'), reporter: silentReporter, env: envFor()})
    expect(await compileCalls()).toBe(before)
    for (const r of [r1, r2]) {
      expect(r.lock).toBeNull()
      expect(await readFile(join(r.path, 'env/python/requirements.txt'), 'utf8')).toBe('attrs\nbentoml==1.4.40\n')
    }
  })

  it('without uv: the default builds unlocked; python.lock_packages: true is E_UV_NOT_FOUND with the fix', async () => {
    const env = envFor({PATH: join(root, 'empty-path')})
    delete (env as Record<string, string | undefined>).BENTO_UV
    const a = await project('no-uv', `service: "service:Locked"\npython:\n  packages: [attrs]\n`)
    const r = await build({projectDir: a, home: join(root, 'home-no-uv'), reporter: silentReporter, env})
    expect(r.lock).toBeNull()
    const b = await project('no-uv-asked', `service: "service:Locked"\npython:\n  packages: [attrs]\n  lock_packages: true\n`)
    const err = (await build({projectDir: b, home: join(root, 'home-no-uv'), reporter: silentReporter, env}).catch((e: unknown) => e)) as {code: string; exitCode: number; hint: string}
    expect(err).toMatchObject({code: 'E_UV_NOT_FOUND', exitCode: 4})
    expect(err.hint).toContain('BENTO_UV')
    expect(err.hint).toContain('--no-lock')
  })

  it('--trusted-host stays in the lock (uv drops it from its output): pip in the image accepts the http index', async () => {
    const base = {requirements: ['attrs'], pythonVersion: '3.11', home: join(root, 'home-trusted'), cwd: root, env: envFor(), platform: lockPlatform('linux/amd64')}
    const uv = await uvTool(wrapper, envFor())
    const lock = await lockRequirements({...base, uv, optionLines: [`--index-url ${indexUrl()}`, '--trusted-host 127.0.0.1']})
    expect(lock.text).toMatch(/^--index-url http:\/\/\$\{IDX_USER\}:\$\{IDX_TOKEN\}@127\.0\.0\.1:\d+\/simple\n/m)
    expect(lock.text).toMatch(/^--trusted-host 127\.0\.0\.1$/m)
    expect(lock.text).toMatch(/^attrs==\S+ \\\n\s+--hash=sha256:/m)
  })

  it("uv's resolution settings from the environment (UV_PRERELEASE, UV_EXCLUDE_NEWER, UV_INDEX_URL, …) are part of the cache key", async () => {
    const base = {requirements: ['attrs'], optionLines: [`--index-url ${indexUrl()}`], pythonVersion: '3.11', home: join(root, 'home-envkey'), cwd: root, platform: lockPlatform('linux/amd64')}
    const uv = await uvTool(wrapper, envFor())
    const before = await compileCalls()
    const a = await lockRequirements({...base, uv, env: envFor()})
    const b = await lockRequirements({...base, uv, env: envFor({UV_PRERELEASE: 'allow'})})
    const c = await lockRequirements({...base, uv, env: envFor({UV_PRERELEASE: 'allow'})})
    // Not a resolution setting: the same lock.
    const d = await lockRequirements({...base, uv, env: envFor({UV_NO_PROGRESS: '1', SOME_OTHER_VAR: 'x'})})
    expect(await compileCalls()).toBe(before + 2)
    expect(b.key).not.toBe(a.key)
    expect(c).toMatchObject({key: b.key, cached: true})
    expect(d).toMatchObject({key: a.key, cached: true})
  })

  it('UV_INDEX_URL is the index uv asks: E_LOCK names it (credentials masked), not the default', async () => {
    const down = `http://${USER}:${TOKEN}@127.0.0.1:9/simple`
    const dir = await project('uv-index-env', `service: "service:Locked"\npython:\n  packages: [attrs]\n`)
    const home = join(root, 'home-uv-index-env')
    const err = (await build({projectDir: dir, home, reporter: silentReporter, env: envFor({UV_INDEX_URL: down})}).catch((e: unknown) => e)) as {code: string; message: string; data: {indexes: string[]}; toJSON: () => unknown}
    expect(err).toMatchObject({code: 'E_LOCK'})
    expect(err.data.indexes).toEqual(['http://***@127.0.0.1:9/simple (UV_INDEX_URL)'])
    expect(err.message).toContain('http://***@127.0.0.1:9/simple (UV_INDEX_URL)')
    expect(err.message).not.toContain('pypi.org')
    expect(JSON.stringify(err.toJSON())).not.toContain(TOKEN)
    expect(existsSync(join(home, 'bentos')) ? await readdir(join(home, 'bentos')) : []).toEqual([])
  })
})

describe('a lock that cannot be made: E_LOCK (exit 3) naming the requirement and the index, credentials masked, nothing stored', () => {
  async function expectNothingStored(home: string): Promise<void> {
    expect(existsSync(join(home, 'bentos')) ? await readdir(join(home, 'bentos')) : []).toEqual([])
    const locks = existsSync(join(home, '.bento/locks')) ? (await readdir(join(home, '.bento/locks'))).filter((f) => !f.endsWith('.version')) : []
    expect(locks).toEqual([])
  }

  it('conflicting requirements: names the requirement', async () => {
    const dir = await project('conflict', `service: "service:Locked"\npython:\n  packages: ["attrs==26.1.0", "attrs<26"]\n  index_url: "${indexUrl()}"\n`)
    const home = join(root, 'home-conflict')
    const err = (await build({projectDir: dir, home, reporter: silentReporter, env: envFor()}).catch((e: unknown) => e)) as {code: string; exitCode: number; message: string; data: {requirement?: string; indexes: string[]}}
    expect(err).toMatchObject({code: 'E_LOCK', exitCode: 3})
    expect(err.data.requirement).toBe('attrs==26.1.0')
    expect(err.message).toContain('attrs==26.1.0 and attrs<26 conflict')
    expect(err.data.indexes).toEqual([`http://\${IDX_USER}:\${IDX_TOKEN}@127.0.0.1:${index.port}/simple`])
    expect(err.message).not.toContain(TOKEN)
    await expectNothingStored(home)
  })

  it('an index that is down: names the index and the requirement asked', async () => {
    const dir = await project('down', `service: "service:Locked"\npython:\n  packages: [attrs]\n  index_url: "http://\${IDX_USER}:\${IDX_TOKEN}@127.0.0.1:9/simple"\n`)
    const home = join(root, 'home-down')
    const err = (await build({projectDir: dir, home, reporter: silentReporter, env: envFor()}).catch((e: unknown) => e)) as {code: string; exitCode: number; message: string; toJSON: () => unknown}
    expect(err).toMatchObject({code: 'E_LOCK', exitCode: 3})
    expect(err.message).toContain('127.0.0.1:9/simple')
    expect(err.message).toMatch(/attrs/)
    expect(err.message).toMatch(/Connection refused|connect/i)
    expect(JSON.stringify(err.toJSON())).not.toContain(TOKEN)
    await expectNothingStored(home)
  })

  it('credentials the index refuses (401): names the index, the token masked in the message and in --json', async () => {
    const wrong = `wrong-${TOKEN}`
    const dir = await project('refused', `service: "service:Locked"\npython:\n  packages: [attrs]\n  index_url: "${indexUrl()}"\n`)
    const home = join(root, 'home-refused')
    const r = await runBentoInProcess(['build', dir, '--json'], {env: {...envFor({IDX_TOKEN: wrong}), BENTOML_HOME: home}})
    expect(r.code, r.stderr).toBe(3)
    expect(r.stdout + r.stderr).not.toContain(wrong)
    const json = JSON.parse(r.stdout) as {error: {code: string; message: string; indexes: string[]; requirement?: string}}
    expect(json.error.code).toBe('E_LOCK')
    expect(json.error.message).toContain(`127.0.0.1:${index.port}/simple`)
    // uv names the first requirement it could not find (bentoml here), and says the index refused the credentials.
    expect(json.error.requirement).toMatch(/^(attrs|bentoml)/)
    expect(json.error.message).toMatch(/401 Unauthorized/)
    // A literal token in the URL is masked as well.
    const literal = await project('refused-literal', `service: "service:Locked"\npython:\n  packages: [attrs]\n  index_url: "http://${USER}:${wrong}@127.0.0.1:${index.port}/simple"\n`)
    const r2 = await runBentoInProcess(['build', literal, '--json'], {env: {...envFor(), BENTOML_HOME: home}})
    expect(r2.code, r2.stderr).toBe(3)
    expect(r2.stdout + r2.stderr).not.toContain(wrong)
    expect((JSON.parse(r2.stdout) as {error: {message: string}}).error.message).toContain(`http://***@127.0.0.1:${index.port}/simple`)
    await expectNothingStored(home)
  })
})
