import {createHash} from 'node:crypto'
import {createReadStream} from 'node:fs'
import {mkdir, mkdtemp, readdir, readFile, rm, writeFile} from 'node:fs/promises'
import {tmpdir} from 'node:os'
import {join} from 'node:path'

import tar from 'tar-stream'
import {afterAll, beforeAll, describe, expect, it} from 'vitest'

import {isBentoError} from '../errors.js'
import {FakeImageClient} from './fake-client.js'
import {chainIds} from './export-layers.js'
import {OCI_INDEX, OCI_LAYER, OCI_MANIFEST, type OutputTarget, outputMtime, parseOutput, writeImageOutput} from './image-output.js'

const sha = (b: Buffer | string): string => `sha256:${createHash('sha256').update(b).digest('hex')}`
const hex = (d: string): string => d.slice(7)

const layers = [Buffer.from('base layer bytes'), Buffer.alloc(200_000, 7), Buffer.from('code layer')]
const diffIds = layers.map(sha)
const config = Buffer.from(JSON.stringify({architecture: 'amd64', os: 'linux', rootfs: {type: 'layers', diff_ids: diffIds}}))
const imageId = sha(config)
const REF = '127.0.0.1:5000/iris:1.0'

/** An engine whose export of the image is Podman's docker-archive (`<diff id hex>.tar`, `<image id hex>.json`), in a shuffled order. */
function engine(exportEntries?: Array<{name: string; data: Buffer}>): FakeImageClient {
  const entries = exportEntries ?? [
    {name: `${hex(diffIds[1] as string)}.tar`, data: layers[1] as Buffer},
    {name: `${hex(imageId)}.json`, data: config},
    {name: `${hex(diffIds[0] as string)}.tar`, data: layers[0] as Buffer},
    {name: `${hex(diffIds[2] as string)}.tar`, data: layers[2] as Buffer},
    {name: 'manifest.json', data: Buffer.from('[]')},
  ]
  return new FakeImageClient({images: [{id: imageId, repoTags: ['iris:1.0'], diffIds}], exports: {[imageId]: entries}})
}

let root: string
beforeAll(async () => {
  root = await mkdtemp(join(tmpdir(), 'bento-image-output-'))
})
afterAll(async () => {
  await rm(root, {recursive: true, force: true})
})

async function write(target: OutputTarget, client = engine(), extra: {signal?: AbortSignal; mtime?: Date} = {}) {
  const info = (await client.inspect(imageId))!
  return writeImageOutput({target, images: client, image: imageId, info, refs: [REF, 'iris:dev'], mtime: extra.mtime ?? outputMtime('1700000000'), signal: extra.signal})
}

/** Every file under `dir` (relative path → bytes). */
async function tree(dir: string): Promise<Record<string, Buffer>> {
  const out: Record<string, Buffer> = {}
  for (const e of await readdir(dir, {recursive: true, withFileTypes: true})) {
    if (e.isFile()) out[join(e.parentPath ?? (e as unknown as {path: string}).path, e.name).slice(dir.length + 1)] = await readFile(join(e.parentPath ?? (e as unknown as {path: string}).path, e.name))
  }
  return out
}

async function tarEntries(file: string): Promise<Array<{header: tar.Header; data: Buffer}>> {
  const extract = tar.extract()
  createReadStream(file).pipe(extract as unknown as NodeJS.WritableStream)
  const out: Array<{header: tar.Header; data: Buffer}> = []
  for await (const entry of extract) {
    const parts: Buffer[] = []
    for await (const c of entry as unknown as AsyncIterable<Buffer>) parts.push(c)
    out.push({header: entry.header, data: Buffer.concat(parts)})
  }
  return out
}

function expectError(error: unknown, code: string, exitCode: number, ...words: string[]): void {
  expect(isBentoError(error), String(error)).toBe(true)
  const e = error as {code: string; exitCode: number; message: string}
  expect(e).toMatchObject({code, exitCode})
  for (const w of words) expect(e.message).toContain(w)
}

