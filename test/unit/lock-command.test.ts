/**
 * `bento lock [--platform a,b] [--check] [--json]` (issue 17, scope 6), with the real uv against a local index over
 * the wheelhouse: it writes bento-lock.json in the project (one hashed lock per platform, the same lock the build
 * computes, into the same cache); a build then takes its lock from that file when the inputs match (no resolver, no
 * cache needed); `--check` runs no resolver and exits 10 (E_LOCK_DRIFT) with a report of what drifted.
 */
import {mkdir, readFile, rm, writeFile} from 'node:fs/promises'
import {join} from 'node:path'

import {afterAll, beforeAll, describe, expect, it} from 'vitest'

import {silentReporter} from '../../src/reporter.js'
import {build} from '../../src/services/build.js'
import {lock} from '../../src/services/lock.js'
import {runBentoInProcess} from '../helpers/cli-in-process.js'
import {tempDir} from '../helpers/env.js'
import {type LocalIndex, startLocalIndex} from '../helpers/pypi-index.js'
import {lockedService} from '../helpers/projects.js'
import {countingUv, WHEELHOUSE} from '../helpers/uv.js'


let root: string
let index: LocalIndex
let wrapper: string
let uvRuns: () => Promise<number>

function env(extra: Record<string, string> = {}): Record<string, string> {
  return {PATH: '/usr/bin:/bin', HOME: root, UV_CACHE_DIR: join(root, 'uv-cache'), BENTO_UV: wrapper, ...extra}
}

async function project(name: string, packages: string[]): Promise<string> {
  const dir = join(root, name)
  await mkdir(dir, {recursive: true})
  await writeFile(join(dir, 'service.py'), lockedService())
  await writeFile(join(dir, 'bentofile.yaml'), `service: "service:Locked"\npython:\n  packages: [${packages.join(', ')}]\n  index_url: "${index.url}"\ndocker:\n  python_version: "3.11"\n`)
  return dir
}

beforeAll(async () => {
  root = await tempDir('bento-lock-cmd-')
  index = await startLocalIndex(WHEELHOUSE)
  const uv = await countingUv(root)
  wrapper = uv.path
  uvRuns = uv.pipRuns
})
afterAll(async () => {
  await index?.close()
  await rm(root, {recursive: true, force: true})
})

describe('bento lock', () => {
  it('writes bento-lock.json (one hashed lock per platform); --check passes, then reports the drift with exit 10', async () => {
    const dir = await project('p', ['attrs'])
    const home = join(root, 'home')
    const r = await lock({projectDir: dir, home, reporter: silentReporter, env: env(), platforms: ['linux/amd64', 'x86_64-manylinux_2_28']})
    expect(r.file).toBe(join(dir, 'bento-lock.json'))
    expect(r.written).toBe(true)
    expect(r.locks.map((l) => [l.platform, l.pythonVersion, l.source])).toEqual([['linux/amd64', '3.11', 'uv'], ['x86_64-manylinux_2_28', '3.11', 'uv']])
    const file = JSON.parse(await readFile(r.file, 'utf8')) as {locks: Array<{platform: string; lock: string; sha256: string; requirements: string[]}>}
    expect(file.locks).toHaveLength(2)
    expect(file.locks[0]?.lock).toMatch(/^attrs==\S+ \\\n {4}--hash=sha256:[0-9a-f]{64}/m)
    expect(file.locks[0]?.requirements).toEqual([`--index-url ${index.url}`, 'attrs', 'bentoml==1.4.40'])

    // The build takes the lock from bento-lock.json: the same sha256, even with the cache gone and no uv at all.
    await rm(join(home, '.bento', 'locks'), {recursive: true, force: true})
    const before = await uvRuns()
    const b = await build({projectDir: dir, home, reporter: silentReporter, env: env({BENTO_UV: join(root, 'no-uv')})})
    expect(b.lock).toMatchObject({sha256: file.locks[0]?.sha256, source: 'bento-lock.json'})
    expect(await uvRuns()).toBe(before)

    // --check: no resolver, nothing written, no drift.
    const ok = await lock({projectDir: dir, home, reporter: silentReporter, env: env({BENTO_UV: join(root, 'no-uv')}), check: true})
    expect(ok).toMatchObject({written: false, drift: []})
    expect(ok.locks).toHaveLength(2)

    // The requirements change: drift, exit 10 with the JSON report.
    await writeFile(join(dir, 'bentofile.yaml'), (await readFile(join(dir, 'bentofile.yaml'), 'utf8')).replace('[attrs]', '[attrs, idna]'))
    const drift = await lock({projectDir: dir, home, reporter: silentReporter, env: env(), check: true}).catch((e: unknown) => e)
    expect(drift).toMatchObject({code: 'E_LOCK_DRIFT', exitCode: 10, data: {drift: [{platform: 'linux/amd64', pythonVersion: '3.11', added: ['idna'], removed: []}, {platform: 'x86_64-manylinux_2_28', added: ['idna'], removed: []}]}})
    expect(await uvRuns()).toBe(before)
    const cli = await runBentoInProcess(['lock', dir, '--check', '--json'], {env: {...env(), BENTOML_HOME: home}})
    expect(cli.code).toBe(10)
    expect(JSON.parse(cli.stdout)).toMatchObject({error: {code: 'E_LOCK_DRIFT', exitCode: 10, drift: [{added: ['idna']}, {added: ['idna']}]}})

    // bento lock (the platforms the file holds) writes it again; a platform the file does not hold is drift too.
    const fixed = await runBentoInProcess(['lock', dir, '--json'], {env: {...env(), BENTOML_HOME: home}})
    expect(fixed.code, fixed.stderr).toBe(0)
    expect(JSON.parse(fixed.stdout)).toMatchObject({written: true, locks: [{platform: 'linux/amd64', source: 'uv'}, {platform: 'x86_64-manylinux_2_28', source: 'uv'}]})
    const arm = await runBentoInProcess(['lock', dir, '--check', '--platform', 'linux/amd64,linux/arm64', '--json'], {env: {...env(), BENTOML_HOME: home}})
    expect(arm.code).toBe(10)
    expect(JSON.parse(arm.stdout)).toMatchObject({error: {drift: [{platform: 'linux/arm64', reason: 'missing'}]}})
    expect((await runBentoInProcess(['lock', dir, '--check'], {env: {...env(), BENTOML_HOME: home}})).code).toBe(0)
  }, 300_000)

  it('literal index credentials never reach bento-lock.json (it is committed)', async () => {
    const secret = await startLocalIndex(WHEELHOUSE, {auth: {user: 'lockuser', password: 's3cr3t-t0k3n-77'}})
    try {
      const dir = join(root, 'creds')
      await mkdir(dir, {recursive: true})
      await writeFile(join(dir, 'service.py'), lockedService())
      await writeFile(join(dir, 'bentofile.yaml'), `service: "service:Locked"\npython:\n  packages: [attrs]\n  index_url: "http://lockuser:s3cr3t-t0k3n-77@127.0.0.1:${secret.port}/simple"\ndocker:\n  python_version: "3.11"\n`)
      const r = await lock({projectDir: dir, home: join(root, 'home-creds'), reporter: silentReporter, env: env()})
      const text = await readFile(r.file, 'utf8')
      expect(text).toMatch(/attrs==/)
      expect(text).not.toContain('s3cr3t-t0k3n-77')
      const ok = await lock({projectDir: dir, home: join(root, 'home-creds'), reporter: silentReporter, env: env(), check: true})
      expect(ok.drift).toEqual([])
    } finally {
      await secret.close()
    }
  }, 300_000)
})
