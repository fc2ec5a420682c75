import {mkdir, mkdtemp, readdir, readFile, rm, stat, writeFile} from 'node:fs/promises'
import path from 'node:path'

import {beforeEach, describe, expect, it} from 'vitest'

import {NotFoundError, StoreError} from '../errors.js'
import {pathExists} from './fs-utils.js'
import {type BentoStore, installFromTemp, makeTempDir, type ModelStore, Store} from './store.js'
import {currentOwner, ownerRecord, processStart} from './owner.js'
import {AmbiguousTagError} from './tag.js'
import {type Tree, writeTree} from '../../test/helpers/files.js'
import {bentoTree, freshHome, modelTree} from '../../test/helpers/store-fixtures.js'

const T1 = '2025-01-01T00:00:00+00:00'
const T2 = '2025-02-01T00:00:00+00:00'
const T3 = '2025-03-01T00:00:00+00:00'

let home: string
let models: ModelStore
let bentos: BentoStore

beforeEach(async () => {
  home = await freshHome()
  models = Store.models(home)
  bentos = Store.bentos(home)
})

async function seedModels(tree: Tree): Promise<void> {
  await writeTree(path.join(home, 'models'), tree)
}

const latestOf = (store: 'models' | 'bentos', name: string) => readFile(path.join(home, store, name, 'latest'), 'utf8')

describe('list', () => {
  it('lists items sorted by name then version, ignoring files', async () => {
    await seedModels({
      zeta: {v1: modelTree('zeta', 'v1', T1), latest: 'v1'},
      alpha: {b: modelTree('alpha', 'b', T1), a: modelTree('alpha', 'a', T2), latest: 'a', 'notes.txt': 'x'},
      'stray-file': 'x',
    })
    const items = await models.list()
    expect(items.map((i) => `${i.tag.name}:${i.tag.version}`)).toEqual(['alpha:a', 'alpha:b', 'zeta:v1'])
    const [first] = items
    expect(first?.error).toBeUndefined()
    expect(first?.info?.module).toBe('bentoml.keras')
    expect(first?.creationTime?.toISOString()).toBe('2025-02-01T00:00:00.000Z')
    expect(first?.path).toBe(path.join(home, 'models', 'alpha', 'a'))
  })

  it('returns broken directories with an error instead of failing (strict mode fails like BentoML)', async () => {
    await seedModels({
      good: {v1: modelTree('good', 'v1', T1)},
      Bad_Name_: {v1: modelTree('x', 'v1', T1)},
      half: {v1: {'saved_model.pb': 'x'}, '-bad-': modelTree('half', 'v2', T1)},
    })
    const items = await models.list()
    const summary = items.map((i) => [i.tag.name, i.tag.version, i.error?.code ?? 'ok'])
    expect(summary).toEqual([
      ['Bad_Name_', '', 'E_MODEL_CORRUPT'],
      ['good', 'v1', 'ok'],
      ['half', '-bad-', 'E_MODEL_CORRUPT'],
      ['half', 'v1', 'E_MODEL_CORRUPT'],
    ])
    expect(items[0]?.error?.message).toContain('not a valid tag name')
    expect(items[0]?.error?.hint).toContain('bentoml models list')
    expect(items[3]?.error?.message).toContain('model.yaml is missing')
    await expect(models.list(undefined, {strict: true})).rejects.toBeInstanceOf(StoreError)
    expect((await models.listValid()).map((i) => i.tag.name)).toEqual(['good'])
  })

  it('lists one name, one tag, or fails for an unknown name', async () => {
    await seedModels({iris: {v1: modelTree('iris', 'v1', T1), v2: modelTree('iris', 'v2', T2)}})
    expect((await models.list('iris')).map((i) => i.tag.version)).toEqual(['v1', 'v2'])
    expect((await models.list('iris:v2')).map((i) => i.tag.version)).toEqual(['v2'])
    expect(await models.list('iris:v9')).toEqual([])
    await expect(models.list('nope')).rejects.toMatchObject({code: 'E_MODEL_NOT_FOUND'})
  })

  it('never lists in-progress builds in tmp/', async () => {
    const {dir: tmp} = await makeTempDir(home, 'iris')
    // Named after its owner (pid, start time, host, boot), so a later run can prove it dead and remove it.
    expect(path.basename(tmp)).toMatch(/^bento-\d+-\d+-[0-9a-f]{8}-[0-9a-f]{8}-build-iris-.{6}$/)
    expect(path.dirname(tmp)).toBe(path.join(home, 'tmp'))
    await writeTree(tmp, bentoTree('iris', 'v1', T1))
    expect(await bentos.list()).toEqual([])
  })
})