describe('parseOutput (--output)', () => {
  it('takes oci:DIR and docker-archive:FILE, relative to cwd', () => {
    const cwd = process.cwd()
    const elsewhere = join(tmpdir(), 'iris.tar')
    expect(parseOutput('oci:./out/iris', cwd)).toEqual({kind: 'oci', path: join(cwd, 'out/iris')})
    expect(parseOutput(`docker-archive:${elsewhere}`, cwd)).toEqual({kind: 'docker-archive', path: elsewhere})
  })

  it.each(['tar:./x', 'oci:', 'docker-archive:', './iris-oci', 'OCI:x', 'registry:127.0.0.1:5000/x'])('refuses %j: E_USAGE (exit 2) naming the flag and the accepted forms', (v) => {
    let error: unknown
    try {
      parseOutput(v, process.cwd())
    } catch (e) {
      error = e
    }
    expectError(error, 'E_USAGE', 2, '--output', 'oci:DIR', 'docker-archive:FILE')
  })
})

describe('writeImageOutput oci:DIR', () => {
  it('writes an OCI image layout: oci-layout, index.json → manifest → config + uncompressed layers in diff-id order, each blob named by its digest', async () => {
    const dir = join(root, 'layout')
    const r = await write({kind: 'oci', path: dir})
    const files = await tree(dir)
    expect(JSON.parse(files['oci-layout']!.toString())).toEqual({imageLayoutVersion: '1.0.0'})
    for (const [name, data] of Object.entries(files)) if (name.startsWith('blobs/')) expect(`sha256:${name.split('/')[2]}`).toBe(sha(data))
    const index = JSON.parse(files['index.json']!.toString()) as {schemaVersion: number; mediaType: string; manifests: Array<{mediaType: string; digest: string; size: number; annotations: Record<string, string>}>}
    expect(index).toMatchObject({schemaVersion: 2, mediaType: OCI_INDEX})
    expect(index.manifests).toHaveLength(1)
    const m = index.manifests[0]!
    expect(m).toMatchObject({mediaType: OCI_MANIFEST, digest: r.manifestDigest, annotations: {'org.opencontainers.image.ref.name': '1.0', 'io.containerd.image.name': REF}})
    const manifestBytes = files[`blobs/sha256/${hex(m.digest)}`]!
    expect(m.size).toBe(manifestBytes.length)
    const manifest = JSON.parse(manifestBytes.toString()) as {config: {digest: string; size: number}; layers: Array<{mediaType: string; digest: string; size: number}>}
    expect(manifest.config).toMatchObject({digest: imageId, size: config.length})
    expect(manifest.layers).toEqual(diffIds.map((d, i) => ({mediaType: OCI_LAYER, digest: d, size: layers[i]!.length})))
    expect(files[`blobs/sha256/${hex(imageId)}`]).toEqual(config)
    expect(Object.keys(files).filter((f) => f.startsWith('blobs/')).sort()).toEqual([imageId, m.digest, ...diffIds].map((d) => `blobs/sha256/${hex(d)}`).sort())
    expect(r).toMatchObject({kind: 'oci', path: dir, imageId, layers: diffIds.map((d, i) => ({digest: d, size: layers[i]!.length}))})
  })

  it('is deterministic: two writes of the image (exported in another order, the OCI layout of Docker ≥ 25) are byte-identical', async () => {
    const a = join(root, 'det-a')
    const b = join(root, 'det-b')
    await write({kind: 'oci', path: a})
    const ociExport = [
      {name: 'oci-layout', data: Buffer.from('{}')},
      ...[...layers].reverse().map((l) => ({name: `blobs/sha256/${hex(sha(l))}`, data: l})),
      {name: `blobs/sha256/${hex(imageId)}`, data: config},
    ]
    await write({kind: 'oci', path: b}, engine(ociExport), {mtime: outputMtime(undefined)})
    expect(await tree(b)).toEqual(await tree(a))
  })

  it('refuses a target directory that is not empty (E_USAGE), leaving it as it was; an empty one is filled', async () => {
    const full = join(root, 'full')
    await mkdir(full)
    await writeFile(join(full, 'keep.txt'), 'mine')
    let error: unknown
    await write({kind: 'oci', path: full}).catch((e: unknown) => (error = e))
    expectError(error, 'E_USAGE', 2, '--output', full, 'not empty')
    expect(await readdir(full)).toEqual(['keep.txt'])
    const empty = join(root, 'empty')
    await mkdir(empty)
    await write({kind: 'oci', path: empty})
    expect((await readdir(empty)).sort()).toEqual(['blobs', 'index.json', 'oci-layout'])
  })
})

