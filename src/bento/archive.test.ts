import {spawnSync} from 'node:child_process'
import {createHash} from 'node:crypto'
import {lstat, readdir, readFile, readlink, rm, stat, utimes, writeFile} from 'node:fs/promises'
import path from 'node:path'
import {createGzip, gzipSync} from 'node:zlib'
import {createWriteStream} from 'node:fs'
import {pipeline} from 'node:stream/promises'

import {execa} from 'execa'
import tar from 'tar-stream'
import {beforeEach, describe, expect, it} from 'vitest'

import {ArchiveError, StoreError} from '../errors.js'
import {Store} from '../store/index.js'
import {currentOwner, ownerToken, processStart} from '../store/owner.js'
import {tempDir} from '../../test/helpers/env.js'
import {type Tree, writeTree} from '../../test/helpers/files.js'
import {bentoTree, freshHome, modelTree, modelYaml} from '../../test/helpers/store-fixtures.js'
import {detectArchiveFormat, exportBento, importBento} from './archive/index.js'

const T_MODEL = '2025-05-30T10:11:12.123456+00:00'
const T_BENTO = '2025-05-30T10:20:30.123456+00:00'
const MODEL = {tag: 'flower_model:zfshqahix2dpoax4', creationTime: T_MODEL}

async function newHome(): Promise<string> {
  const home = await freshHome()
  return home
}

/** A home with one model and one Bento using it, as BentoML 1.4 stores them (no models/ in the Bento). */
async function seededHome(): Promise<{home: string; bentoDir: string; modelDir: string}> {
  const home = await newHome()
  const modelDir = path.join(home, 'models', 'flower_model', 'zfshqahix2dpoax4')
  await writeTree(path.join(home, 'models', 'flower_model'), {
    zfshqahix2dpoax4: modelTree('flower_model', 'zfshqahix2dpoax4', T_MODEL),
    latest: 'zfshqahix2dpoax4',
  })
  const bentoDir = path.join(home, 'bentos', 'clasificador_iris', 'qv5kx3hix2dpoax4')
  const tree: Tree = bentoTree('clasificador_iris', 'qv5kx3hix2dpoax4', T_BENTO, [MODEL])
  await writeTree(bentoDir, {...tree, 'README.link': {symlink: 'README.md'}})
  await writeFile(path.join(home, 'bentos', 'clasificador_iris', 'latest'), 'qv5kx3hix2dpoax4')
  return {home, bentoDir, modelDir}
}

const modelRef = (dir: string) => [{name: 'flower_model', version: 'zfshqahix2dpoax4', dir}]

async function sha256(file: string): Promise<string> {
  return createHash('sha256').update(await readFile(file)).digest('hex')
}

interface RawEntry {
  header: Partial<tar.Header> & {name: string}
  content?: string
}

/** Build a tar (optionally gzipped) from raw headers, the way an attacker would. */
async function rawTar(entries: RawEntry[], gzip = false): Promise<Buffer> {
  const pack = tar.pack()
  const chunks: Buffer[] = []
  const done = (async () => {
    for await (const chunk of pack) chunks.push(Buffer.from(chunk as Uint8Array))
  })()
  for (const entry of entries) {
    await new Promise<void>((resolve, reject) => {
      const cb = (error?: Error | null) => (error ? reject(error) : resolve())
      if (entry.content === undefined) pack.entry(entry.header, cb)
      else pack.entry(entry.header, entry.content, cb)
    })
  }
  pack.finalize()
  await done
  const buffer = Buffer.concat(chunks)
  return gzip ? gzipSync(buffer) : buffer
}

async function readEntries(file: string): Promise<Array<tar.Header & {content: string}>> {
  const extract = tar.extract()
  const out: Array<tar.Header & {content: string}> = []
  const feeding = (async () => {
    const {stdout} = await execa('xz', ['-d', '-c'], {inputFile: file, encoding: 'buffer'})
    extract.end(Buffer.from(stdout))
  })()
  for await (const entry of extract) {
    const parts: Buffer[] = []
    for await (const chunk of entry) parts.push(Buffer.from(chunk as Uint8Array))
    out.push({...entry.header, content: Buffer.concat(parts).toString()})
  }
  await feeding
  return out
}

