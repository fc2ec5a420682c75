import {createHash} from 'node:crypto'

import {describe, expect, it} from 'vitest'

import {imageIndex, OCI_INDEX} from './image-index.js'

const amd = 'sha256:' + 'a'.repeat(64)
const arm = 'sha256:' + 'b'.repeat(64)
const DOCKER_MANIFEST = 'application/vnd.docker.distribution.manifest.v2+json'

describe('imageIndex', () => {
  it('writes an OCI index with one platform entry per image, and its digest is the sha256 of its bytes', () => {
    const i = imageIndex([
      {mediaType: DOCKER_MANIFEST, digest: amd, size: 1234, platform: {os: 'linux', architecture: 'amd64'}},
      {mediaType: DOCKER_MANIFEST, digest: arm, size: 1240, platform: {os: 'linux', architecture: 'arm64', variant: 'v8'}},
    ])
    expect(i.mediaType).toBe(OCI_INDEX)
    expect(JSON.parse(i.body.toString())).toEqual({
      schemaVersion: 2,
      mediaType: 'application/vnd.oci.image.index.v1+json',
      manifests: [
        {mediaType: DOCKER_MANIFEST, digest: amd, size: 1234, platform: {architecture: 'amd64', os: 'linux'}},
        {mediaType: DOCKER_MANIFEST, digest: arm, size: 1240, platform: {architecture: 'arm64', os: 'linux', variant: 'v8'}},
      ],
    })
    expect(i.digest).toBe(`sha256:${createHash('sha256').update(i.body).digest('hex')}`)
  })

  it('is a pure function of its entries: the same images give the same digest', () => {
    const e = [{mediaType: DOCKER_MANIFEST, digest: amd, size: 1, platform: {os: 'linux', architecture: 'amd64'}}]
    expect(imageIndex(e).digest).toBe(imageIndex(structuredClone(e)).digest)
    expect(imageIndex(e, {'org.opencontainers.image.ref.name': '1'}).digest).not.toBe(imageIndex(e).digest)
  })

  it('refuses no entry, a malformed digest, a missing size and two images of one platform', () => {
    const ok = {mediaType: DOCKER_MANIFEST, digest: amd, size: 10, platform: {os: 'linux', architecture: 'amd64'}}
    expect(() => imageIndex([])).toThrow(/at least one/)
    expect(() => imageIndex([{...ok, digest: 'sha256:abc'}])).toThrow(/not a sha256 digest/)
    expect(() => imageIndex([{...ok, size: 0}])).toThrow(/no size/)
    expect(() => imageIndex([ok, {...ok, digest: arm}])).toThrow(/two manifests for platform linux\/amd64/)
  })
})
