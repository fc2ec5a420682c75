import {createHash} from 'node:crypto'

/**
 * The OCI image index bento writes as the tag of a multi-platform image (image-spec `image-index.md`): one entry per
 * platform image, each naming its manifest by digest, size and media type, and its platform. The bytes are a pure
 * function of the entries (given order, no whitespace), so the same images give the same index digest.
 */
export const OCI_INDEX = 'application/vnd.oci.image.index.v1+json'

export interface IndexEntry {
  /** The platform image's manifest: its media type as the registry serves it (OCI or Docker schema 2), digest, size. */
  mediaType: string
  digest: string
  size: number
  platform: {os: string; architecture: string; variant?: string}
}

export interface ImageIndex {
  body: Buffer
  digest: string
  mediaType: typeof OCI_INDEX
}

const DIGEST = /^sha256:[0-9a-f]{64}$/

/** The index of `entries` (one per platform; two entries for one platform are refused: a pull could not choose). */
export function imageIndex(entries: readonly IndexEntry[], annotations?: Record<string, string>): ImageIndex {
  if (entries.length === 0) throw new Error('an image index needs at least one manifest')
  const seen = new Set<string>()
  for (const e of entries) {
    if (!DIGEST.test(e.digest)) throw new Error(`"${e.digest}" is not a sha256 digest`)
    if (!Number.isSafeInteger(e.size) || e.size <= 0) throw new Error(`manifest ${e.digest} has no size`)
    const key = [e.platform.os, e.platform.architecture, e.platform.variant ?? ''].join('/')
    if (seen.has(key)) throw new Error(`two manifests for platform ${key}`)
    seen.add(key)
  }
  const index = {
    schemaVersion: 2,
    mediaType: OCI_INDEX,
    manifests: entries.map((e) => ({
      mediaType: e.mediaType,
      digest: e.digest,
      size: e.size,
      platform: {architecture: e.platform.architecture, os: e.platform.os, ...(e.platform.variant ? {variant: e.platform.variant} : {})},
    })),
    ...(annotations && Object.keys(annotations).length > 0 ? {annotations} : {}),
  }
  const body = Buffer.from(JSON.stringify(index))
  return {body, digest: `sha256:${createHash('sha256').update(body).digest('hex')}`, mediaType: OCI_INDEX}
}