describe('get', () => {
  beforeEach(async () => {
    await seedModels({
      iris: {
        abc111: modelTree('iris', 'abc111', T1),
        abc222: modelTree('iris', 'abc222', T3),
        xyz333: modelTree('iris', 'xyz333', T2),
      },
    })
  })

  it('follows latest (trimmed) for name and name:latest', async () => {
    await writeFile(path.join(home, 'models', 'iris', 'latest'), 'xyz333\n')
    expect((await models.get('iris')).tag).toEqual({name: 'iris', version: 'xyz333'})
    expect((await models.get('iris:latest')).tag.version).toBe('xyz333')
    expect((await models.get({name: 'iris', version: null})).tag.version).toBe('xyz333')
  })

  it('rebuilds a missing latest from the newest creation_time, without a newline', async () => {
    expect((await models.get('iris')).tag.version).toBe('abc222')
    expect(await latestOf('models', 'iris')).toBe('abc222')
  })

  it('rebuilds a stale or garbage latest', async () => {
    await writeFile(path.join(home, 'models', 'iris', 'latest'), 'deleted0')
    expect((await models.get('iris:latest')).tag.version).toBe('abc222')
    await writeFile(path.join(home, 'models', 'iris', 'latest'), '../../etc')
    expect((await models.get('iris:latest')).tag.version).toBe('abc222')
    expect(await latestOf('models', 'iris')).toBe('abc222')
  })

  it('resolves exact versions and unique prefixes', async () => {
    expect((await models.get('iris:abc111')).info.creation_time).toBe(T1)
    expect((await models.get('iris:xy')).tag.version).toBe('xyz333')
    expect((await models.get('iris:abc2')).tag.version).toBe('abc222')
  })

  it('reports ambiguous prefixes', async () => {
    const error = await models.get('iris:abc').catch((e: unknown) => e)
    expect(error).toBeInstanceOf(AmbiguousTagError)
    expect((error as Error).message).toBe("Multiple versions found for Model 'iris:abc': abc111, abc222")
  })

  it('says what exists when nothing matches', async () => {
    const byVersion = await models.get('iris:nope').catch((e: unknown) => e)
    expect(byVersion).toBeInstanceOf(NotFoundError)
    expect(byVersion).toMatchObject({code: 'E_MODEL_NOT_FOUND'})
    expect((byVersion as Error).message).toContain("Versions of 'iris': abc111, abc222, xyz333")
    const byName = await models.get('rose').catch((e: unknown) => e)
    expect((byName as Error).message).toContain('Models in the store: iris')
    expect((byName as NotFoundError).hint).toContain('bento models list')
    const noBento = await bentos.get('iris').catch((e: unknown) => e)
    expect(noBento).toMatchObject({code: 'E_BENTO_NOT_FOUND'})
    expect((noBento as Error).message).toContain('is empty')
  })

  it('throws E_MODEL_CORRUPT for a corrupt item and reports exists()', async () => {
    await writeTree(path.join(home, 'models', 'iris', 'broken'), {'model.yaml': 'name: iris\n'})
    await expect(models.get('iris:broken')).rejects.toMatchObject({code: 'E_MODEL_CORRUPT'})
    expect(await models.exists('iris:broken')).toBe(true)
    expect(await models.exists('iris')).toBe(true)
    expect(await models.exists('iris:zzz')).toBe(false)
    expect(await models.exists('tulip')).toBe(false)
  })
})

