/**
 * `bento smoke` against a REAL Docker engine: the legacy iris example (BentoML 1.4.15, the model saved by the real
 * bentoml.sklearn) containerized once with the offline wheelhouse, then one container start per scenario, each with
 * --network none (the default): a passing smoke with its --json and --junit reports, an API that fails (E_SMOKE_API),
 * a container that exits at start (E_SMOKE_EXITED with its log lines). Every container is gone afterwards.
 */
import {spawn} from 'node:child_process'
import {randomBytes} from 'node:crypto'
import {existsSync} from 'node:fs'
import {cp, readFile, writeFile} from 'node:fs/promises'
import {join} from 'node:path'

import {afterAll, beforeAll, describe, expect, it} from 'vitest'

import {BIN, imagesMadeBy, irisProject, removeDir, removeHomeImages, REPO, run, runBento, saveIrisModel, tempDir} from '../helpers/env.js'

const DOCKER = process.env.BENTO_DOCKER_CLI ?? '/usr/bin/docker'
const TOOLS = process.env.BENTO_TOOLS ?? join(REPO, '.tools')
const WHEELHOUSE = process.env.BENTO_WHEELHOUSE ?? join(TOOLS, 'wheelhouse')
const VENV_1440 = process.env.BENTOML_1440_VENV ?? join(TOOLS, 'bentoml-1.4.40-venv')
const RUN_ID = randomBytes(4).toString('hex')

async function docker(...args: string[]): Promise<{code: number; stdout: string; stderr: string}> {
  return run(DOCKER, args, {timeoutMs: 600_000})
}

interface SmokeJson {
  image: string
  bento?: string
  network: string
  imageSize: number
  user: string
  uid?: number
  healthcheck: boolean
  timeoutMs: number
  timeoutBasis: string
  timeToReadyMs?: number
  probes: {livez?: number; metrics?: number}
  apis: Array<{name: string; route: string; status: number; latencyMs: number; ok: boolean; inputSource: string; failures: string[]}>
  durationMs: number
  ok: boolean
}

interface ErrorJson {
  error: {code: string; exitCode: number; message: string; hint?: string; logs?: string[]; report?: SmokeJson}
}

