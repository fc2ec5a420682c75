import {createHash} from 'node:crypto'
import {readFileSync} from 'node:fs'
import {Readable} from 'node:stream'

import tar from 'tar-stream'
import {describe, expect, it} from 'vitest'

import {chainIds, legacyLayerIndex, readImageExport} from './export-layers.js'

/** The v1 JSON files of a real `docker save` (Docker 20.10.24) and the image's diff ids, as the engine wrote them. */
const fixture = JSON.parse(readFileSync(new URL('../../test/fixtures/docker-save/legacy-v1-json.json', import.meta.url), 'utf8')) as {
  diffIds: string[]
  dirs: Record<string, string>
  manifestLayers: string[]
}

const sha = (b: Buffer | string): string => `sha256:${createHash('sha256').update(b).digest('hex')}`

describe('legacyLayerIndex (docker save of Docker ≤ 24)', () => {
  it('names every <v1id>/ directory of a real export by its layer, as manifest.json orders them', () => {
    const chains = chainIds(fixture.diffIds)
    const byIndex = Object.entries(fixture.dirs).map(([dir, json]) => [legacyLayerIndex(dir, json, chains), dir] as const)
    const ordered = byIndex.sort((a, b) => (a[0] ?? -1) - (b[0] ?? -1)).map(([, dir]) => `${dir}/layer.tar`)
    expect(byIndex.every(([i]) => i !== undefined)).toBe(true)
    expect(ordered).toEqual(fixture.manifestLayers)
  })

  it('knows no layer for a directory of another image (undefined), and the top layer by its config', () => {
    const chains = chainIds(fixture.diffIds)
    const [dir, json] = Object.entries(fixture.dirs).find(([, j]) => !j.includes('"config"')) as [string, string]
    expect(legacyLayerIndex(dir, json, chainIds([...fixture.diffIds].reverse()))).toBeUndefined()
    expect(legacyLayerIndex('0'.repeat(64), '{"id":"x","config":{}}', chains)).toBe(chains.length - 1)
    expect(legacyLayerIndex('0'.repeat(64), 'not json', chains)).toBeUndefined()
  })
})

describe('readImageExport', () => {
  const layers = [Buffer.from('layer zero'), Buffer.from('layer one, longer')]
  const diffIds = layers.map(sha)
  const config = Buffer.from('{"rootfs":{}}')
  const id = sha(config)

  function exportOf(entries: Array<{name: string; data: Buffer}>): NodeJS.ReadableStream {
    const pack = tar.pack()
    for (const e of entries) pack.entry({name: e.name, size: e.data.length}, e.data)
    pack.finalize()
    return Readable.from(pack as unknown as AsyncIterable<Buffer>)
  }

  it('OCI layout (Docker ≥ 25): hands over the wanted blobs by their names, skips the rest unread', async () => {
    const stream = exportOf([
      {name: 'oci-layout', data: Buffer.from('{}')},
      {name: `blobs/sha256/${diffIds[0]!.slice(7)}`, data: layers[0]!},
      {name: `blobs/sha256/${id.slice(7)}`, data: config},
      {name: `blobs/sha256/${diffIds[1]!.slice(7)}`, data: layers[1]!},
    ])
    const got: Array<{digest: string; kind: string; hash: string}> = []
    const handed = await readImageExport(stream, {id, diffIds}, (d) => d !== diffIds[0], async (b) => {
      const parts: Buffer[] = []
      for await (const c of b.stream) parts.push(c)
      got.push({digest: b.digest, kind: b.kind, hash: sha(Buffer.concat(parts))})
    })
    expect(got).toEqual([
      {digest: id, kind: 'config', hash: id},
      {digest: diffIds[1], kind: 'layer', hash: diffIds[1]},
    ])
    expect([...handed].sort()).toEqual([id, diffIds[1]].sort())
  })

  it('docker-archive of containers/image (Podman 4.3 `podman save`): layers by <diff id>.tar, the v1 dirs symlinks', async () => {
    const pack = tar.pack()
    pack.entry({name: `${diffIds[0]!.slice(7)}.tar`, size: layers[0]!.length}, layers[0]!)
    pack.entry({name: `${id.slice(7)}.json`, size: config.length}, config)
    pack.entry({name: `${'8'.repeat(64)}/layer.tar`, type: 'symlink', linkname: `../${diffIds[0]!.slice(7)}.tar`})
    pack.entry({name: `${'8'.repeat(64)}/json`, size: 2}, Buffer.from('{}'))
    pack.entry({name: `${diffIds[1]!.slice(7)}.tar`, size: layers[1]!.length}, layers[1]!)
    pack.finalize()
    const got: string[] = []
    await readImageExport(Readable.from(pack as unknown as AsyncIterable<Buffer>), {id, diffIds}, () => true, async (b) => {
      const parts: Buffer[] = []
      for await (const c of b.stream) parts.push(c)
      expect(sha(Buffer.concat(parts))).toBe(b.digest)
      got.push(`${b.kind} ${b.digest}`)
    })
    expect(got).toEqual([`layer ${diffIds[0]}`, `config ${id}`, `layer ${diffIds[1]}`])
  })

  it('a consumer that fails stops the export (the error comes out, no later blob is handed over)', async () => {
    const stream = exportOf([
      {name: `blobs/sha256/${diffIds[0]!.slice(7)}`, data: layers[0]!},
      {name: `blobs/sha256/${diffIds[1]!.slice(7)}`, data: layers[1]!},
    ])
    const seen: string[] = []
    await expect(
      readImageExport(stream, {id, diffIds}, () => true, async (b) => {
        seen.push(b.digest)
        throw new Error('registry gone')
      }),
    ).rejects.toThrow('registry gone')
    expect(seen).toEqual([diffIds[0]])
  })
})
