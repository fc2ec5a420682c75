/**
 * scripts/disk-guard.sh (the first step of .ci/run) and scripts/lib/disk.sh, on a copy of the scripts in a temp dir
 * (its bench/out and TMPDIR are the copy's), with no Docker daemon (DOCKER_HOST points nowhere): the docker parts are
 * passed over, the file parts run for real.
 */
import {mkdir, copyFile, utimes, writeFile} from 'node:fs/promises'
import {existsSync} from 'node:fs'
import {join} from 'node:path'

import {afterAll, beforeAll, describe, expect, it} from 'vitest'

import {REPO, removeDir, run, tempDir} from '../helpers/env.js'

let root: string
let tmp: string
const NO_DAEMON = 'unix:///nonexistent/disk-guard-test.sock'

beforeAll(async () => {
  root = await tempDir('bento-disk-guard-')
  tmp = join(root, 'tmp')
  await mkdir(join(root, 'scripts/lib'), {recursive: true})
  await mkdir(tmp)
  for (const f of ['scripts/disk-guard.sh', 'scripts/lib/common.sh', 'scripts/lib/disk.sh']) await copyFile(join(REPO, f), join(root, f))
})
afterAll(async () => {
  await removeDir(root)
})

const guard = (env: Record<string, string>): ReturnType<typeof run> =>
  run('bash', [join(root, 'scripts/disk-guard.sh')], {env: {DOCKER_HOST: NO_DAEMON, TMPDIR: tmp, BENTO_TOOLS: join(root, '.tools'), ...env}})

describe('scripts/disk-guard.sh', () => {
  it('enough room: says how much is free and passes, removing nothing', async () => {
    await mkdir(join(root, 'bench/out'), {recursive: true})
    const r = await guard({BENTO_MIN_FREE_GB: '0'})
    expect(r.code, r.stderr).toBe(0)
    expect(r.stderr).toMatch(/disk before the run: free [\d.]+ GB on \/var\/lib\/docker, [\d.]+ GB on the repository; docker: not answering/)
    expect(r.stderr).toMatch(/ok: [\d.]+ GB free \(threshold 0 GB\)/)
    expect(existsSync(join(root, 'bench/out'))).toBe(true)
  })

  it('short of room: removes the old leftovers (not the fresh ones), then fails early saying why', async () => {
    const old = join(tmp, 'bento-vitest-old')
    const fresh = join(tmp, 'bento-vitest-fresh')
    await mkdir(old)
    await mkdir(fresh)
    const hoursAgo = new Date(Date.now() - 3 * 3600_000)
    await utimes(old, hoursAgo, hoursAgo)
    await writeFile(join(root, 'bench/out/model.bin'), 'x')
    const r = await guard({BENTO_MIN_FREE_GB: '999999', BENTO_PRUNE_AGE: '2h'})
    expect(r.code).toBe(1)
    expect(r.stderr).toContain("below 999999 GB free: removing what bento's tests, benchmarks and provisioning left that is older than 2h")
    expect(r.stderr).toContain('vitest temp dirs older than 2h')
    expect(existsSync(old)).toBe(false)
    expect(existsSync(fresh)).toBe(true)
    expect(existsSync(join(root, 'bench/out'))).toBe(false)
    expect(r.stderr).toMatch(/ERROR: only [\d.]+ GB free on .* the run needs 999999 GB \(BENTO_MIN_FREE_GB\)/)
    expect(r.stderr).toContain('not enough free disk to run the checks')
    expect(r.stderr).not.toMatch(/\n\s+at /)
  })

  it('refuses a threshold or an age it cannot read', async () => {
    expect((await guard({BENTO_MIN_FREE_GB: 'lots'})).stderr).toContain("BENTO_MIN_FREE_GB must be a whole number of GB, not 'lots'")
    expect((await guard({BENTO_PRUNE_AGE: 'yesterday'})).stderr).toContain("BENTO_PRUNE_AGE must be a duration like 2h, 90m, not 'yesterday'")
  })
})

describe('scripts/lib/disk.sh', () => {
  it('the summary line names the lowest free space, the step it fell in, and how far below the start', async () => {
    const samples = join(root, 'samples.txt')
    await writeFile(samples, ['1000 50000000000 60000000000 build', '1005 20000000000 30000000000 vitest', '1010 45000000000 55000000000 bench-quick', ''].join('\n'))
    const r = await run('bash', ['-c', `source ${join(root, 'scripts/lib/common.sh')}; source ${join(root, 'scripts/lib/disk.sh')}; disk_low_point ${samples} 990`])
    expect(r.code, r.stderr).toBe(0)
    expect(r.stdout.trim()).toBe('lowest free space: 20.0 GB on the docker data root (during vitest, at +15s: 30.0 GB below the start), 30.0 GB on the repository (3 samples)')
  })
})
