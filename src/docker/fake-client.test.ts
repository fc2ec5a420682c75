import {mkdir, mkdtemp, rm, writeFile} from 'node:fs/promises'
import os from 'node:os'
import path from 'node:path'

import {afterEach, beforeEach, describe, expect, it} from 'vitest'

import {DockerUnavailableError} from '../errors.js'
import {bentoBuildContext} from './context.js'
import {FakeImageClient} from './fake-client.js'

let dir: string
beforeEach(async () => {
  dir = await mkdtemp(path.join(os.tmpdir(), 'bento-fake-'))
  await mkdir(path.join(dir, 'src'))
  await writeFile(path.join(dir, 'bento.yaml'), 'name: iris\n')
})
afterEach(async () => {
  await rm(dir, {recursive: true, force: true})
})

const opts = (tags = ['iris:v1']) => ({
  context: bentoBuildContext({bentoDir: dir, dockerfile: 'FROM python:3.11-slim\n', dockerignore: []}),
  dockerfile: 'env/docker/Dockerfile',
  tags,
  labels: {'dev.bento.tag': 'iris:v1'},
  onProgress: () => undefined,
})

describe('FakeImageClient', () => {
  it('records the build context and keeps the image', async () => {
    const fake = new FakeImageClient()
    const {imageId} = await fake.build(opts())
    expect(fake.builds[0]?.contents['env/docker/Dockerfile']).toBe('FROM python:3.11-slim\n')
    expect(fake.builds[0]?.files).toContain('bento.yaml')
    expect((await fake.inspect('iris:v1'))?.id).toBe(imageId)
    expect(await fake.list({label: ['dev.bento.tag=iris:v1']})).toHaveLength(1)
    await fake.tag(imageId, 'localhost:5000/iris:v1')
    expect((await fake.push('localhost:5000/iris:v1', {onProgress: () => undefined})).digest).toMatch(/^sha256:/)
    await fake.remove('iris:v1')
    expect(await fake.inspect('iris:v1')).toBeNull()
    expect((await fake.inspect('localhost:5000/iris:v1'))?.id).toBe(imageId)
  })

  it('fails on demand', async () => {
    const fake = new FakeImageClient({failures: {ping: new DockerUnavailableError('no daemon')}})
    await expect(fake.ping()).rejects.toBeInstanceOf(DockerUnavailableError)
    const f2 = new FakeImageClient({failures: {build: (b) => ((b as {tags: string[]}).tags.includes('bad:1') ? new Error('boom') : undefined)}})
    await expect(f2.build(opts(['bad:1']))).rejects.toThrow('boom')
    await expect(f2.build(opts(['good:1']))).resolves.toHaveProperty('imageId')
  })
})