describe('writeImageOutput docker-archive:FILE', () => {
  it('writes what `docker load` reads: manifest.json (Config, RepoTags, Layers in diff-id order), repositories, the config and one tar per layer', async () => {
    const file = join(root, 'iris.tar')
    const r = await write({kind: 'docker-archive', path: file})
    const entries = await tarEntries(file)
    const byName = Object.fromEntries(entries.map((e) => [e.header.name, e]))
    expect(JSON.parse(byName['manifest.json']!.data.toString())).toEqual([
      {Config: `${hex(imageId)}.json`, RepoTags: [REF, 'iris:dev'], Layers: diffIds.map((d) => `${hex(d)}.tar`)},
    ])
    const top = hex(chainIds(diffIds).at(-1)!)
    expect(JSON.parse(byName['repositories']!.data.toString())).toEqual({'127.0.0.1:5000/iris': {'1.0': top}, iris: {dev: top}})
    expect(byName[`${hex(imageId)}.json`]!.data).toEqual(config)
    for (const [i, d] of diffIds.entries()) expect(byName[`${hex(d)}.tar`]!.data).toEqual(layers[i])
    expect(entries).toHaveLength(3 + layers.length)
    for (const e of entries) expect(e.header).toMatchObject({mtime: new Date(1_700_000_000_000), uid: 0, gid: 0, mode: 0o644, type: 'file'})
    expect(r.bytes).toBe((await readFile(file)).length)
  })

  it('is deterministic with SOURCE_DATE_EPOCH: two writes are byte-identical; another epoch changes only the tar times', async () => {
    const a = join(root, 'a.tar')
    const b = join(root, 'b.tar')
    const c = join(root, 'c.tar')
    await write({kind: 'docker-archive', path: a})
    await write({kind: 'docker-archive', path: b})
    await write({kind: 'docker-archive', path: c}, engine(), {mtime: outputMtime('0')})
    expect(await readFile(b)).toEqual(await readFile(a))
    expect(await readFile(c)).not.toEqual(await readFile(a))
    expect((await tarEntries(c)).map((e) => e.data)).toEqual((await tarEntries(a)).map((e) => e.data))
  })

  it('replaces an existing file whole; refuses a directory (E_USAGE)', async () => {
    const file = join(root, 'old.tar')
    await writeFile(file, 'old bytes')
    await write({kind: 'docker-archive', path: file})
    expect((await tarEntries(file)).some((e) => e.header.name === 'manifest.json')).toBe(true)
    let error: unknown
    await write({kind: 'docker-archive', path: root}).catch((e: unknown) => (error = e))
    expectError(error, 'E_USAGE', 2, '--output', 'directory')
  })
})

describe('a failed or interrupted write leaves nothing', () => {
  const cases: Array<[string, () => FakeImageClient, string, number, AbortSignal?]> = [
    ['a layer missing from the export', () => engine([{name: `${hex(imageId)}.json`, data: config}, {name: `${hex(diffIds[0]!)}.tar`, data: layers[0]!}]), 'E_ARCHIVE', 6],
    ['a layer whose bytes do not hash to its diff id', () => engine([{name: `${hex(diffIds[0]!)}.tar`, data: layers[0]!}, {name: `${hex(diffIds[1]!)}.tar`, data: Buffer.alloc(200_000, 8)}, {name: `${hex(diffIds[2]!)}.tar`, data: layers[2]!}, {name: `${hex(imageId)}.json`, data: config}]), 'E_ARCHIVE', 6],
    ['Ctrl-C (an aborted signal)', () => engine(), 'E_INTERRUPTED', 130, AbortSignal.abort()],
  ]
  for (const kind of ['oci', 'docker-archive'] as const) {
    it.each(cases)(`${kind}: %s → no target, no temp sibling`, async (_what, client, code, exitCode, signal) => {
      const parent = join(root, `fail-${kind}-${code}-${Math.random().toString(16).slice(2)}`)
      await mkdir(parent)
      const target = join(parent, kind === 'oci' ? 'out' : 'out.tar')
      let error: unknown
      await write({kind, path: target}, client(), {signal}).catch((e: unknown) => (error = e))
      expectError(error, code, exitCode)
      expect(await readdir(parent)).toEqual([])
    })
  }

  it('a target under a file (no directory can be made there): E_ARCHIVE (exit 6) naming it, not a bug', async () => {
    const file = join(root, 'a-file')
    await writeFile(file, 'x')
    let error: unknown
    await write({kind: 'oci', path: join(file, 'out')}).catch((e: unknown) => (error = e))
    expectError(error, 'E_ARCHIVE', 6, join(file, 'out'))
  })
})