describe('get: a name whose only version is corrupt', () => {
  it('throws the corrupt item (naming its file), not "not found … Versions of: <that version>"', async () => {
    // model.yaml without `module`, and no latest file: latest cannot be rebuilt from a readable version.
    await writeTree(path.join(home, 'models', 'iris', 'v1'), {'model.yaml': 'name: iris\nversion: v1\n'})
    for (const tag of ['iris', 'iris:latest']) {
      const error = await models.get(tag).catch((e: unknown) => e)
      expect(error).toBeInstanceOf(StoreError)
      expect(error).not.toBeInstanceOf(NotFoundError)
      expect(error).toMatchObject({code: 'E_MODEL_CORRUPT'})
      expect((error as Error).message).toContain(path.join(home, 'models', 'iris', 'v1', 'model.yaml'))
      expect((error as Error).message).not.toMatch(/not found/)
    }
    expect(await models.exists('iris')).toBe(true)
    expect(await pathExists(path.join(home, 'models', 'iris', 'latest'))).toBe(false)

    await writeTree(path.join(home, 'bentos', 'svc', 'v1'), {'bento.yaml': 'version: v1\n'})
    const bento = await bentos.get('svc').catch((e: unknown) => e)
    expect(bento).toMatchObject({code: 'E_BENTO_CORRUPT'})
    expect((bento as Error).message).toContain(path.join(home, 'bentos', 'svc', 'v1', 'bento.yaml'))
  })

  it('still says not found for an unknown version of that name', async () => {
    await writeTree(path.join(home, 'models', 'iris', 'v1'), {'model.yaml': 'name: iris\n'})
    await expect(models.get('iris:v2')).rejects.toMatchObject({code: 'E_MODEL_NOT_FOUND'})
  })
})

describe('delete', () => {
  beforeEach(async () => {
    await seedModels({
      iris: {
        v1: modelTree('iris', 'v1', T2),
        v2: modelTree('iris', 'v2', T3),
        v3: modelTree('iris', 'v3', T1),
        latest: 'v2',
      },
    })
  })

  it('rewrites latest to the remaining version with the highest creation_time', async () => {
    expect(await models.delete('iris:v2')).toEqual({name: 'iris', version: 'v2'})
    expect(await pathExists(path.join(home, 'models', 'iris', 'v2'))).toBe(false)
    expect(await latestOf('models', 'iris')).toBe('v1')
    await models.delete('iris:latest')
    expect(await latestOf('models', 'iris')).toBe('v3')
  })

  it('removes the name directory with the last version', async () => {
    await models.delete('iris:v1')
    await models.delete('iris:v2')
    await models.delete('iris:v3')
    expect(await readdir(path.join(home, 'models'))).toEqual([])
    await expect(models.delete('iris:v1')).rejects.toMatchObject({code: 'E_MODEL_NOT_FOUND'})
    expect(await readdir(path.join(home, 'tmp'))).toEqual([]) // lock released
  })
})

