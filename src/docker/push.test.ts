import {mkdtemp, rm, writeFile} from 'node:fs/promises'
import {readFileSync} from 'node:fs'
import os from 'node:os'
import path from 'node:path'
import {fileURLToPath} from 'node:url'

import {afterEach, beforeEach, describe, expect, it} from 'vitest'

import {DockerPushError} from '../errors.js'
import {DOCKER_HUB_AUTH_KEY, parsePushStream, PushStreamParser, registryOf, resolveRegistryAuth} from './push.js'

const fixture = (name: string): string =>
  readFileSync(fileURLToPath(new URL(`../../test/fixtures/docker-streams/${name}`, import.meta.url)), 'utf8')

describe('push stream', () => {
  it('finds the digest of a recorded push', () => {
    const {digest, events} = parsePushStream(fixture('push-ok.jsonl'), '127.0.0.1:5000/bento-capture:ok')
    expect(digest).toBe('sha256:d8bf4a8fb37b8b197869a807a36c74146731e15b6857e05e8b35b663d2fe0f1f')
    expect(events.some((e) => e.status === 'Pushed')).toBe(true)
  })

  it('counts the bytes uploaded: the last Pushing count of each layer that ends Pushed', () => {
    expect(parsePushStream(fixture('push-ok.jsonl'), 'r/x:ok').upload).toEqual({uploadedBytes: 81469440 + 75804672, layersPushed: 2, layersExisting: 0})
    // Layers the registry had (Mounted from another repository, Layer already exists) upload nothing.
    expect(parsePushStream(fixture('push-mounted.jsonl'), 'r/x:t1').upload).toEqual({uploadedBytes: 11776 + 8192 + 5632 + 10240 + 7168, layersPushed: 5, layersExisting: 7})
    const again = ['{"status":"Preparing","progressDetail":{},"id":"aaa"}', '{"status":"Layer already exists","progressDetail":{},"id":"aaa"}', `{"aux":{"Digest":"sha256:${'b'.repeat(64)}"}}`, '']
    expect(parsePushStream(again.join('\n'), 'r/x:1').upload).toEqual({uploadedBytes: 0, layersPushed: 0, layersExisting: 1})
    // Per layer (the engine's 12-digit id of its diff id): how it ended.
    const parser = new PushStreamParser()
    parser.write(fixture('push-mounted.jsonl'))
    const outcomes = parser.layerOutcomes()
    expect(outcomes.filter((l) => l.action === 'pushed')).toHaveLength(5)
    expect(outcomes.filter((l) => l.action === 'existing')).toHaveLength(7)
    expect(outcomes.every((l) => /^[0-9a-f]{12}$/.test(l.id))).toBe(true)
  })

  it('uses the status line when there is no aux', () => {
    const line = '{"status":"v1: digest: sha256:' + 'a'.repeat(64) + ' size: 528"}\n'
    expect(parsePushStream(line, 'r/x:v1').digest).toBe(`sha256:${'a'.repeat(64)}`)
  })

  it('turns daemon errors into DockerPushError', () => {
    expect(() => parsePushStream(fixture('push-fail.jsonl'), '127.0.0.1:5999/bento-capture:ok')).toThrow(DockerPushError)
    expect(() => parsePushStream(fixture('push-fail.jsonl'), 'x')).toThrow(/connection refused/)
    try {
      parsePushStream('{"errorDetail":{"message":"denied: requested access to the resource is denied"}}\n', 'docker.io/me/x:1')
    } catch (err) {
      expect((err as DockerPushError).hint).toContain('docker login')
    }
    expect(() => parsePushStream('{"status":"Preparing"}\n', 'x')).toThrow(/without a digest/)
  })
})

