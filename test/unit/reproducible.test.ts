/**
 * Reproducible bytes: with SOURCE_DATE_EPOCH, two builds of the same inputs in two stores (two machines) give
 * byte-identical Bentos (bento.yaml's creation_time, the Dockerfile's created label), archives and Dockerfiles.
 */
import {createHash} from 'node:crypto'
import {cp, lstat, readdir, readFile, readlink, rm} from 'node:fs/promises'
import {join} from 'node:path'

import {afterAll, beforeAll, describe, expect, it} from 'vitest'

import {expectError, makeProject, writeModel} from '../helpers/build-inputs.js'
import {runBentoInProcess} from '../helpers/cli-in-process.js'
import {type RunResult, tempDir} from '../helpers/env.js'

let root: string
afterAll(async () => {
  await rm(root, {recursive: true, force: true})
})

/** Every path under `dir` with its type, mode and content hash (what "byte-identical" compares). */
async function fingerprint(dir: string, rel = ''): Promise<string[]> {
  const out: string[] = []
  for (const name of (await readdir(join(dir, rel))).sort()) {
    const p = rel === '' ? name : `${rel}/${name}`
    const st = await lstat(join(dir, p))
    const mode = (st.mode & 0o7777).toString(8)
    if (st.isDirectory()) {
      out.push(`${p}/ ${mode}`)
      out.push(...(await fingerprint(dir, p)))
    } else if (st.isSymbolicLink()) {
      out.push(`${p} -> ${await readlink(join(dir, p))}`)
    } else {
      out.push(`${p} ${mode} ${createHash('sha256').update(await readFile(join(dir, p))).digest('hex')}`)
    }
  }
  return out
}

function ok(r: RunResult): {tag: string; path: string; sha256?: string} {
  expect(r.code, r.stderr).toBe(0)
  return JSON.parse(r.stdout) as {tag: string; path: string; sha256?: string}
}

describe('SOURCE_DATE_EPOCH', () => {
  let homes: string[]
  let project: string
  beforeAll(async () => {
    root = await tempDir('bento-repro-')
    project = await makeProject({'README.md': '# Iris\n\nClassifies irises.\n'}, join(root, 'project'))
    // Two machines: the same model (copied byte for byte, as an import would), two homes at different paths.
    const first = join(root, 'machine-a', 'bentoml')
    await writeModel(first)
    const second = join(root, 'b', 'elsewhere', 'home')
    await cp(join(first, 'models'), join(second, 'models'), {recursive: true})
    homes = [first, second]
  })

  it('two builds in two stores: the same tag and byte-identical Bentos, Dockerfiles and archives', async () => {
    const env = {SOURCE_DATE_EPOCH: '1700000000'}
    const built = []
    for (const home of homes) built.push(ok(await runBentoInProcess(['build', project, '--json'], {env: {...env, BENTOML_HOME: home}})))
    const [a, b] = built
    expect(a?.tag).toBe(b?.tag)
    const bentoYaml = await readFile(join(a?.path ?? '', 'bento.yaml'), 'utf8')
    expect(bentoYaml).toContain("creation_time: '2023-11-14T22:13:20.000000+00:00'")
    const dockerfile = await readFile(join(a?.path ?? '', 'env/docker/Dockerfile'), 'utf8')
    expect(dockerfile).toContain('2023-11-14T22:13:20.000000+00:00') // org.opencontainers.image.created
    expect(await fingerprint(a?.path ?? '')).toEqual(await fingerprint(b?.path ?? ''))
    for (const out of ['x.bento', 'x.tar.gz', 'x.tar']) {
      const digests = []
      for (const [i, home] of homes.entries()) {
        digests.push(ok(await runBentoInProcess(['export', a?.tag ?? '', join(root, `out-${i}`, out), '--json'], {env: {BENTOML_HOME: home}})).sha256)
      }
      expect(digests[0], out).toBe(digests[1])
    }
  })

  it('without it, the same inputs get the same tag but the build time (so the bytes differ)', async () => {
    const other = join(root, 'c', 'bentoml')
    await cp(join(homes[0] ?? '', 'models'), join(other, 'models'), {recursive: true})
    const r = ok(await runBentoInProcess(['build', project, '--json'], {env: {BENTOML_HOME: other}}))
    const text = await readFile(join(r.path, 'bento.yaml'), 'utf8')
    expect(text).not.toContain('2023-11-14T22:13:20')
    expect(text).toMatch(new RegExp(`creation_time: '${new Date().getUTCFullYear()}-`))
  })

  it('a malformed value is a usage error (exit 2), before anything is written', async () => {
    const home = join(root, 'd', 'bentoml')
    await writeModel(home)
    expectError(await runBentoInProcess(['build', project, '--json'], {env: {BENTOML_HOME: home, SOURCE_DATE_EPOCH: 'yesterday'}}), 'E_USAGE', 2, /SOURCE_DATE_EPOCH/)
    expect(await readdir(join(home, 'bentos')).catch(() => [])).toEqual([])
  })
})
