/**
 * The CI recipes of ci/ run as their runners run them (test/helpers/ci-runner.ts): the GitHub composite action
 * ci/github/action.yml step by step, and the `script:` of the GitLab template's `.bento` job under its variables.
 * Against the iris example with a bento-lock.json committed in its git repository, the CLI from `npm pack`, a PATH
 * with no Python (nor uv, nor pip), the real Docker engine and the local registry: lock check → build → containerize
 * → smoke → push, and the outputs are the --json fields. A requirement added after the lock stops both at exit 10
 * before anything is built. Images, registry repositories and temp dirs are removed in afterAll.
 */
import {randomBytes} from 'node:crypto'
import {existsSync} from 'node:fs'
import {appendFile, mkdir, readdir, readFile, rm, symlink} from 'node:fs/promises'
import {join} from 'node:path'

import {afterAll, beforeAll, describe, expect, it} from 'vitest'

import {runCompositeAction, runGitlabJob} from '../helpers/ci-runner.js'
import {bentoml1440, DOCKER_CLI as DOCKER, imagesMadeBy, irisProject, removeDir, removeHomeImages, REPO, requireDocker, run, runBento, saveIrisModel, tempDir} from '../helpers/env.js'
import {type LocalIndex, startLocalIndex} from '../helpers/pypi-index.js'
import {deleteRepository} from '../helpers/registry.js'

const TOOLS = process.env.BENTO_TOOLS ?? join(REPO, '.tools')
const WHEELHOUSE = process.env.BENTO_WHEELHOUSE ?? join(TOOLS, 'wheelhouse')
const REGISTRY = process.env.BENTO_REGISTRY ?? '127.0.0.1:5000'
const REGISTRY_DATA = join(TOOLS, 'registry/data/docker/registry/v2')
const NPM = join(process.execPath, '..', 'npm')
const RUN_ID = randomBytes(4).toString('hex')
const REPO_NAME = `bento-ci-${RUN_ID}/iris`
const SETOSA = '[[5.1, 3.5, 1.4, 0.2]]'
const INDEX_PORT = 47311
/** A runtime env for the smoke's container: one API worker (the legacy server starts one per CPU), a faster start. */
const ONE_WORKER = ['--env', 'BENTOML_CONFIG_OPTIONS=api_server.workers=1']

/** One argument per line, as both recipes take extra arguments. */
const lines = (...args: string[]): string => args.join('\n')

/** Manifest digest and blob digests of a pushed tag (Docker Registry HTTP API v2). */
async function manifestOf(tag: string): Promise<{digest: string; blobs: string[]}> {
  const r = await fetch(`http://${REGISTRY}/v2/${REPO_NAME}/manifests/${tag}`, {headers: {Accept: 'application/vnd.docker.distribution.manifest.v2+json'}})
  if (!r.ok) throw new Error(`GET manifest ${REPO_NAME}:${tag}: HTTP ${r.status}`)
  const m = (await r.json()) as {config: {digest: string}; layers: Array<{digest: string}>}
  return {digest: r.headers.get('docker-content-digest') ?? '', blobs: [m.config.digest, ...m.layers.map((l) => l.digest)]}
}

