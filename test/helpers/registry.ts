/**
 * The local registry of the e2e-docker tier (scripts/provision/registry.sh: Debian's docker-registry on
 * 127.0.0.1:5000, storage under $BENTO_TOOLS/registry/data, deletes enabled). Docker files run side by side, so a
 * test measures and removes only its own repository, never the whole registry.
 */
import {existsSync, readdirSync, readFileSync, statSync} from 'node:fs'
import {join} from 'node:path'

import {REPO} from './env.js'

export const REGISTRY = process.env.BENTO_REGISTRY ?? '127.0.0.1:5000'
const TOOLS = process.env.BENTO_TOOLS ?? join(REPO, '.tools')
/** The registry's storage (distribution's filesystem driver layout). */
export const REGISTRY_STORAGE = join(TOOLS, 'registry/data/docker/registry/v2')

const MANIFEST_TYPES = [
  'application/vnd.docker.distribution.manifest.v2+json',
  'application/vnd.docker.distribution.manifest.list.v2+json',
  'application/vnd.oci.image.manifest.v1+json',
  'application/vnd.oci.image.index.v1+json',
].join(', ')

/**
 * Bytes of the blobs linked into one repository (its layers and configs: `repositories/<repo>/_layers`), read from
 * the registry's storage. The growth of this figure across a push is what that push added to the repository.
 */
export function repositoryBlobBytes(repo: string, storage = REGISTRY_STORAGE): number {
  const layers = join(storage, 'repositories', repo, '_layers/sha256')
  if (!existsSync(layers)) return 0
  let total = 0
  for (const hex of readdirSync(layers)) {
    const link = join(layers, hex, 'link')
    if (!existsSync(link)) continue
    const digest = readFileSync(link, 'utf8').trim().replace(/^sha256:/, '')
    const data = join(storage, 'blobs/sha256', digest.slice(0, 2), digest, 'data')
    if (existsSync(data)) total += statSync(data).size
  }
  return total
}

/**
 * Delete every tag's manifest of `repo` through the registry's API (DELETE /v2/<repo>/manifests/<digest>): its blobs
 * are then referenced by nothing, and the registry's garbage collection at the end of the CI run
 * (scripts/provision/registry.sh gc) frees them. Returns the digests deleted.
 */
export async function deleteRepository(repo: string, registry = REGISTRY): Promise<string[]> {
  const base = `http://${registry}/v2/${repo}`
  const list = await fetch(`${base}/tags/list`, {signal: AbortSignal.timeout(30_000)})
  if (list.status === 404) return []
  if (!list.ok) throw new Error(`GET ${base}/tags/list: HTTP ${list.status}`)
  const tags = ((await list.json()) as {tags?: string[] | null}).tags ?? []
  const digests = new Set<string>()
  for (const tag of tags) {
    const head = await fetch(`${base}/manifests/${tag}`, {method: 'HEAD', headers: {accept: MANIFEST_TYPES}, signal: AbortSignal.timeout(30_000)})
    const digest = head.headers.get('docker-content-digest')
    if (head.ok && digest) digests.add(digest)
  }
  for (const digest of digests) {
    const del = await fetch(`${base}/manifests/${digest}`, {method: 'DELETE', signal: AbortSignal.timeout(30_000)})
    if (!del.ok && del.status !== 404) throw new Error(`DELETE ${base}/manifests/${digest}: HTTP ${del.status} (is storage.delete.enabled set?)`)
  }
  return [...digests]
}