describe('install', () => {
  async function built(name: string, version: string, time: string): Promise<string> {
    const {dir} = await makeTempDir(home, name)
    await writeTree(dir, bentoTree(name, version, time))
    return dir
  }

  it('renames the finished directory into place and writes latest', async () => {
    const tmp = await built('iris', 'v1', T1)
    const item = await installFromTemp(tmp, bentos, 'iris:v1')
    expect(item.path).toBe(path.join(home, 'bentos', 'iris', 'v1'))
    expect(item.info.service).toBe('service:svc')
    expect(await pathExists(tmp)).toBe(false)
    expect(await latestOf('bentos', 'iris')).toBe('v1')
    expect(await readdir(path.join(home, 'tmp'))).toEqual([])
    expect((await bentos.get('iris')).tag.version).toBe('v1')
  })

  it('moves latest only to an item at least as new', async () => {
    await installFromTemp(await built('iris', 'v2', T2), bentos, {name: 'iris', version: 'v2'})
    await installFromTemp(await built('iris', 'v1', T1), bentos, {name: 'iris', version: 'v1'})
    expect(await latestOf('bentos', 'iris')).toBe('v2')
    await installFromTemp(await built('iris', 'v3', T2), bentos, {name: 'iris', version: 'v3'})
    expect(await latestOf('bentos', 'iris')).toBe('v3')
    // An explicit creationTime wins over the file.
    await installFromTemp(await built('iris', 'v4', T3), bentos, 'iris:v4', {creationTime: new Date(0)})
    expect(await latestOf('bentos', 'iris')).toBe('v3')
  })

  it('refuses an existing version and leaves the temp dir to the caller', async () => {
    await installFromTemp(await built('iris', 'v1', T1), bentos, 'iris:v1')
    const again = await built('iris', 'v1', T2)
    await expect(installFromTemp(again, bentos, 'iris:v1')).rejects.toMatchObject({code: 'E_ALREADY_EXISTS'})
    expect(await pathExists(path.join(again, 'bento.yaml'))).toBe(true)
    expect((await bentos.get('iris:v1')).info.creation_time).toBe(T1)
  })

  it('refuses to install an item BentoML could not read', async () => {
    const {dir: tmp} = await makeTempDir(home, 'iris')
    await writeTree(tmp, {'bento.yaml': 'name: iris\n'})
    await expect(installFromTemp(tmp, bentos, 'iris:v1')).rejects.toMatchObject({code: 'E_BENTO_CORRUPT'})
    expect(await bentos.list()).toEqual([])
  })

  it('copies across file systems (EXDEV) and still renames into place', async () => {
    const shm = '/dev/shm'
    const devDiffers = (await stat(shm).catch(() => null))?.dev !== (await stat(home)).dev
    expect(devDiffers).toBe(true) // the test only means something across devices
    const src = await mkdtemp(path.join(shm, 'bento-test-'))
    try {
      await writeTree(src, bentoTree('iris', 'v1', T1))
      await writeTree(src, {'link-to-readme': {symlink: 'README.md'}})
      const item = await installFromTemp(src, bentos, 'iris:v1')
      expect(await pathExists(src)).toBe(false)
      expect(await readFile(path.join(item.path, 'link-to-readme'), 'utf8')).toBe('# iris\n')
      expect((await stat(path.join(item.path, 'env/docker/entrypoint.sh'))).mode & 0o777).toBe(0o755)
      expect(await readdir(path.join(home, 'tmp'))).toEqual([])
      expect(await readdir(path.join(home, 'bentos', 'iris'))).toEqual(['latest', 'v1'])
    } finally {
      await rm(src, {recursive: true, force: true})
    }
  })

  it('keeps latest consistent under concurrent installs', async () => {
    const versions = Array.from({length: 8}, (_, i) => `v${i}`)
    // creation times deliberately not in version order; v5 is the newest
    const times = [T1, T2, T1, T2, T1, T3, T2, T1]
    const dirs = await Promise.all(versions.map((v, i) => built('iris', v, times[i] ?? T1)))
    await Promise.all(versions.map((v, i) => installFromTemp(dirs[i] ?? '', bentos, `iris:${v}`)))
    expect(await latestOf('bentos', 'iris')).toBe('v5')
    expect((await readdir(path.join(home, 'bentos', 'iris'))).sort()).toEqual(['latest', ...versions])
    expect(await readdir(path.join(home, 'tmp'))).toEqual([])
  })

  it('waits for a lock held by another live process', async () => {
    await mkdir(path.join(home, 'tmp'), {recursive: true})
    await writeFile(bentos.lockPath('iris'), ownerRecord({...currentOwner(), pid: process.ppid, start: processStart(process.ppid) ?? '0'}))
    const tmp = await built('iris', 'v1', T1)
    await expect(installFromTemp(tmp, bentos, 'iris:v1', {lock: {timeoutMs: 100}})).rejects.toMatchObject({
      code: 'E_STORE_LOCKED',
    })
    expect(await pathExists(path.join(home, 'bentos', 'iris', 'v1'))).toBe(false)
  })
})