describe('registry credentials', () => {
  let dir: string
  beforeEach(async () => {
    dir = await mkdtemp(path.join(os.tmpdir(), 'bento-docker-cfg-'))
  })
  afterEach(async () => {
    await rm(dir, {recursive: true, force: true})
  })
  const config = (c: unknown): Promise<void> => writeFile(path.join(dir, 'config.json'), JSON.stringify(c))

  it('knows registry hosts', () => {
    expect(registryOf('iris:1')).toBe('docker.io')
    expect(registryOf('me/iris:1')).toBe('docker.io')
    expect(registryOf('localhost/iris')).toBe('localhost')
    expect(registryOf('127.0.0.1:5000/iris:1')).toBe('127.0.0.1:5000')
    expect(registryOf('ghcr.io/me/iris')).toBe('ghcr.io')
  })

  it('no config file means anonymous', async () => {
    expect(await resolveRegistryAuth('ghcr.io/me/x', {configDir: dir})).toBeUndefined()
  })

  it('decodes auths[].auth, Docker Hub key included', async () => {
    await config({
      auths: {
        'ghcr.io': {auth: Buffer.from('me:pa:ss').toString('base64')},
        [DOCKER_HUB_AUTH_KEY]: {auth: Buffer.from('hubuser:hubpass').toString('base64')},
        'reg.example.com': {identitytoken: 'tok'},
      },
    })
    expect(await resolveRegistryAuth('ghcr.io/me/x:1', {configDir: dir})).toEqual({username: 'me', password: 'pa:ss', serveraddress: 'ghcr.io'})
    expect(await resolveRegistryAuth('me/x:1', {configDir: dir})).toEqual({username: 'hubuser', password: 'hubpass', serveraddress: DOCKER_HUB_AUTH_KEY})
    expect(await resolveRegistryAuth('reg.example.com/x', {configDir: dir})).toEqual({identitytoken: 'tok', serveraddress: 'reg.example.com'})
    expect(await resolveRegistryAuth('other.example.com/x', {configDir: dir})).toBeUndefined()
  })

  it('asks credHelpers before credsStore', async () => {
    await config({credsStore: 'desktop', credHelpers: {'ghcr.io': 'gh'}})
    const asked: string[] = []
    const runHelper = async (helper: string, server: string): Promise<string> => {
      asked.push(`${helper} ${server}`)
      return helper === 'gh' ? '{"Username":"<token>","Secret":"ghtok"}' : '{"Username":"u","Secret":"s"}'
    }
    expect(await resolveRegistryAuth('ghcr.io/me/x', {configDir: dir, runHelper})).toEqual({identitytoken: 'ghtok', serveraddress: 'ghcr.io'})
    expect(await resolveRegistryAuth('quay.io/me/x', {configDir: dir, runHelper})).toEqual({username: 'u', password: 's', serveraddress: 'quay.io'})
    expect(asked).toEqual(['gh ghcr.io', 'desktop quay.io'])
  })

  it('a failing helper is a DockerPushError with next steps; "not found" is anonymous', async () => {
    await config({credsStore: 'nope'})
    await expect(
      resolveRegistryAuth('quay.io/x', {configDir: dir, runHelper: async () => Promise.reject(new Error('spawn docker-credential-nope ENOENT'))}),
    ).rejects.toThrow(/docker-credential-nope failed/)
    expect(
      await resolveRegistryAuth('quay.io/x', {configDir: dir, runHelper: async () => Promise.reject(new Error('credentials not found in native keychain'))}),
    ).toBeUndefined()
  })

  it.each([
    ['null', 'null'],
    ['a list', '[]'],
    ['a number', '42'],
    ['a string', '"auths"'],
    ['auths: null', '{"auths": null}'],
    ['auths: a list', '{"auths": []}'],
    ['an auths entry that is null', '{"auths": {"ghcr.io": null}}'],
    ['an auths entry that is a string', '{"auths": {"ghcr.io": "dXNlcjpwYXNz"}}'],
    ['auth that is not a string', '{"auths": {"ghcr.io": {"auth": 42}}}'],
    ['identitytoken that is not a string', '{"auths": {"ghcr.io": {"identitytoken": {}}}}'],
    ['credHelpers: a list', '{"credHelpers": ["gh"]}'],
    ['a credHelpers entry that is not a string', '{"credHelpers": {"ghcr.io": 1}}'],
    ['credsStore that is not a string', '{"credsStore": true}'],
  ])('config.json holding %s: E_DOCKER_PUSH naming the file', async (_name, text) => {
    await writeFile(path.join(dir, 'config.json'), text)
    const runHelper = async (): Promise<string> => '{"Username":"u","Secret":"s"}'
    const err = await resolveRegistryAuth('ghcr.io/me/x', {configDir: dir, runHelper}).catch((e: unknown) => e)
    expect(err).toMatchObject({code: 'E_DOCKER_PUSH', message: expect.stringContaining(path.join(dir, 'config.json'))})
  })

  it.each([
    ['null', 'null'],
    ['not JSON', 'nope'],
    ['a list', '[]'],
    ['a Secret that is not a string', '{"Username":"u","Secret":1}'],
  ])('a credential helper answering %s: E_DOCKER_PUSH naming the helper', async (_name, out) => {
    await config({credsStore: 'odd'})
    const err = await resolveRegistryAuth('ghcr.io/me/x', {configDir: dir, runHelper: async () => out}).catch((e: unknown) => e)
    expect(err).toMatchObject({code: 'E_DOCKER_PUSH', message: expect.stringContaining('docker-credential-odd')})
  })

  it('a corrupt config.json names the file', async () => {
    await writeFile(path.join(dir, 'config.json'), '{nope')
    await expect(resolveRegistryAuth('x', {configDir: dir})).rejects.toThrow(path.join(dir, 'config.json'))
  })
})
