import {createHash} from 'node:crypto'

import tar from 'tar-stream'

import {RegistryError} from '../errors.js'

/** One blob of the engine's export, handed over while the export streams: read `stream` to its end (or not at all). */
export interface ExportBlob {
  digest: string
  size: number
  kind: 'layer' | 'config'
  stream: AsyncIterable<Buffer>
}

/** Chain ids of the image's layers (the image spec's ChainID: sha256 of "parent-chain diff-id"). Pure. */
export function chainIds(diffIds: string[]): string[] {
  const out: string[] = []
  for (const d of diffIds) {
    const prev = out.at(-1)
    out.push(prev === undefined ? d : `sha256:${createHash('sha256').update(`${prev} ${d}`).digest('hex')}`)
  }
  return out
}

/** Go's encoding/json escapes these in strings; the engine hashed its own marshalling. */
function goEscape(json: string): string {
  return json.replace(/[<>&\u2028\u2029]/g, (c) => `\\u${c.charCodeAt(0).toString(16).padStart(4, '0')}`)
}

/**
 * Which layer of the image (its index in `diffIds`) a legacy `docker save` directory is: the engine names each
 * `<v1id>/` by sha256 of the v1 JSON written in it, with `id` taken out, `layer_id` (the layer's chain id) and
 * `parent` (`sha256:`-prefixed) put in, keys sorted — and, below the top layer, no `os` (Docker 20.10–24,
 * image/tarexport/save.go, v1.CreateID). The top layer's JSON carries the image `config`; when hashing does not
 * find it, that is the top. Undefined when nothing fits (another engine's export). Pure.
 */
export function legacyLayerIndex(dirId: string, jsonText: string, chains: string[]): number | undefined {
  let v1: Record<string, unknown>
  try {
    v1 = JSON.parse(jsonText) as Record<string, unknown>
  } catch {
    return undefined
  }
  for (let i = 0; i < chains.length; i++) {
    const top = i === chains.length - 1
    for (const withOs of top ? [true] : [false, true]) {
      const m: Record<string, unknown> = {...v1}
      delete m.id
      if (!withOs) delete m.os
      m.layer_id = chains[i]
      if (typeof v1.parent === 'string' && v1.parent !== '') m.parent = `sha256:${v1.parent}`
      const text = `{${Object.keys(m)
        .sort()
        .map((k) => `${JSON.stringify(k)}:${JSON.stringify(m[k])}`)
        .join(',')}}`
      if (createHash('sha256').update(goEscape(text)).digest('hex') === dirId) return i
    }
  }
  return 'config' in v1 && chains.length > 0 ? chains.length - 1 : undefined
}

/**
 * Read an engine's export (`ImageClient.save`) and hand `onBlob` each blob `want` asks for, as it streams: one pass,
 * nothing buffered beyond what `onBlob` holds. Knows three layouts: the OCI layout of Docker ≥ 25
 * (`blobs/sha256/<digest>`, layers uncompressed so digest = diff id), the legacy one of Docker ≤ 24
 * (`<v1id>/layer.tar`, named per `legacyLayerIndex`) and the docker-archive of containers/image (Podman:
 * `<diff id hex>.tar`, `<v1id>/layer.tar` a symlink to it); the config is `<image id hex>.json` in the last two.
 * Returns the digests handed over; a wanted digest missing from it means the export names its layers otherwise.
 */
export async function readImageExport(
  stream: NodeJS.ReadableStream,
  image: {id: string; diffIds: string[]},
  want: (digest: string) => boolean,
  onBlob: (blob: ExportBlob) => Promise<void>,
): Promise<Set<string>> {
  const chains = chainIds(image.diffIds)
  const legacyIndex = new Map<string, number>()
  const handed = new Set<string>()
  const configHex = image.id.replace(/^sha256:/, '')
  const extract = tar.extract()
  stream.on('error', (err: Error) => extract.destroy(err))
  stream.pipe(extract as unknown as NodeJS.WritableStream)
  try {
    for await (const entry of extract) {
      const {name, type, size = 0} = entry.header
      let digest: string | undefined
      let kind: ExportBlob['kind'] = 'layer'
      const oci = /^blobs\/sha256\/([0-9a-f]{64})$/.exec(name)
      const legacyDir = /^([0-9a-f]{64})\/(json|layer\.tar)$/.exec(name)
    const byDiffId = /^([0-9a-f]{64})\.tar$/.exec(name)
      if (type === 'file' && oci) {
        digest = `sha256:${oci[1]}`
        kind = oci[1] === configHex ? 'config' : 'layer'
      } else if (type === 'file' && byDiffId) {
      digest = `sha256:${byDiffId[1]}`
    } else if (type === 'file' && name === `${configHex}.json`) {
        digest = image.id
        kind = 'config'
      } else if (type === 'file' && legacyDir?.[2] === 'json') {
        const text = await readAll(entry as unknown as AsyncIterable<Buffer>)
        const i = legacyLayerIndex(legacyDir[1] as string, text.toString('utf8'), chains)
        if (i !== undefined) legacyIndex.set(legacyDir[1] as string, i)
        continue
      } else if (type === 'file' && legacyDir?.[2] === 'layer.tar') {
        const i = legacyIndex.get(legacyDir[1] as string)
        digest = i === undefined ? undefined : image.diffIds[i]
      }
      if (digest !== undefined && want(digest) && !handed.has(digest)) {
        handed.add(digest)
        await onBlob({digest, size, kind, stream: entry as unknown as AsyncIterable<Buffer>})
      }
      // Whatever the consumer left unread (or an entry nobody wants) is skipped, never kept.
      for await (const _ of entry as unknown as AsyncIterable<Buffer>) void _
    }
  } catch (error) {
    extract.destroy()
    ;(stream as {destroy?: () => void}).destroy?.()
    throw error
  }
  return handed
}

async function readAll(entry: AsyncIterable<Buffer>): Promise<Buffer> {
  const parts: Buffer[] = []
  let n = 0
  for await (const c of entry) {
    parts.push(c)
    n += c.length
    if (n > 16 * 1024 * 1024) throw new RegistryError('A layer description in the export is larger than 16 MiB', {code: 'E_PUSH_EXPORT'})
  }
  return Buffer.concat(parts)
}
