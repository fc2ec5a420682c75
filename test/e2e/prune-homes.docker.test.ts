/**
 * `bento prune` on a REAL Docker engine shared by two homes, with a containerize in flight (issue 15, E12): the
 * containerize of home A is held just before its Bento image build (a proxy in front of the daemon's socket holds
 * `POST /build`) while home B (another user's home on the same daemon) and home A itself run a real `bento prune`.
 * Neither may remove the model image the build is about to copy from; once the Bento image exists it keeps the model
 * image, and once it is gone home A's prune removes it. The model image's name resolves nowhere: when it is missing,
 * the build fails on `bento-model.invalid`, never a pull from Docker Hub.
 */
import {type ChildProcess, spawn} from 'node:child_process'
import {createConnection, createServer, type Server, type Socket} from 'node:net'
import {join} from 'node:path'

import {afterAll, beforeAll, describe, expect, it} from 'vitest'

import {BIN, DOCKER_CLI as DOCKER, irisProject, removeDir, removeHomeImages, REPO, requireDocker, run, runBento, saveIrisModel, tempDir} from '../helpers/env.js'

const WHEELHOUSE = process.env.BENTO_WHEELHOUSE ?? join(REPO, '.tools/wheelhouse')
const DAEMON = '/var/run/docker.sock'

/** A unix-socket proxy to the daemon that holds a connection's bytes from a `POST …/build?…t=<hold>…` on until `release()`. */
async function holdingProxy(path: string, hold: string): Promise<{server: Server; held: () => boolean; release: () => void}> {
  let released = false
  let held = false
  const waiting: Array<() => void> = []
  const server = createServer((client: Socket) => {
    const upstream = createConnection(DAEMON)
    let holding = false
    const pending: Buffer[] = []
    client.on('data', (chunk: Buffer) => {
      if (!released && !holding && new RegExp(`^POST /[^ ]*build\\?[^ ]*\\bt=${hold}`).test(chunk.subarray(0, 2000).toString('latin1'))) {
        holding = true
        held = true
        waiting.push(() => {
          for (const c of pending) upstream.write(c)
          pending.length = 0
          holding = false
        })
      }
      if (holding) pending.push(chunk)
      else upstream.write(chunk)
    })
    upstream.pipe(client)
    client.on('error', () => upstream.destroy())
    upstream.on('error', () => client.destroy())
    client.on('close', () => upstream.end())
  })
  await new Promise<void>((resolve) => server.listen(path, resolve))
  return {
    server,
    held: () => held,
    release: () => {
      released = true
      for (const w of waiting.splice(0)) w()
    },
  }
}

interface PruneJson {
  removed: Array<{id: string}>
  found: Array<{id: string}>
}

