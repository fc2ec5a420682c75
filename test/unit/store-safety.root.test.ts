/**
 * import, export, list and get when the file system refuses: full, read-only, unreadable to the user. Real tmpfs
 * mounts and a non-root user, so these need root (the "needs-root" vitest project; `.ci/run` runs as root).
 */
import {execFile} from 'node:child_process'
import {chmod, mkdir, readdir} from 'node:fs/promises'
import {join} from 'node:path'

import {afterAll, describe, expect, it} from 'vitest'

import {writeTree} from '../helpers/files.js'
import {bentoTree, modelTree} from '../helpers/store-fixtures.js'
import {expectError, Scratch, sh, tmpfs} from '../helpers/build-inputs.js'
import {binForNobody, type RunResult, runBento} from '../helpers/env.js'

const scratchDirs = new Scratch()
afterAll(async () => {
  await scratchDirs.cleanup()
})

const T1 = '2025-01-01T00:00:00+00:00'

async function seededHome(base: string): Promise<string> {
  const home = join(base, 'home')
  await writeTree(join(home, 'models', 'flower'), {v1: modelTree('flower', 'v1', T1), latest: 'v1'})
  await writeTree(join(home, 'bentos', 'iris'), {v1: bentoTree('iris', 'v1', T1, [{tag: 'flower:v1', creationTime: T1}]), latest: 'v1'})
  for (const d of ['tmp', 'envs']) await mkdir(join(home, d), {recursive: true})
  return home
}

async function asNobody(args: string[], env: NodeJS.ProcessEnv): Promise<RunResult> {
  return new Promise((resolve) => {
    execFile(process.execPath, [binForNobody(), ...args, '--json'], {env: {...process.env, ...env}, uid: 65534, gid: 65534}, (err, stdout, stderr) =>
      resolve({code: err ? Number((err as {code?: number}).code ?? 1) : 0, stdout, stderr}),
    )
  })
}

describe('store file systems that refuse', () => {
  it('import onto a full disk: E_DISK_FULL (exit 5) before the entry that does not fit is written, nothing left (D14)', async () => {
    const base = await scratchDirs.dir('bento-full-import-')
    const src = await seededHome(base)
    await writeTree(join(src, 'bentos', 'iris', 'v1', 'src'), {'zeros.bin': Buffer.alloc(20 * 2 ** 20)})
    const archive = join(base, 'iris.tar.gz')
    expect((await runBento(['export', 'iris', archive], {env: {BENTOML_HOME: src}})).code).toBe(0)
    const home = join(base, 'full')
    await tmpfs(scratchDirs, home, 'size=5m')
    const error = expectError(await runBento(['import', archive, '--json'], {env: {BENTOML_HOME: home}}), 'E_DISK_FULL', 5, /No space left/)
    expect(error.hint).toMatch(/free some disk space/)
    for (const d of ['bentos', 'models', 'tmp']) expect(await readdir(join(home, d))).toEqual([])
  })

  it('export to a read-only file system: E_ARCHIVE (exit 6), not E_BUG (D16)', async () => {
    const base = await scratchDirs.dir('bento-ro-export-')
    const home = await seededHome(base)
    const ro = join(base, 'ro')
    await tmpfs(scratchDirs, ro, 'size=1m,ro')
    expectError(await runBento(['export', 'iris', join(ro, 'x.tar'), '--json'], {env: {BENTOML_HOME: home}}), 'E_ARCHIVE', 6, /read-only file system/)
  })

  it('a Bento name directory nobody may read: list still lists the rest (with a problem), get is E_STORE_NOT_READABLE (D9)', async () => {
    const base = await scratchDirs.dir('bento-unreadable-store-')
    await chmod(base, 0o755)
    const home = await seededHome(base)
    await writeTree(join(home, 'bentos', 'rose'), {v1: bentoTree('rose', 'v1', T1), latest: 'v1'})
    await sh('chown', ['-R', '65534:65534', base])
    await chmod(join(home, 'bentos', 'iris'), 0o000)
    const env = {BENTOML_HOME: home, HOME: base}
    const list = await asNobody(['list'], env)
    expect(list.code, list.stderr).toBe(0)
    const listed = JSON.parse(list.stdout) as {bentos: Array<{tag: string}>; problems: string[]}
    expect(listed.bentos.map((b) => b.tag)).toEqual(['rose:v1'])
    expect(listed.problems.join('\n')).toMatch(/Permission denied reading .*bentos\/iris/)
    expectError(await asNobody(['get', 'iris'], env), 'E_STORE_NOT_READABLE', 5, /Permission denied/)
    await chmod(join(home, 'bentos', 'iris'), 0o755)
  })
})