describe('bento smoke on a real Docker engine (legacy iris, --network none)', () => {
  let home: string
  let project: string
  let work: string
  let bentoTag: string
  const image = `smoke-iris-e2e:${RUN_ID}`
  const images: string[] = [image]

  const smoke = async (args: string[]): Promise<{code: number; stdout: string; stderr: string}> =>
    runBento(['smoke', ...args], {env: {BENTOML_HOME: home}, cwd: work, timeoutMs: 600_000})

  async function smokeContainersLeft(): Promise<string> {
    return (await docker('ps', '-aq', '--filter', 'label=dev.bento.smoke=true', '--filter', `ancestor=${image}`)).stdout.trim()
  }

  beforeAll(async () => {
    const ping = await docker('version', '--format', '{{.Server.Version}}')
    if (ping.code !== 0) throw new Error(`no Docker daemon: run scripts/provision/docker.sh (${ping.stderr})`)
    home = await tempDir('bento-home-smoke-')
    work = await tempDir('bento-smoke-work-')
    project = await irisProject()
    await saveIrisModel(home)
    const b = await runBento(['build', '--json'], {cwd: project, env: {BENTOML_HOME: home}})
    expect(b.code, b.stderr).toBe(0)
    bentoTag = (JSON.parse(b.stdout) as {tag: string}).tag
    const c = await runBento(['containerize', bentoTag, '-t', image, '--wheelhouse', WHEELHOUSE, '--json'], {env: {BENTOML_HOME: home}})
    expect(c.code, c.stderr).toBe(0)
    images.push(...imagesMadeBy(JSON.parse(c.stdout)))
    await writeFile(join(work, 'setosa.json'), '[[5.1, 3.5, 1.4, 0.2]]')
  })

  afterAll(async () => {
    for (const c of (await docker('ps', '-aq', '--filter', `ancestor=${image}`)).stdout.split('\n').filter(Boolean)) await docker('rm', '-f', c)
    for (const i of new Set(images)) await docker('rmi', '-f', i)
    await removeHomeImages(home)
    await removeDir(home)
    await removeDir(project)
    await removeDir(work)
  })

  it('passes offline: ready, /livez and /metrics, classify answers; --json and --junit report it', async () => {
    const r = await smoke([image, '--input', 'classify=@setosa.json', '--expect', 'classify=.[0] == "setosa"', '--expect', '. | length == 1', '--junit', 'smoke.xml', '--json'])
    expect(r.code, r.stderr + r.stdout).toBe(0)
    const json = JSON.parse(r.stdout) as SmokeJson
    console.log(`smoke (legacy iris): ready in ${json.timeToReadyMs} ms, classify ${json.apis[0]?.latencyMs} ms, ${json.durationMs} ms in all`)
    expect(json).toMatchObject({image, network: 'none', user: 'bentoml', uid: 1034, healthcheck: true, ok: true, probes: {livez: 200, metrics: 200}, timeoutBasis: 'image-bytes'})
    expect(json.imageSize).toBeGreaterThan(0)
    expect(json.timeToReadyMs).toBeGreaterThan(0)
    expect(json.apis).toEqual([expect.objectContaining({name: 'classify', route: '/classify', status: 200, ok: true, inputSource: 'given', failures: []})])
    expect(json.apis[0]!.latencyMs).toBeGreaterThan(0)

    const xml = await readFile(join(work, 'smoke.xml'), 'utf8')
    expect(xml).toContain('<testsuites name="bento smoke" tests="4" failures="0"')
    expect(xml).toMatch(/<testcase classname="bento.smoke" name="readyz" time="\d+\.\d{3}"\/>/)
    expect(xml).toContain('name="api classify"')
    expect(await smokeContainersLeft()).toBe('')
  })

  it('an API that fails (a body that is no JSON): E_SMOKE_API, exit 11, the JUnit report names the failure', async () => {
    // By the Bento tag: the image is the one containerize tags for it, the timeout is sized from the model bytes.
    await docker('tag', image, bentoTag)
    images.push(bentoTag)
    const r = await smoke([bentoTag, '--input', 'classify=not json', '--junit', 'failed.xml', '--json'])
    expect(r.code, r.stderr).toBe(11)
    const e = (JSON.parse(r.stdout) as ErrorJson).error
    expect(e.code).toBe('E_SMOKE_API')
    expect(e.message).toMatch(/classify \(HTTP [45]\d\d\)/)
    expect(e.report).toMatchObject({bento: bentoTag, timeoutBasis: 'model-bytes', ok: false, apis: [expect.objectContaining({name: 'classify', ok: false})]})
    const xml = await readFile(join(work, 'failed.xml'), 'utf8')
    expect(xml).toContain('failures="1"')
    expect(xml).toMatch(/<testcase classname="bento.smoke" name="api classify" time="[\d.]+">\s*<failure message="HTTP [45]\d\d"/)
    expect(await smokeContainersLeft()).toBe('')
  })

  it('--error-contains: the same refusal is the expected answer, and the smoke passes', async () => {
    const r = await smoke([image, '--input', 'classify=not json', '--error-contains', 'classify=error has occurred'])
    expect(r.code, r.stderr + r.stdout).toBe(0)
    expect(r.stdout).toMatch(/Smoke test passed: .* 1 API\(s\) answered/)
    expect(await smokeContainersLeft()).toBe('')
  })

  it('a container that exits at start: E_SMOKE_EXITED with its last log lines, and no container left', async () => {
    const r = await smoke([image, '--env', 'BENTOML_CONFIG=/nonexistent/bentoml.yaml', '--json'])
    expect(r.code, r.stderr).toBe(11)
    const e = (JSON.parse(r.stdout) as ErrorJson).error
    expect(e.code).toBe('E_SMOKE_EXITED')
    expect(e.message).toMatch(/exited with code [1-9]\d* before it was ready/)
    expect(e.logs?.length ?? 0).toBeGreaterThan(0)
    expect(e.logs?.join('\n')).toContain('nonexistent')
    expect(await smokeContainersLeft()).toBe('')
  })

  it('a start that needs the network: with --network none it exits, E_SMOKE_EXITED says so and names --network', async () => {
    // The served image behind a start that first fetches something (as a service downloading its model would).
    const online = `smoke-iris-e2e:${RUN_ID}-online`
    images.push(online)
    const fetchFirst = "import os, urllib.request; urllib.request.urlopen('https://pypi.org/simple/', timeout=10); os.execv('/home/bentoml/bento/env/docker/entrypoint.sh', ['entrypoint.sh'])"
    const dockerfile = `FROM ${image}\nENTRYPOINT ${JSON.stringify(['/app/.venv/bin/python3', '-c', fetchFirst])}\n`
    const b = await run(DOCKER, ['build', '-q', '-t', online, '-'], {input: dockerfile, timeoutMs: 300_000})
    expect(b.code, b.stderr).toBe(0)
    const r = await smoke([online, '--json'])
    expect(r.code, r.stderr).toBe(11)
    const e = (JSON.parse(r.stdout) as ErrorJson).error
    expect(e.code).toBe('E_SMOKE_EXITED')
    expect(e.logs?.join('\n')).toMatch(/URLError|urlopen/)
    expect(e.hint).toContain('--network bridge')
    expect(await smokeContainersLeft()).toBe('')
  })

  it('Ctrl-C while waiting for /readyz: E_INTERRUPTED (130) and the container is removed', async () => {
    const child = spawn(process.execPath, [BIN, 'smoke', image], {env: {...process.env, BENTOML_HOME: home}, cwd: work, stdio: ['ignore', 'pipe', 'pipe']})
    let stderr = ''
    child.stderr.on('data', (b: Buffer) => {
      stderr += b.toString()
    })
    const code = await new Promise<number | null>((resolve) => {
      const poll = setInterval(() => {
        if (stderr.includes('Smoke test of')) {
          clearInterval(poll)
          // The container is created and starting: interrupt the wait.
          setTimeout(() => child.kill('SIGINT'), 1000)
        }
      }, 50)
      child.on('exit', (c) => {
        clearInterval(poll)
        resolve(c)
      })
    })
    expect(code, stderr).toBe(130)
    expect(stderr).toContain('E_INTERRUPTED')
    expect(await smokeContainersLeft()).toBe('')
  })
})

