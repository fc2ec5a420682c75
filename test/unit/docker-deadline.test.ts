/**
 * The process contract against a daemon that is not answering (issue 15, E9 and E10): `bento containerize` and
 * `bento prune` end in bounded time with a typed error, and the first Ctrl-C (or SIGTERM) ends a wait on the daemon
 * with E_INTERRUPTED (exit 130). The "daemons" are servers on unix sockets in this test process.
 */
import {spawn} from 'node:child_process'
import http from 'node:http'
import {rm} from 'node:fs/promises'
import {join} from 'node:path'

import {afterAll, beforeAll, describe, expect, it} from 'vitest'

import {expectError} from '../helpers/build-inputs.js'
import {BIN, type RunResult, runBento, tempDir} from '../helpers/env.js'
import {echoProject} from '../helpers/projects.js'

interface Fake {
  socket: string
  /** Resolves when the first request has arrived (the CLI is waiting on the daemon). */
  asked: Promise<void>
  close: () => Promise<void>
}

/** A server on a unix socket: `answer` null means it reads the request and never answers. */
async function fakeDaemon(socket: string, answer: {status: number; body: string} | null): Promise<Fake> {
  let asked!: () => void
  const first = new Promise<void>((resolve) => (asked = resolve))
  const server = http.createServer((req, res) => {
    req.resume()
    asked()
    if (answer === null) return
    res.statusCode = answer.status
    res.setHeader('Content-Type', 'application/json')
    res.end(answer.body)
  })
  await new Promise<void>((resolve) => server.listen(socket, resolve))
  return {
    socket,
    asked: first,
    close: () =>
      new Promise((resolve) => {
        server.closeAllConnections()
        server.close(() => resolve())
      }),
  }
}

describe('containerize and prune against a daemon that does not answer', () => {
  let root: string
  let home: string
  let tag: string
  const fakes: Fake[] = []
  beforeAll(async () => {
    root = await tempDir('bento-deadline-')
    home = join(root, 'home')
    const project = await echoProject(join(root, 'p'), 'deadline')
    const built = await runBento(['build', project, '--json'], {env: {BENTOML_HOME: home}})
    expect(built.code, built.stderr).toBe(0)
    tag = (JSON.parse(built.stdout) as {tag: string}).tag
  })
  afterAll(async () => {
    for (const f of fakes) await f.close()
    await rm(root, {recursive: true, force: true})
  })
  const fake = async (name: string, answer: {status: number; body: string} | null): Promise<Fake> => {
    const f = await fakeDaemon(join(root, `${name}.sock`), answer)
    fakes.push(f)
    return f
  }

  it.each(['SIGINT', 'SIGTERM'] as const)('a daemon that accepts and never answers: the first %s ends containerize with E_INTERRUPTED, exit 130', async (sig) => {
    const d = await fake(`hang-${sig}`, null)
    const child = spawn(process.execPath, [BIN, 'containerize', tag, '--json'], {
      env: {...process.env, BENTOML_HOME: home, DOCKER_HOST: `unix://${d.socket}`},
      stdio: ['ignore', 'pipe', 'pipe'],
    })
    let stdout = ''
    let stderr = ''
    child.stdout.on('data', (c: Buffer) => (stdout += c.toString()))
    child.stderr.on('data', (c: Buffer) => (stderr += c.toString()))
    const exited = new Promise<number | null>((resolve) => child.on('exit', (code) => resolve(code)))
    await d.asked // the command is waiting on the daemon
    await new Promise((r) => setTimeout(r, 300))
    const t0 = Date.now()
    child.kill(sig)
    const killer = setTimeout(() => child.kill('SIGKILL'), 10_000)
    const code = await exited
    clearTimeout(killer)
    const r: RunResult = {code: code ?? -1, stdout, stderr}
    expect(Date.now() - t0, 'exited within a few seconds of the first signal').toBeLessThan(5_000)
    expectError(r, 'E_INTERRUPTED', 130)
  })

  it('a daemon that never answers: containerize fails E_DOCKER_UNAVAILABLE after BENTO_DOCKER_TIMEOUT', async () => {
    const d = await fake('hang-timeout', null)
    const t0 = Date.now()
    const r = await runBento(['containerize', tag, '--json'], {env: {BENTOML_HOME: home, DOCKER_HOST: `unix://${d.socket}`, BENTO_DOCKER_TIMEOUT: '1'}, timeoutMs: 20_000})
    expect(Date.now() - t0).toBeLessThan(10_000)
    const error = expectError(r, 'E_DOCKER_UNAVAILABLE', 7, /did not answer GET \/version within 1 s/)
    expect(error.hint).toMatch(/BENTO_DOCKER_TIMEOUT/)
  })

  it.each([
    ['HTTP 500', 500, '{"message":"boom"}', /answered HTTP 500 \{"message":"boom"\} to GET \/version: is it a Docker daemon\?/],
    ['HTTP 404', 404, '404 page not found', /answered HTTP 404 404 page not found to GET \/version/],
  ])('a server answering %s: containerize is E_DOCKER_UNAVAILABLE naming what answered, prune --dry-run skips the image pruners', async (name, status, body, message) => {
    const d = await fake(`h${status}`, {status, body})
    const env = {BENTOML_HOME: home, DOCKER_HOST: `unix://${d.socket}`}
    expectError(await runBento(['containerize', tag, '--json'], {env, timeoutMs: 20_000}), 'E_DOCKER_UNAVAILABLE', 7, message)
    const pruned = await runBento(['prune', '--dry-run', '--json'], {env, timeoutMs: 20_000})
    expect(pruned.code, `${name}: ${pruned.stdout}${pruned.stderr}`).toBe(0)
    const skipped = (JSON.parse(pruned.stdout) as {skipped: Array<{pruner: string; reason: string}>}).skipped
    expect(skipped.map((s) => s.pruner).sort()).toEqual(['model-images', 'wheelhouse-images'])
    expect(skipped[0]?.reason).toMatch(new RegExp(`answered HTTP ${status}`))
  })
})