describe('bento prune with two homes on one daemon and a containerize in flight (E12)', () => {
  let homeA: string
  let homeB: string
  let project: string
  let sock: string
  let tag: string
  const image = `prune-homes-e2e:${process.pid}`
  let modelImage = ''
  let wheelhouseImage = ''
  let child: ChildProcess | undefined

  const docker = (...args: string[]): ReturnType<typeof run> => run(DOCKER, args, {timeoutMs: 600_000})
  const prune = async (home: string, ...extra: string[]): Promise<PruneJson> => {
    const r = await runBento(['prune', '--only', 'model-images', '--json', ...extra], {env: {BENTOML_HOME: home}})
    expect(r.code, r.stderr).toBe(0)
    return JSON.parse(r.stdout) as PruneJson
  }

  beforeAll(async () => {
    await requireDocker()
    homeA = await tempDir('bento-prune-a-')
    homeB = await tempDir('bento-prune-b-')
    sock = join(await tempDir('bento-prune-sock-'), 'docker.sock')
    project = await irisProject()
    await saveIrisModel(homeA)
    const b = await runBento(['build', '--json'], {cwd: project, env: {BENTOML_HOME: homeA}})
    expect(b.code, b.stderr).toBe(0)
    tag = (JSON.parse(b.stdout) as {tag: string}).tag
  })

  afterAll(async () => {
    child?.kill('SIGKILL')
    await docker('rmi', '-f', image)
    if (modelImage) await docker('rmi', '-f', modelImage)
    if (wheelhouseImage) await docker('rmi', '-f', wheelhouseImage)
    if (homeA) await removeHomeImages(homeA)
    for (const d of [homeA, homeB, project]) if (d) await removeDir(d)
  })

  it('neither home removes the model image a containerize is about to copy from; the Bento image keeps it; then home A removes it', async () => {
    const proxy = await holdingProxy(sock, 'prune-homes-e2e')
    try {
      let stderr = ''
      let stdout = ''
      child = spawn(process.execPath, [BIN, 'containerize', tag, '-t', image, '--wheelhouse', WHEELHOUSE, '--json'], {
        env: {...process.env, BENTOML_HOME: homeA, DOCKER_HOST: `unix://${sock}`},
        stdio: ['ignore', 'pipe', 'pipe'],
      })
      child.stdout?.on('data', (c: Buffer) => (stdout += c.toString()))
      child.stderr?.on('data', (c: Buffer) => (stderr += c.toString()))
      const exited = new Promise<number>((resolve) => child?.on('exit', (code) => resolve(code ?? -1)))
      // Wait until the Bento image build is held: the model image has been imported by then.
      const deadline = Date.now() + 600_000
      while (!(proxy.held() && /Building image/.test(stderr))) {
        if (Date.now() > deadline) throw new Error(`containerize never reached its build: ${stderr}`)
        if (child.exitCode !== null) throw new Error(`containerize ended early (${child.exitCode}): ${stderr}${stdout}`)
        await new Promise((r) => setTimeout(r, 100))
      }
      const imported = /importing image (\S+)|image (\S+) is up to date/.exec(stderr)
      modelImage = imported?.[1] ?? imported?.[2] ?? ''
      expect(modelImage).toMatch(/^bento-model\.invalid\/h[0-9a-f]{16}\/iris_clf:/)

      // Home B never made it (another user's home on the same daemon): nothing of A's is even found.
      const fromB = await prune(homeB, '--dry-run')
      expect(fromB.found.map((i) => i.id)).not.toContain(modelImage)
      expect((await prune(homeB)).removed.map((i) => i.id)).not.toContain(modelImage)
      // Home A made it, but its running containerize holds it (lease).
      expect((await prune(homeA)).removed.map((i) => i.id)).not.toContain(modelImage)
      expect((await docker('image', 'inspect', modelImage)).code).toBe(0)

      proxy.release()
      const code = await exited
      expect(code, stderr).toBe(0)
      const result = JSON.parse(stdout) as {tags: string[]; wheelhouseImage?: {image: string}}
      wheelhouseImage = result.wheelhouseImage?.image ?? ''
      expect(result.tags).toEqual([image])
    } finally {
      proxy.release()
      await new Promise((r) => proxy.server.close(r))
    }

    // The Bento image names the model: kept. Without it, home A's prune removes the model image.
    expect((await prune(homeA)).removed).toEqual([])
    expect((await docker('rmi', image)).code).toBe(0)
    const after = await prune(homeA)
    expect(after.removed.map((i) => i.id)).toEqual([modelImage])
    expect((await docker('image', 'inspect', modelImage)).code).not.toBe(0)

    // The model image is gone: a Dockerfile naming it fails on the .invalid host, it is never pulled from a registry.
    const ctx = await tempDir('bento-prune-ctx-')
    try {
      const {writeFile} = await import('node:fs/promises')
      await writeFile(join(ctx, 'Dockerfile'), `FROM scratch\nCOPY --from=${modelImage} / /\n`)
      const r = await run(DOCKER, ['build', '-q', ctx], {env: {DOCKER_BUILDKIT: '1'}, timeoutMs: 120_000})
      expect(r.code).not.toBe(0)
      expect(r.stderr).toMatch(/bento-model\.invalid/)
      expect(r.stderr).not.toMatch(/docker\.io|registry-1/)
    } finally {
      await removeDir(ctx)
    }
  })
})