const VALID: RawEntry[] = [
  {header: {name: 'bento.yaml'}, content: "service: service:svc\nname: evil\nversion: 'v1'\ncreation_time: '2025-01-01T00:00:00+00:00'\n"},
  {header: {name: 'src', type: 'directory'}},
  {header: {name: 'src/service.py'}, content: 'x'},
]

/** A valid bundled model: an archive rejected for its bento.yaml must not install it either. */
const WITH_MODEL: RawEntry[] = [
  {header: {name: 'models/m/v1/model.yaml'}, content: modelYaml('m', 'v1', T_MODEL)},
  {header: {name: 'models/m/v1/saved_model.pb'}, content: 'pb'},
]

async function expectNothingLeft(home: string): Promise<void> {
  expect(await readdir(path.join(home, 'bentos'))).toEqual([])
  expect(await readdir(path.join(home, 'models'))).toEqual([])
  expect(await readdir(path.join(home, 'tmp'))).toEqual([])
}

describe('exportBento', () => {
  it('a Bento (or model) deleted while being exported: E_BENTO_NOT_FOUND / E_MODEL_NOT_FOUND, nothing written', async () => {
    for (const format of ['bento', 'gz', 'tar'] as const) {
      const {bentoDir, modelDir} = await seededHome()
      const out = await tempDir()
      const deleted = exportBento({
        bentoDir,
        modelDirs: modelRef(modelDir),
        out: path.join(out, 'a'),
        format,
        afterPlan: () => rm(bentoDir, {recursive: true, force: true}),
      })
      await expect(deleted).rejects.toMatchObject({
        code: 'E_BENTO_NOT_FOUND',
        message: expect.stringContaining("Bento 'clasificador_iris:qv5kx3hix2dpoax4' was deleted or changed while being exported") as unknown,
      })
      expect(await readdir(out)).toEqual([])
    }
    const {bentoDir, modelDir} = await seededHome()
    const out = await tempDir()
    const modelGone = exportBento({bentoDir, modelDirs: modelRef(modelDir), out: path.join(out, 'a'), afterPlan: () => rm(modelDir, {recursive: true})})
    await expect(modelGone).rejects.toMatchObject({code: 'E_MODEL_NOT_FOUND'})
    expect(await readdir(out)).toEqual([])
  })

  it('a file that changes size while exported: E_ARCHIVE naming it, nothing written', async () => {
    const {bentoDir} = await seededHome()
    const out = await tempDir()
    const grown = exportBento({bentoDir, out: path.join(out, 'a.tar'), afterPlan: () => writeFile(path.join(bentoDir, 'README.md'), 'x'.repeat(5000))})
    await expect(grown).rejects.toMatchObject({code: 'E_ARCHIVE', message: expect.stringContaining('README.md changed while') as unknown})
    expect(await readdir(out)).toEqual([])
  })

  it('is deterministic: same Bento, same bytes, whatever the mtimes or the home path', async () => {
    for (const format of ['bento', 'gz', 'tar'] as const) {
      const a = await seededHome()
      const b = await seededHome()
      const out = await tempDir()
      const first = await exportBento({bentoDir: a.bentoDir, modelDirs: modelRef(a.modelDir), out: path.join(out, 'a'), format})
      const old = new Date('2001-01-01T00:00:00Z')
      await utimes(path.join(b.bentoDir, 'bento.yaml'), old, old)
      const second = await exportBento({bentoDir: b.bentoDir, modelDirs: modelRef(b.modelDir), out: path.join(out, 'b'), format})
      expect(await sha256(first.path)).toBe(await sha256(second.path))
      expect(first.format).toBe(format)
    }
  })

  it('writes sorted entries with fixed metadata, plain names, models and models/<n>/latest', async () => {
    const {bentoDir, modelDir} = await seededHome()
    const out = await tempDir()
    const result = await exportBento({bentoDir, modelDirs: modelRef(modelDir), out: `${out}/`})
    expect(result.path).toBe(path.join(out, 'clasificador_iris-qv5kx3hix2dpoax4.bento'))
    expect(result.tag).toEqual({name: 'clasificador_iris', version: 'qv5kx3hix2dpoax4'})
    expect(await readdir(out)).toEqual(['clasificador_iris-qv5kx3hix2dpoax4.bento']) // no tmp file left
    const entries = await readEntries(result.path)
    expect(entries.map((e) => e.name)).toEqual([
      'README.link',
      'README.md',
      'bento.yaml',
      'env/',
      'env/docker/',
      'env/docker/entrypoint.sh',
      'env/python/',
      'env/python/requirements.txt',
      'env/python/version.txt',
      'models/',
      'models/flower_model/',
      'models/flower_model/latest',
      'models/flower_model/zfshqahix2dpoax4/',
      'models/flower_model/zfshqahix2dpoax4/model.yaml',
      'models/flower_model/zfshqahix2dpoax4/saved_model.pb',
      'models/flower_model/zfshqahix2dpoax4/variables/',
      'models/flower_model/zfshqahix2dpoax4/variables/variables.index',
      'src/',
      'src/bentofile.yaml',
      'src/service.py',
    ])
    expect(result.entries).toBe(entries.length)
    for (const e of entries) {
      expect([e.mtime.getTime(), e.uid, e.gid, e.uname, e.gname]).toEqual([0, 0, 0, '', ''])
    }
    const byName = new Map(entries.map((e) => [e.name, e]))
    expect(byName.get('env/docker/entrypoint.sh')?.mode).toBe(0o755)
    expect(byName.get('bento.yaml')?.mode).toBe(0o644)
    expect(byName.get('src/')?.mode).toBe(0o755)
    expect(byName.get('README.link')).toMatchObject({type: 'symlink', linkname: 'README.md'})
    expect(byName.get('models/flower_model/latest')?.content).toBe('zfshqahix2dpoax4')
  })

  it('is readable by GNU tar', async () => {
    const {bentoDir, modelDir} = await seededHome()
    const out = path.join(await tempDir(), 'x.bento')
    await exportBento({bentoDir, modelDirs: modelRef(modelDir), out})
    const {stdout} = await execa('tar', ['-tJvf', out, '--numeric-owner'])
    expect(stdout).toMatch(/^-rwxr-xr-x 0\/0 +\d+ 1970-01-01 00:00 env\/docker\/entrypoint\.sh$/m)
    expect(stdout).toMatch(/^lrwxrwxrwx 0\/0 .* README\.link -> README\.md$/m)
  })

  it('picks the format from the extension and names files in a directory', async () => {
    const {bentoDir} = await seededHome()
    const out = await tempDir()
    const gz = await exportBento({bentoDir, out: path.join(out, 'x.tar.gz')})
    expect(gz.format).toBe('gz')
    expect(detectArchiveFormat(await readFile(gz.path))).toBe('gz')
    const plain = await exportBento({bentoDir, out: path.join(out, 'x.tar')})
    expect(detectArchiveFormat(await readFile(plain.path))).toBe('tar')
    const inDir = await exportBento({bentoDir, out, format: 'gz'})
    expect(path.basename(inDir.path)).toBe('clasificador_iris-qv5kx3hix2dpoax4.tar.gz')
    const xz = await exportBento({bentoDir, out: path.join(out, 'y.bento')})
    expect(detectArchiveFormat(await readFile(xz.path))).toBe('xz')
  })

  it('refuses a symlink that leaves the Bento', async () => {
    const {bentoDir} = await seededHome()
    await writeTree(bentoDir, {src: {'data.csv': {symlink: '../../../../../etc/passwd'}}})
    await expect(exportBento({bentoDir, out: path.join(await tempDir(), 'x.tar')})).rejects.toMatchObject({
      code: 'E_ARCHIVE_UNSAFE',
      message: expect.stringContaining('src/data.csv'),
    })
  })

  it('says clearly when xz is missing', async () => {
    const {bentoDir} = await seededHome()
    const out = await tempDir()
    const savedPath = process.env.PATH
    process.env.PATH = '/nonexistent'
    try {
      const error = await exportBento({bentoDir, out: path.join(out, 'x.bento')}).catch((e: unknown) => e)
      expect(error).toBeInstanceOf(ArchiveError)
      expect((error as ArchiveError).hint).toContain('xz-utils')
    } finally {
      process.env.PATH = savedPath
    }
    expect(await readdir(out)).toEqual([])
  })

  it('says what is wrong with a destination it cannot write (D16), typed, leaving nothing', async () => {
    const {bentoDir} = await seededHome()
    // /sys refuses new files even to root: a portable stand-in for a read-only destination.
    for (const out of ['/sys/bento-export-test.tar', '/sys/bento-export-test.bento']) {
      const error = await exportBento({bentoDir, out}).catch((e: unknown) => e)
      expect(error).toBeInstanceOf(ArchiveError)
      expect(error).toMatchObject({code: 'E_ARCHIVE', message: expect.stringContaining(out)})
    }
    const dir = await tempDir()
    await writeFile(path.join(dir, 'file'), 'x')
    const error = await exportBento({bentoDir, out: path.join(dir, 'file', 'x.tar')}).catch((e: unknown) => e)
    expect(error).toMatchObject({code: 'E_ARCHIVE', message: expect.stringMatching(/a file is in the way|not a directory/)})
    expect(await readdir(dir)).toEqual(['file'])
  })

  it('sweeps the temp file of a killed export into the same directory, keeps live ones', async () => {
    const {bentoDir} = await seededHome()
    const out = await tempDir()
    const dead = spawnSync(process.execPath, ['-e', '0']).pid ?? 0
    const here = currentOwner()
    const deadToken = ownerToken({...here, pid: dead, start: '1'})
    const liveToken = ownerToken({...here, pid: process.ppid, start: processStart(process.ppid) ?? '0'})
    const elsewhere = ownerToken({...here, pid: dead, host: 'ffffffff'})
    await writeFile(path.join(out, `.x.tar.bento-tmp-${deadToken}`), 'partial')
    await writeFile(path.join(out, `.y.tar.bento-tmp-${liveToken}`), 'someone else, still running')
    await writeFile(path.join(out, `.z.tar.bento-tmp-${elsewhere}`), 'another host: cannot be proven dead')
    await exportBento({bentoDir, out: path.join(out, 'x.tar')})
    expect((await readdir(out)).sort()).toEqual([`.y.tar.bento-tmp-${liveToken}`, `.z.tar.bento-tmp-${elsewhere}`, 'x.tar'])
  })

  it('stops on an abort, removes its temp file and says so', async () => {
    const {bentoDir, modelDir} = await seededHome()
    for (const format of ['bento', 'gz'] as const) {
      const out = await tempDir()
      const controller = new AbortController()
      controller.abort()
      const error = await exportBento({bentoDir, modelDirs: modelRef(modelDir), out: path.join(out, 'x'), format, signal: controller.signal}).catch(
        (e: unknown) => e,
      )
      expect(error).toMatchObject({code: 'E_INTERRUPTED'})
      expect(await readdir(out)).toEqual([])
    }
  })
})