describe('CI recipes (GitHub composite action, GitLab template) on the real Docker engine and registry', () => {
  let root = ''
  let project = ''
  let home = ''
  let tarball = ''
  let sandboxPath = ''
  const images: string[] = []
  const tags: string[] = []
  let fromGithub: Record<string, string> = {}

  /** The runner's environment: no Python, uv or pip on PATH; the CLI's tool cache shared by every run here. */
  const runnerEnv = (name: string): Record<string, string> => ({
    PATH: sandboxPath,
    HOME: process.env.HOME ?? '/root',
    CI: 'true',
    RUNNER_TEMP: join(root, name, 'temp'),
    RUNNER_TOOL_CACHE: join(root, 'tool-cache'),
    GITHUB_WORKSPACE: project,
    GITHUB_ACTIONS: 'true',
    DOCKER_CONFIG: join(root, name, 'docker-config'),
    ...(process.env.DOCKER_HOST ? {DOCKER_HOST: process.env.DOCKER_HOST} : {}),
  })

  const github = (image: string): Promise<Awaited<ReturnType<typeof runCompositeAction>>> =>
    runCompositeAction(join(REPO, 'ci/github/action.yml'), {
      image,
      'working-directory': '.',
      cli: tarball,
      'bentoml-home': home,
      'containerize-args': lines('--wheelhouse', WHEELHOUSE),
      'smoke-args': lines('--input', `classify=${SETOSA}`, '--expect', 'classify=.[0] == "setosa"', ...ONE_WORKER),
    }, runnerEnv('github'))

  const gitlab = (image: string): Promise<{code: number; stdout: string; stderr: string}> => {
    const env = runnerEnv('gitlab')
    return runGitlabJob(
      join(REPO, 'ci/gitlab/bento.gitlab-ci.yml'),
      '.bento',
      {
        PATH: env.PATH as string,
        HOME: env.HOME as string,
        DOCKER_CONFIG: env.DOCKER_CONFIG as string,
        CI: 'true',
        GITLAB_CI: 'true',
        CI_PROJECT_DIR: project,
        CI_REGISTRY: REGISTRY,
        CI_REGISTRY_IMAGE: `${REGISTRY}/${REPO_NAME}`,
        CI_REGISTRY_USER: 'gitlab-ci-token',
        CI_REGISTRY_PASSWORD: `job-token-${RUN_ID}`,
        CI_COMMIT_SHORT_SHA: 'abc1234',
      },
      {
        // What the user's job (extends: .bento) sets: the engine here is the local one, not the dind service.
        DOCKER_HOST: process.env.DOCKER_HOST ?? 'unix:///var/run/docker.sock',
        BENTO_CLI: tarball,
        BENTO_IMAGE: image,
        BENTOML_HOME: home,
        BENTO_OUT: join(root, 'gitlab', 'out'),
        BENTO_CLI_CACHE: join(root, 'tool-cache', 'bento-cli'),
        BENTO_CONTAINERIZE_ARGS: lines('--wheelhouse', WHEELHOUSE),
        BENTO_SMOKE_ARGS: lines('--input', `classify=${SETOSA}`, '--expect', 'classify=.[0] == "setosa"', ...ONE_WORKER),
      },
    )
  }

  beforeAll(async () => {
    await requireDocker()
    const registry = await fetch(`http://${REGISTRY}/v2/`).catch((error: unknown) => error as Error)
    if (registry instanceof Error || !registry.ok) throw new Error(`no registry at ${REGISTRY}: run scripts/provision/registry.sh`)
    if (!existsSync(REGISTRY_DATA)) throw new Error(`the local registry's storage ${REGISTRY_DATA} is missing: run scripts/provision/registry.sh`)
    root = await tempDir('bento-ci-recipe-')

    // The CLI as users get it (dist/ was compiled by the test run's global setup).
    const pack = await run(NPM, ['pack', '--ignore-scripts', '--pack-destination', root], {cwd: REPO})
    expect(pack.code, pack.stderr).toBe(0)
    tarball = join(root, (await readdir(root)).find((f) => f.endsWith('.tgz')) as string)

    // PATH: every command of /usr/bin but Python, pip and uv.
    const bin = join(root, 'bin')
    await mkdir(bin)
    for (const name of await readdir('/usr/bin')) if (!/python|^pip|^uv$|^uvx$/.test(name)) await symlink(join('/usr/bin', name), join(bin, name))
    if (!existsSync(join(bin, 'node'))) await symlink(process.execPath, join(bin, 'node'))
    sandboxPath = bin
    const noPython = await run('bash', ['-c', 'command -v python3 python uv pip || echo none'], {env: {PATH: sandboxPath}, cleanEnv: true})
    expect(noPython.stdout.trim()).toBe('none')

    // The project: the iris example, its model in the store, and its lock committed (uv ran here, never in CI).
    home = join(root, 'bentoml-home')
    project = await irisProject()
    await saveIrisModel(home)
    let index: LocalIndex | undefined
    try {
      // A fixed port when free: the lock holds the index URL (--index-url, as BentoML writes it), so the same URL
      // gives the same lock, the same install layer (BuildKit's cache) and the same pushed layers run after run.
      index = await startLocalIndex(WHEELHOUSE, {port: INDEX_PORT}).catch(() => startLocalIndex(WHEELHOUSE))
      const uv = join(bentoml1440().dir, 'bin/uv')
      const locked = await runBento(['lock', '--json'], {cwd: project, env: {BENTOML_HOME: home, BENTO_UV: uv, UV_INDEX_URL: index.url, UV_CACHE_DIR: join(root, 'uv-cache')}})
      expect(locked.code, locked.stderr).toBe(0)
    } finally {
      await index?.close()
    }
    const git = (...args: string[]): Promise<{code: number; stdout: string; stderr: string}> =>
      run('git', ['-c', 'user.name=ci', '-c', 'user.email=ci@example.invalid', ...args], {cwd: project})
    expect((await git('init', '-q')).code).toBe(0)
    expect((await git('add', '-A')).code).toBe(0)
    expect((await git('commit', '-qm', 'iris with bento-lock.json')).code).toBe(0)
  })

  afterAll(async () => {
    // The model and wheelhouse images containerize tagged for this test's home, as its --json says.
    for (const f of [join(root, 'github/temp/bento-containerize.json'), join(root, 'gitlab/out/bento-containerize.json')]) {
      if (existsSync(f)) images.push(...imagesMadeBy(JSON.parse(await readFile(f, 'utf8'))))
    }
    for (const i of new Set(images)) await run(DOCKER, ['rmi', '-f', i])
    if (home !== '') await removeHomeImages(home)
    // Its tags and manifests through the registry's API; the blobs go with the registry's garbage collection after the
    // run (scripts/test-all.sh registry-gc): deleting blob files under a live registry races the other lane's pushes.
    await deleteRepository(REPO_NAME)
    if (project !== '') await removeDir(project)
    if (root !== '') await removeDir(root)
  })

  it('GitHub: the action locks, builds, containerizes, smoke-tests and pushes; its outputs are the --json fields', async () => {
    const image = `${REGISTRY}/${REPO_NAME}:gh`
    images.push(image)
    tags.push('gh')
    const started = performance.now()
    const r = await github(image)
    const failure = r.failed ? `step ${r.failed.id} exited ${r.failed.code}:\n${r.failed.stderr}\n${r.failed.stdout}` : ''
    expect(r.failed, failure).toBeUndefined()
    const ready = (JSON.parse(r.outputs['smoke-report'] ?? '{}') as {timeToReadyMs?: number}).timeToReadyMs
    console.log(`GitHub action: ${Math.round(performance.now() - started)} ms (${r.steps.map((s) => `${s.id} ${s.durationMs}`).join(', ')}), ready in ${ready} ms, ${r.outputs['bytes-uploaded']} bytes uploaded`)
    expect(r.steps.map((s) => s.id)).toEqual(['install', 'lock', 'build', 'containerize', 'smoke', 'push'])
    expect(r.outputs.tag).toMatch(/^clasificador_iris:[a-z0-9]+$/)
    expect(r.outputs.image).toBe(image)
    expect(r.outputs['image-id']).toMatch(/^sha256:[0-9a-f]{64}$/)
    expect(r.outputs.digest).toMatch(/^sha256:[0-9a-f]{64}$/)
    expect(Number(r.outputs['bytes-uploaded'])).toBeGreaterThan(0)
    // The registry holds what the output says.
    expect((await manifestOf('gh')).digest).toBe(r.outputs.digest)
    const report = JSON.parse(r.outputs['smoke-report'] as string) as {ok: boolean; network: string; apis: Array<{name: string; ok: boolean}>}
    expect(report).toMatchObject({ok: true, network: 'none', apis: [{name: 'classify', ok: true}]})
    expect(await readFile(r.outputs['smoke-junit'] as string, 'utf8')).toContain('failures="0"')
    // The build took the committed lock: no resolver ran (there is none on PATH).
    const build = JSON.parse(await readFile(join(root, 'github/temp/bento-build.json'), 'utf8')) as {lock: {source: string}}
    expect(build.lock.source).toBe('bento-lock.json')
    fromGithub = r.outputs
  })

  it('GitLab: the .bento job script under its variables does the same; bento.env, the smoke report and JUnit are written', async () => {
    const image = `${REGISTRY}/${REPO_NAME}:gl`
    images.push(image)
    tags.push('gl')
    const started = performance.now()
    const r = await gitlab(image)
    expect(r.code, r.stderr + r.stdout).toBe(0)
    console.log(`GitLab job: ${Math.round(performance.now() - started)} ms`)
    const out = join(root, 'gitlab', 'out')
    const env = Object.fromEntries(
      (await readFile(join(out, 'bento.env'), 'utf8'))
        .split('\n')
        .filter(Boolean)
        .map((l) => [l.slice(0, l.indexOf('=')), l.slice(l.indexOf('=') + 1)]),
    )
    expect(env).toMatchObject({BENTO_TAG: expect.stringMatching(/^clasificador_iris:/), BENTO_IMAGE: image, BENTO_IMAGE_ID: expect.stringMatching(/^sha256:/), BENTO_DIGEST: expect.stringMatching(/^sha256:[0-9a-f]{64}$/)})
    // The same inputs build the same Bento and image (bento build is deterministic): the registry has every layer.
    expect(env.BENTO_TAG).toBe(fromGithub.tag)
    expect(env.BENTO_DIGEST).toBe(fromGithub.digest)
    expect(env.BENTO_BYTES_UPLOADED).toBe('0')
    expect((await manifestOf('gl')).digest).toBe(env.BENTO_DIGEST)
    expect(JSON.parse(await readFile(join(out, 'bento-smoke.json'), 'utf8'))).toMatchObject({ok: true, apis: [{name: 'classify', ok: true}]})
    expect(await readFile(join(out, 'bento-smoke.xml'), 'utf8')).toContain('failures="0"')
    // The registry login the job writes, as `docker login` would.
    const config = JSON.parse(await readFile(join(root, 'gitlab/docker-config/config.json'), 'utf8')) as {auths: Record<string, {auth: string}>}
    expect(Buffer.from(config.auths[REGISTRY]!.auth, 'base64').toString()).toBe(`gitlab-ci-token:job-token-${RUN_ID}`)
  })

  it('a requirement added after the lock: both stop at the lock check with exit 10, nothing built or pushed', async () => {
    await appendFile(join(project, 'bentofile.yaml'), '    - pandas\n')
    try {
      const image = `${REGISTRY}/${REPO_NAME}:drift`
      const gh = await github(image)
      expect(gh.failed?.id).toBe('lock')
      expect(gh.failed?.code, gh.failed?.stderr).toBe(10)
      expect(gh.failed?.stderr).toContain('E_LOCK_DRIFT')
      expect(gh.steps.map((s) => s.id)).toEqual(['install', 'lock'])

      await rm(join(root, 'gitlab', 'out'), {recursive: true, force: true})
      const gl = await gitlab(image)
      expect(gl.code, gl.stderr).toBe(10)
      expect(gl.stderr).toContain('pandas')
      expect(existsSync(join(root, 'gitlab', 'out', 'bento-build.json'))).toBe(false)
      expect((await run(DOCKER, ['image', 'inspect', image])).code).not.toBe(0)
    } finally {
      await run('git', ['checkout', '--', 'bentofile.yaml'], {cwd: project})
    }
  })
})
