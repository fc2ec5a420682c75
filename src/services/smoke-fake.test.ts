/** The smoke service's flow against an in-memory container (no Docker): every failure removes the container. */
import {mkdtemp, rm} from 'node:fs/promises'
import {tmpdir} from 'node:os'
import {join} from 'node:path'

import {afterAll, beforeAll, describe, expect, it} from 'vitest'

import type {ContainerClient, ContainerConfig, ContainerState, CreateContainerOptions, ExecResult} from '../docker/container-client.js'
import {FakeImageClient} from '../docker/fake-client.js'
import {isBentoError} from '../errors.js'
import {silentReporter} from '../reporter.js'
import {smoke, type SmokeOptions} from './smoke.js'

type Answer = {status: number; body?: string} | 'exit'

/** A container whose HTTP answers come from `routes` (path → answers in turn, the last one repeats). */
class FakeContainers implements ContainerClient {
  readonly removed: string[] = []
  readonly created: CreateContainerOptions[] = []
  readonly posted: Array<{path: string; body: string; ctype: string}> = []
  private running = false
  private exitCode: number | undefined
  constructor(
    private readonly routes: Record<string, Answer[]>,
    private readonly bentoYaml: string | null,
  ) {}
  async create(opts: CreateContainerOptions): Promise<string> {
    this.created.push(opts)
    return 'c1'
  }
  async start(): Promise<void> {
    this.running = true
  }
  async state(): Promise<ContainerState> {
    return this.running ? {running: true} : {running: false, exitCode: this.exitCode}
  }
  async config(): Promise<ContainerConfig> {
    return {user: 'bentoml', healthcheck: ['CMD', 'true'], env: ['BENTO_PATH=/home/bentoml/bento']}
  }
  async exec(_id: string, cmd: string[]): Promise<ExecResult> {
    const [url = '', method = '', ctype = '', body = ''] = cmd.slice(4)
    const path = new URL(url).pathname
    if (method === 'POST') this.posted.push({path, body, ctype})
    const list = this.routes[path] ?? [{status: 404}]
    const a = (list.length > 1 ? list.shift() : list[0]) as Answer
    if (a === 'exit') {
      this.running = false
      this.exitCode = 3
      return {exitCode: 1, stdout: '', stderr: 'connection refused'}
    }
    return {exitCode: 0, stdout: JSON.stringify({status: a.status, ms: 1.5, uid: 1034, body: a.body ?? ''}), stderr: ''}
  }
  async logs(): Promise<string[]> {
    return ['Traceback (most recent call last):', 'RuntimeError: boom']
  }
  async readFile(): Promise<Buffer | null> {
    return this.bentoYaml === null ? null : Buffer.from(this.bentoYaml)
  }
  async remove(id: string): Promise<void> {
    this.removed.push(id)
  }
}

const LEGACY = 'name: iris\nschema: {}\napis:\n- name: classify\n  input_type: NumpyNdarray\n  output_type: NumpyNdarray\n'
const OK = {'/readyz': [{status: 200}], '/livez': [{status: 200}], '/metrics': [{status: 200}], '/classify': [{status: 200, body: '["setosa"]'}]}

describe('smoke service (fake container)', () => {
  let home: string
  beforeAll(async () => {
    home = await mkdtemp(join(tmpdir(), 'smoke-home-'))
  })
  afterAll(async () => {
    await rm(home, {recursive: true, force: true})
  })

  const run = (containers: FakeContainers, extra: Partial<SmokeOptions> = {}): Promise<unknown> =>
    smoke({
      target: 'iris:dev',
      home,
      images: new FakeImageClient({images: [{id: 'sha256:1', repoTags: ['iris:dev'], size: 1000, user: 'bentoml'}]}),
      containers,
      network: 'none',
      inputs: {},
      expects: [],
      errorContains: [],
      env: [],
      reporter: silentReporter,
      ...extra,
    })

  const codeOf = async (p: Promise<unknown>): Promise<string> => {
    try {
      await p
      return 'ok'
    } catch (error) {
      return isBentoError(error) ? error.code : String(error)
    }
  }

  it('passes: network none, a synthesized body for a legacy NumpyNdarray API, the container removed', async () => {
    const c = new FakeContainers(structuredClone(OK), LEGACY)
    const report = (await run(c)) as {ok: boolean; uid: number; healthcheck: boolean; apis: Array<{inputSource: string}>}
    expect(report).toMatchObject({ok: true, uid: 1034, healthcheck: true, apis: [{inputSource: 'synthesized'}]})
    expect(c.created[0]?.network).toBe('none')
    expect(c.posted).toEqual([{path: '/classify', body: '[0]', ctype: 'application/json'}])
    expect(c.removed).toEqual(['c1'])
  })

  it('/readyz never 200 within --timeout: E_SMOKE_NOT_READY, removed', async () => {
    const c = new FakeContainers({...structuredClone(OK), '/readyz': [{status: 503}]}, LEGACY)
    expect(await codeOf(run(c, {timeoutMs: 600}))).toBe('E_SMOKE_NOT_READY')
    expect(c.removed).toEqual(['c1'])
  })

  it('exits while starting: E_SMOKE_EXITED, removed', async () => {
    const c = new FakeContainers({...structuredClone(OK), '/readyz': [{status: 503}, 'exit']}, LEGACY)
    expect(await codeOf(run(c))).toBe('E_SMOKE_EXITED')
    expect(c.removed).toEqual(['c1'])
  })

  it('/metrics 404 once ready: E_SMOKE_PROBE, removed', async () => {
    const c = new FakeContainers({...structuredClone(OK), '/metrics': [{status: 404}]}, LEGACY)
    expect(await codeOf(run(c))).toBe('E_SMOKE_PROBE')
    expect(c.removed).toEqual(['c1'])
  })

  it('an --input for an API the Bento lacks: E_USAGE before the start, removed', async () => {
    const c = new FakeContainers(structuredClone(OK), LEGACY)
    expect(await codeOf(run(c, {inputs: {clasify: '[]'}}))).toBe('E_USAGE')
    expect(c.removed).toEqual(['c1'])
  })

  it('an image that is not there (nor a Bento): E_IMAGE_NOT_FOUND, nothing created', async () => {
    const c = new FakeContainers(structuredClone(OK), LEGACY)
    expect(await codeOf(run(c, {target: 'nope:1'}))).toBe('E_IMAGE_NOT_FOUND')
    expect(c.created).toEqual([])
  })

  it('no bento.yaml in the image: only the probes run', async () => {
    const c = new FakeContainers(structuredClone(OK), null)
    expect(await run(c)).toMatchObject({ok: true, apis: []})
  })
})