describe('importBento', () => {
  it('writes every directory 0755 whatever the umask (077 here): the Bento and the models it installs (E13)', async () => {
    const {bentoDir, modelDir} = await seededHome()
    const out = await tempDir()
    const {path: archive} = await exportBento({bentoDir, modelDirs: modelRef(modelDir), out: `${out}/`})
    const home = await newHome()
    const old = process.umask(0o077)
    let result
    try {
      result = await importBento({archive, home})
    } finally {
      process.umask(old)
    }
    const modes = new Set<string>()
    const walk = async (dir: string): Promise<void> => {
      modes.add(((await stat(dir)).mode & 0o7777).toString(8))
      for (const e of await readdir(dir, {withFileTypes: true})) if (e.isDirectory()) await walk(path.join(dir, e.name))
    }
    await walk(result.path)
    await walk(path.join(home, 'models', 'flower_model', 'zfshqahix2dpoax4'))
    expect(modes).toEqual(new Set(['755']))
  })

  let target: string
  beforeEach(async () => {
    target = await newHome()
  })

  it('round-trips: installs the models absent from the store and the Bento (keeping models/)', async () => {
    const {bentoDir, modelDir} = await seededHome()
    const out = await exportBento({bentoDir, modelDirs: modelRef(modelDir), out: path.join(await tempDir(), 'x.bento')})
    const result = await importBento({archive: out.path, home: target})
    expect(result).toMatchObject({
      tag: {name: 'clasificador_iris', version: 'qv5kx3hix2dpoax4'},
      format: 'xz',
      modelsInstalled: [{name: 'flower_model', version: 'zfshqahix2dpoax4'}],
      modelsSkipped: [],
      missingModels: [],
    })
    const bento = await Store.bentos(target).get('clasificador_iris')
    expect(bento.path).toBe(result.path)
    expect(bento.info.models[0]?.tag).toBe(MODEL.tag)
    expect(await readFile(path.join(bento.path, 'models/flower_model/zfshqahix2dpoax4/model.yaml'), 'utf8')).toContain('flower_model')
    expect(await readlink(path.join(bento.path, 'README.link'))).toBe('README.md')
    expect((await stat(path.join(bento.path, 'env/docker/entrypoint.sh'))).mode & 0o777).toBe(0o755)
    const model = await Store.models(target).get('flower_model:latest')
    expect(model.info.creation_time).toBe(T_MODEL)
    expect(await readFile(path.join(target, 'models/flower_model/latest'), 'utf8')).toBe('zfshqahix2dpoax4')
    expect(await readFile(path.join(target, 'bentos/clasificador_iris/latest'), 'utf8')).toBe('qv5kx3hix2dpoax4')
    expect(await readdir(path.join(target, 'tmp'))).toEqual([])
  })

  it('skips models the store already has, and reports missing ones', async () => {
    const {bentoDir, modelDir} = await seededHome()
    const out = await exportBento({bentoDir, modelDirs: modelRef(modelDir), out: path.join(await tempDir(), 'x.tar.gz')})
    await writeTree(path.join(target, 'models/flower_model/zfshqahix2dpoax4'), modelTree('flower_model', 'zfshqahix2dpoax4', T_MODEL))
    const result = await importBento({archive: out.path, home: target})
    expect(result.format).toBe('gz')
    expect(result.modelsSkipped).toEqual([{name: 'flower_model', version: 'zfshqahix2dpoax4'}])
    expect(result.modelsInstalled).toEqual([])

    const other = await newHome()
    const bare = await exportBento({bentoDir, out: path.join(await tempDir(), 'y.tar')})
    expect((await importBento({archive: bare.path, home: other})).missingModels).toEqual([MODEL.tag])
  })

  it('accepts the ./-prefixed names that BentoML HEAD (shutil.make_archive) writes', async () => {
    const {bentoDir} = await seededHome()
    const archive = path.join(await tempDir(), 'head.bento')
    await execa('tar', ['-C', bentoDir, '-cJf', archive, '.'])
    const {stdout} = await execa('tar', ['-tJf', archive])
    expect(stdout.split('\n')).toContain('./bento.yaml')
    const result = await importBento({archive, home: target})
    expect(result.tag.name).toBe('clasificador_iris')
    expect(await readFile(path.join(result.path, 'src/service.py'), 'utf8')).toBe('import bentoml\n')
  })

  it('refuses an existing tag and leaves nothing behind', async () => {
    const archive = path.join(await tempDir(), 'a.tar')
    await writeFile(archive, await rawTar(VALID))
    await importBento({archive, home: target})
    const error = await importBento({archive, home: target}).catch((e: unknown) => e)
    expect(error).toBeInstanceOf(StoreError)
    expect(error).toMatchObject({code: 'E_ALREADY_EXISTS', exitCode: 5})
    expect(await readdir(path.join(target, 'tmp'))).toEqual([])
    expect(await readdir(path.join(target, 'bentos', 'evil'))).toEqual(['latest', 'v1'])
  })

  const malicious: Array<[string, RawEntry[], string, string]> = [
    ['an absolute path', [...VALID, {header: {name: '/tmp/pwned'}, content: 'x'}], 'E_ARCHIVE_UNSAFE', '/tmp/pwned'],
    ['a ../ path', [...VALID, {header: {name: '../x'}, content: 'x'}], 'E_ARCHIVE_UNSAFE', '../x'],
    ['a nested .. path', [...VALID, {header: {name: 'src/../../x'}, content: 'x'}], 'E_ARCHIVE_UNSAFE', 'src/../../x'],
    ['an escaping symlink', [...VALID, {header: {name: 'src/link', type: 'symlink', linkname: '../../etc/passwd'}}], 'E_ARCHIVE_UNSAFE', 'src/link'],
    ['an absolute symlink', [...VALID, {header: {name: 'link', type: 'symlink', linkname: '/etc/passwd'}}], 'E_ARCHIVE_UNSAFE', 'link'],
    [
      'a symlink chain that escapes',
      [
        ...VALID,
        {header: {name: 'src/up', type: 'symlink', linkname: '..'}},
        {header: {name: 'chain', type: 'symlink', linkname: 'src/up/../..'}},
      ],
      'E_ARCHIVE_UNSAFE',
      'chain',
    ],
    [
      'a write through a symlink',
      [...VALID, {header: {name: 'dir', type: 'symlink', linkname: 'src'}}, {header: {name: 'dir/x'}, content: 'x'}],
      'E_ARCHIVE_UNSAFE',
      'dir/x',
    ],
    ['a hard link out of the root', [...VALID, {header: {name: 'h', type: 'link', linkname: '../../etc/passwd'}}], 'E_ARCHIVE_UNSAFE', '../../etc/passwd'],
    ['a hard link to nothing', [...VALID, {header: {name: 'h', type: 'link', linkname: 'etc/passwd'}}], 'E_ARCHIVE_UNSAFE', 'h'],
    ['a character device', [...VALID, {header: {name: 'null', type: 'character-device', devmajor: 1, devminor: 3}}], 'E_ARCHIVE_UNSAFE', 'null'],
    ['a block device', [...VALID, {header: {name: 'sda', type: 'block-device', devmajor: 8, devminor: 0}}], 'E_ARCHIVE_UNSAFE', 'sda'],
    ['a FIFO', [...VALID, {header: {name: 'pipe', type: 'fifo'}}], 'E_ARCHIVE_UNSAFE', 'pipe'],
    ['no bento.yaml at the root', VALID.slice(1), 'E_ARCHIVE_INVALID', 'no bento.yaml'],
    ['a duplicate entry', [...VALID, {header: {name: 'src/service.py'}, content: 'y'}], 'E_ARCHIVE_INVALID', 'src/service.py'],
    [
      'a model symlink that leaves its model directory',
      [
        ...VALID,
        {header: {name: 'models/m/v1/model.yaml'}, content: modelYaml('m', 'v1', T_MODEL)},
        {header: {name: 'models/m/v1/weights', type: 'symlink', linkname: '../../../src/service.py'}},
      ],
      'E_ARCHIVE_UNSAFE',
      'models/m/v1/weights',
    ],
    [
      'a corrupt bundled model',
      [...VALID, {header: {name: 'models/m/v1/model.yaml'}, content: 'name: m\n'}],
      'E_ARCHIVE_INVALID',
      'models/m/v1',
    ],
    // D10: what BentoML cannot read is refused (its `bentoml list` would fail on the whole store).
    [
      'a bento.yaml with a python tag',
      [{header: {name: 'bento.yaml'}, content: `x: !!python/object/apply:os.system ['true']\n${VALID[0]?.content ?? ''}`}, ...VALID.slice(1), ...WITH_MODEL],
      'E_ARCHIVE_INVALID',
      '!!python/object/apply',
    ],
    [
      'a bento.yaml with an alias bomb',
      [
        {header: {name: 'bento.yaml'}, content: `${VALID[0]?.content ?? ''}l0: &a [${'x,'.repeat(99)}x]\nl1: &b [${'*a,'.repeat(99)}*a]\nl2: &c [${'*b,'.repeat(99)}*b]\nl3: [${'*c,'.repeat(99)}*c]\n`},
        ...VALID.slice(1),
      ],
      'E_ARCHIVE_INVALID',
      'alias bomb',
    ],
    [
      'a bento.yaml whose docker block is not a mapping',
      [{header: {name: 'bento.yaml'}, content: `${VALID[0]?.content ?? ''}docker: null\n`}, ...VALID.slice(1), ...WITH_MODEL],
      'E_ARCHIVE_INVALID',
      'docker',
    ],
    // D11: `latest` names the newest version, it cannot be one: refused before any model is installed.
    [
      "a bento.yaml with version 'latest'",
      [{header: {name: 'bento.yaml'}, content: (VALID[0]?.content ?? '').replace("version: 'v1'", "version: 'latest'")}, ...VALID.slice(1), ...WITH_MODEL],
      'E_ARCHIVE_INVALID',
      "'latest' is reserved",
    ],
    [
      "a model version 'latest'",
      [...VALID, {header: {name: 'models/m/latest/model.yaml'}, content: modelYaml('m', 'latest', T_MODEL)}],
      'E_ARCHIVE_INVALID',
      "'latest' is reserved",
    ],
  ]

  it.each(malicious)('rejects %s and leaves nothing in the store or tmp', async (_what, entries, code, mentions) => {
    for (const gzip of [false, true]) {
      const home = await newHome()
      const archive = path.join(await tempDir(), gzip ? 'evil.tar.gz' : 'evil.tar')
      await writeFile(archive, await rawTar(entries, gzip))
      const error = await importBento({archive, home}).catch((e: unknown) => e)
      expect(error).toBeInstanceOf(ArchiveError)
      expect(error).toMatchObject({code})
      expect((error as Error).message).toContain(mentions)
      await expectNothingLeft(home)
    }
  })

  it('rejects a truncated archive and a file that is not an archive', async () => {
    const {bentoDir} = await seededHome()
    const out = await exportBento({bentoDir, out: path.join(await tempDir(), 'x.bento')})
    const bytes = await readFile(out.path)
    const truncated = path.join(await tempDir(), 'cut.bento')
    await writeFile(truncated, bytes.subarray(0, Math.floor(bytes.length / 2)))
    await expect(importBento({archive: truncated, home: target})).rejects.toMatchObject({code: 'E_ARCHIVE_INVALID'})
    await expectNothingLeft(target)
    const complete = await rawTar(VALID)
    const noMarker = path.join(await tempDir(), 'cut.tar')
    await writeFile(noMarker, complete.subarray(0, complete.length - 1024)) // every entry whole, end marker gone
    await expect(importBento({archive: noMarker, home: target})).rejects.toMatchObject({
      code: 'E_ARCHIVE_INVALID',
      message: expect.stringContaining('end-of-archive'),
    })
    await expectNothingLeft(target)
    const text = path.join(await tempDir(), 'notes.txt')
    await writeFile(text, 'hello, this is not a tar file\n'.repeat(40))
    await expect(importBento({archive: text, home: target})).rejects.toMatchObject({code: 'E_ARCHIVE_INVALID'})
    await expectNothingLeft(target)
    await expect(importBento({archive: path.join(target, 'missing.bento'), home: target})).rejects.toMatchObject({
      code: 'E_ARCHIVE_NOT_FOUND',
    })
  })

  it('is bounded (D14): entries, total size and compression ratio, each with the flag that raises it', async () => {
    const archive = path.join(await tempDir(), 'a.tar')
    await writeFile(archive, await rawTar(VALID))
    const home = await newHome()
    await expect(importBento({archive, home, limits: {maxEntries: 2}})).rejects.toMatchObject({
      code: 'E_ARCHIVE_TOO_LARGE',
      exitCode: 6,
      data: {limit: 'maxEntries'},
      hint: expect.stringContaining('--max-entries'),
    })
    await expect(importBento({archive, home, limits: {maxBytes: 10}})).rejects.toMatchObject({
      code: 'E_ARCHIVE_TOO_LARGE',
      data: {limit: 'maxBytes'},
      hint: expect.stringContaining('BENTO_IMPORT_MAX_SIZE'),
    })
    await expectNothingLeft(home)
    expect((await importBento({archive, home, limits: {maxEntries: 0, maxBytes: 0}})).tag.name).toBe('evil') // 0: no limit
  })

  it('refuses a decompression bomb at its header, before writing it (D14)', async () => {
    // 80 MiB of zeros declared by one entry of a ~80 KiB .tar.gz: a ratio of about 1000:1.
    const dir = await tempDir()
    const archive = path.join(dir, 'bomb.tar.gz')
    const pack = tar.pack()
    const writing = pipeline(pack, createGzip({level: 9}), createWriteStream(archive))
    for (const entry of VALID) await new Promise<void>((resolve, reject) => pack.entry(entry.header, entry.content ?? '', (e) => (e ? reject(e) : resolve())))
    const size = 80 * 2 ** 20
    const sink = pack.entry({name: 'src/zeros.bin', size}, () => undefined)
    const zeros = Buffer.alloc(2 ** 20)
    for (let i = 0; i < size / zeros.length; i++) if (!sink.write(zeros)) await new Promise<void>((r) => sink.once('drain', () => r()))
    sink.end(undefined)
    pack.finalize()
    await writing
    expect((await stat(archive)).size).toBeLessThan(size / 500)
    const home = await newHome()
    const error = await importBento({archive, home}).catch((e: unknown) => e)
    expect(error).toMatchObject({code: 'E_ARCHIVE_TOO_LARGE', data: {limit: 'maxRatio'}, hint: expect.stringContaining('--max-ratio')})
    await expectNothingLeft(home)
    expect((await importBento({archive, home, limits: {maxRatio: 0}})).tag.name).toBe('evil')
  })

  it('stops on an abort and leaves nothing (D6)', async () => {
    const {bentoDir, modelDir} = await seededHome()
    const out = await exportBento({bentoDir, modelDirs: modelRef(modelDir), out: path.join(await tempDir(), 'x.bento')})
    const home = await newHome()
    const controller = new AbortController()
    controller.abort()
    await expect(importBento({archive: out.path, home, signal: controller.signal})).rejects.toMatchObject({code: 'E_INTERRUPTED'})
    await expectNothingLeft(home)
  })

  it('refuses what is not a regular file: a directory, a device (D13)', async () => {
    const home = await newHome()
    await expect(importBento({archive: await tempDir(), home})).rejects.toMatchObject({
      code: 'E_ARCHIVE_INVALID',
      message: expect.stringContaining('is a directory, not an archive file'),
    })
    await expect(importBento({archive: '/dev/zero', home})).rejects.toMatchObject({
      code: 'E_ARCHIVE_INVALID',
      message: expect.stringContaining('is a device'),
    })
    await expectNothingLeft(home)
  })

  it('creates files with normalized modes and no setuid bits', async () => {
    const archive = path.join(await tempDir(), 'modes.tar')
    await writeFile(archive, await rawTar([...VALID, {header: {name: 'src/run.sh', mode: 0o4777}, content: '#!/bin/sh\n'}]))
    const {path: dir} = await importBento({archive, home: target})
    expect((await lstat(path.join(dir, 'src/run.sh'))).mode & 0o7777).toBe(0o755)
    expect((await lstat(path.join(dir, 'src/service.py'))).mode & 0o7777).toBe(0o644)
  })
})

describe('detectArchiveFormat', () => {
  it('reads magic bytes', () => {
    expect(detectArchiveFormat(Buffer.from([0xfd, 0x37, 0x7a, 0x58, 0x5a, 0x00]))).toBe('xz')
    expect(detectArchiveFormat(Buffer.from([0x1f, 0x8b, 8]))).toBe('gz')
    expect(detectArchiveFormat(Buffer.from('PK\x03\x04'))).toBe('zip')
    expect(detectArchiveFormat(Buffer.from('bento.yaml'))).toBe('tar')
  })
})