/**
 * The SDK iris (`@bentoml.service`, test/fixtures/sdk-iris) built by the REAL bentoml build 1.4.40 and containerized by
 * bento: its APIs come from bento.yaml's `schema.routes`, the body from --input-file.
 */
describe('bento smoke on a real Docker engine (SDK iris built by bentoml 1.4.40)', () => {
  let home: string
  let project: string
  const image = `smoke-sdk-iris-e2e:${RUN_ID}`
  const images: string[] = [image]

  beforeAll(async () => {
    if (!existsSync(join(VENV_1440, 'bin/bentoml'))) throw new Error(`BentoML 1.4.40 venv missing at ${VENV_1440}: run scripts/provision/bentoml-1.4.40-venv.sh`)
    home = await tempDir('bento-home-smoke-sdk-')
    project = await tempDir('bento-smoke-sdk-iris-')
    await cp(join(REPO, 'test/fixtures/sdk-iris'), project, {recursive: true})
    const env = {BENTOML_HOME: home, BENTOML_DO_NOT_TRACK: 'true', PATH: `${join(VENV_1440, 'bin')}:${process.env.PATH ?? ''}`}
    const trained = await run(join(VENV_1440, 'bin/python'), ['train.py'], {cwd: project, env})
    expect(trained.code, trained.stderr).toBe(0)
    await writeFile(join(project, 'bentofile.yaml'), 'service: "service:Iris"\ninclude:\n  - "*.py"\npython:\n  packages:\n    - scikit-learn\n    - numpy\n  lock_packages: false\n')
    const built = await run(join(VENV_1440, 'bin/bentoml'), ['build', '--output', 'tag'], {cwd: project, env})
    expect(built.code, built.stderr + built.stdout).toBe(0)
    const tag = /__tag__:(\S+)/.exec(built.stdout)![1]!
    const c = await runBento(['containerize', tag, '-t', image, '--wheelhouse', WHEELHOUSE, '--json'], {env: {BENTOML_HOME: home}})
    expect(c.code, c.stderr).toBe(0)
    images.push(...imagesMadeBy(JSON.parse(c.stdout)))
    await writeFile(join(project, 'inputs.json'), JSON.stringify({classify: {input: [[5.1, 3.5, 1.4, 0.2]]}}))
  })

  afterAll(async () => {
    for (const c of (await docker('ps', '-aq', '--filter', `ancestor=${image}`)).stdout.split('\n').filter(Boolean)) await docker('rm', '-f', c)
    for (const i of new Set(images)) await docker('rmi', '-f', i)
    await removeHomeImages(home)
    await removeDir(home)
    await removeDir(project)
  })

  it('passes offline: schema.routes gives /classify, the body comes from --input-file, the answer is [0]', async () => {
    const r = await runBento(['smoke', image, '--input-file', 'inputs.json', '--expect', 'classify=.[0] == 0', '--json'], {cwd: project, env: {BENTOML_HOME: home}, timeoutMs: 600_000})
    expect(r.code, r.stderr + r.stdout).toBe(0)
    const json = JSON.parse(r.stdout) as SmokeJson
    console.log(`smoke (SDK iris): ready in ${json.timeToReadyMs} ms, classify ${json.apis[0]?.latencyMs} ms, ${json.durationMs} ms in all`)
    expect(json).toMatchObject({network: 'none', uid: 1034, healthcheck: true, ok: true, probes: {livez: 200, metrics: 200}})
    expect(json.apis).toEqual([expect.objectContaining({name: 'classify', route: '/classify', status: 200, ok: true, inputSource: 'given'})])
  })
})
