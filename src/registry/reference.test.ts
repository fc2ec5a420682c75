import {describe, expect, it} from 'vitest'

import {parseChallenge} from './auth.js'
import {rangeEnd} from './client.js'
import {parseReference} from './reference.js'

describe('parseReference', () => {
  it('splits registry, repository and tag the Docker CLI way; loopback registries are plain HTTP', () => {
    expect(parseReference('127.0.0.1:5000/team/iris:1')).toEqual({registry: '127.0.0.1:5000', repository: 'team/iris', tag: '1', baseUrl: 'http://127.0.0.1:5000'})
    expect(parseReference('localhost:5000/iris')).toMatchObject({repository: 'iris', tag: 'latest', baseUrl: 'http://localhost:5000'})
    expect(parseReference('ghcr.io/team/iris:dev')).toMatchObject({registry: 'ghcr.io', repository: 'team/iris', baseUrl: 'https://ghcr.io'})
    expect(parseReference('iris:2')).toMatchObject({registry: 'docker.io', repository: 'library/iris', tag: '2', baseUrl: 'https://registry-1.docker.io'})
    expect(parseReference('team/iris')).toMatchObject({registry: 'docker.io', repository: 'team/iris'})
  })

  it('refuses digests, uppercase repositories and bad tags with E_USAGE', () => {
    for (const bad of ['127.0.0.1:5000/iris@sha256:abc', 'ghcr.io/Team/iris:1', 'ghcr.io/iris:-x', 'ghcr.io/:1']) {
      expect(() => parseReference(bad), bad).toThrow(expect.objectContaining({code: 'E_USAGE'}))
    }
  })
})

describe('parseChallenge', () => {
  it('reads Bearer and Basic challenges (quoted values with commas, the error parameter)', () => {
    expect(parseChallenge('Bearer realm="https://auth.example/token",service="registry.example",scope="repository:a/b:pull,push",error="invalid_token"')).toEqual({
      scheme: 'bearer',
      params: {realm: 'https://auth.example/token', service: 'registry.example', scope: 'repository:a/b:pull,push', error: 'invalid_token'},
    })
    expect(parseChallenge('Basic realm="bento-test"')).toEqual({scheme: 'basic', params: {realm: 'bento-test'}})
  })
})

describe('rangeEnd', () => {
  it("reads the registry's Range as the next offset; 0-0 (distribution's empty upload) as 0", () => {
    expect(rangeEnd('0-1023')).toBe(1024)
    expect(rangeEnd('bytes=0-9')).toBe(10)
    expect(rangeEnd('0-0')).toBe(0)
    expect(rangeEnd(undefined)).toBeUndefined()
  })
})
