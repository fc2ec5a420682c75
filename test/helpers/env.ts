import {execFile, spawn, type ChildProcess} from 'node:child_process'
import {existsSync} from 'node:fs'
import {cp, mkdtemp, readFile, rename, rm, writeFile} from 'node:fs/promises'
import {createServer} from 'node:net'
import {tmpdir} from 'node:os'
import {dirname, join} from 'node:path'
import {fileURLToPath} from 'node:url'
import {promisify} from 'node:util'

import {randomVersion} from '../../src/store/tag.js'

export const REPO = fileURLToPath(new URL('../../', import.meta.url))
export const BIN = join(REPO, 'bin/run.js')

/** The CLI for a child running as nobody (uid 65534): the checkout's, or a copy nobody can read (test/global-setup.ts). */
export function binForNobody(): string {
  return join(process.env.BENTO_NOBODY_REPO ?? REPO, 'bin/run.js')
}
const execFileP = promisify(execFile)

/** The real BentoMLs the interop tests run. */
export type BentomlRelease = '1.3.22' | '1.4.15' | '1.4.40'

/** Where each real BentoML venv is: its environment variable, its folder under the tools, the script that makes it. */
const VENVS: Record<BentomlRelease, {env: string; folder: string}> = {
  '1.4.15': {env: 'BENTOML_VENV', folder: 'bentoml-venv'},
  '1.4.40': {env: 'BENTOML_1440_VENV', folder: 'bentoml-1.4.40-venv'},
  '1.3.22': {env: 'BENTOML_1322_VENV', folder: 'bentoml-1.3.22-venv'},
}

/** The provisioned tools (`BENTO_TOOLS`, else `.tools` in the checkout). */
export const TOOLS = process.env.BENTO_TOOLS ?? join(REPO, '.tools')

/**
 * The venv of a real BentoML: 1.4.15 (scripts/provision/bentoml-venv.sh, the default), 1.4.40 or 1.3.22
 * (scripts/provision/bentoml-<version>-venv.sh). Fails, never skips, when missing.
 */
export function bentomlVenv(version: BentomlRelease = '1.4.15'): {python: string; bentoml: string; uv: string; dir: string} {
  const {env, folder} = VENVS[version]
  const dir = process.env[env] ?? join(TOOLS, folder)
  const python = join(dir, 'bin/python')
  if (!existsSync(python)) {
    throw new Error(`The real BentoML ${version} venv is missing at ${dir}: run scripts/provision/${folder}.sh (CI does)`)
  }
  return {python, bentoml: join(dir, 'bin/bentoml'), uv: join(dir, 'bin/uv'), dir}
}

/**
 * `bentomlVenv('1.4.40')` under its old name, for test/e2e/corpus-diff.test.ts only (the coverage branch changes that
 * file too); drop it once both are merged.
 */
export const bentoml1440 = (): ReturnType<typeof bentomlVenv> => bentomlVenv('1.4.40')

export async function tempDir(prefix = 'bento-test-'): Promise<string> {
  return mkdtemp(join(tmpdir(), prefix))
}

export async function removeDir(dir: string): Promise<void> {
  await rm(dir, {recursive: true, force: true})
}

export interface RunResult {
  code: number
  stdout: string
  stderr: string
}

/** Run the compiled CLI (the test global setup compiles it). */
export async function runBento(args: string[], opts: RunOptions = {}): Promise<RunResult> {
  return run(process.execPath, [BIN, ...args], opts)
}

export interface RunOptions {
  cwd?: string
  env?: NodeJS.ProcessEnv
  timeoutMs?: number
  /** Written to the child's stdin (a pipe), which is then closed. Without it stdin is an empty pipe. */
  input?: string
  /** The child gets `env` only, not this process's environment under it. */
  cleanEnv?: boolean
}

export async function run(cmd: string, args: string[], opts: RunOptions = {}): Promise<RunResult> {
  try {
    const pending = execFileP(cmd, args, {
      cwd: opts.cwd,
      env: opts.cleanEnv ? opts.env : {...process.env, ...opts.env},
      maxBuffer: 64 * 1024 * 1024,
      timeout: opts.timeoutMs ?? 600_000,
    })
    // A child may exit without reading its stdin (`sh -c 'printf …'`): the pipe then closes under the write (EPIPE),
    // which is no failure of the command; its exit code and output say how it went.
    pending.child.stdin?.on('error', () => {})
    pending.child.stdin?.end(opts.input ?? '')
    const {stdout, stderr} = await pending
    return {code: 0, stdout, stderr}
  } catch (error) {
    const e = error as {code?: number | string; stdout?: string; stderr?: string}
    return {code: typeof e.code === 'number' ? e.code : 1, stdout: e.stdout ?? '', stderr: e.stderr ?? String(error)}
  }
}

/** Run the real bentoml CLI of the venv with BENTOML_HOME set. */
export async function runBentoml(
  args: string[],
  home: string,
  opts: {cwd?: string; env?: NodeJS.ProcessEnv; version?: BentomlRelease} = {},
): Promise<RunResult> {
  const venv = bentomlVenv(opts.version)
  return run(venv.bentoml, args, {cwd: opts.cwd, env: {COLUMNS: '10000', ...opts.env, BENTOML_HOME: home, ...bentomlCliEnv(venv)}})
}

/**
 * The environment runBentoml gives every call of a venv's CLI (test/helpers/zygote.ts's startBentomlZygote too), besides
 * `COLUMNS: '10000'` (BentoML's rich console wraps output, paths too, at 80 columns when it is not a terminal) and
 * BENTOML_HOME: the venv's bin first on PATH (`bentoml build` locks with the uv installed there), then Debian's docker
 * client (with BuildKit: the one earlier on PATH here lacks buildx).
 */
export function bentomlCliEnv(venv: {dir: string}): {BENTOML_DO_NOT_TRACK: string; PATH: string} {
  const dockerDir = dirname(DOCKER_CLI)
  return {BENTOML_DO_NOT_TRACK: 'true', PATH: `${join(venv.dir, 'bin')}:${dockerDir}:${process.env.PATH ?? ''}`}
}

/** Copy the bundled iris example into a temp project dir. */
export async function irisProject(): Promise<string> {
  const dir = await tempDir('bento-iris-')
  await cp(join(REPO, 'examples/iris'), dir, {recursive: true})
  return dir
}

/**
 * The iris sklearn model in `home`, as the real `bentoml.sklearn.save_model` writes it (examples/iris/train.py).
 * Trained once per test run (≈ 2.5 CPU-s of Python each time: BentoML and scikit-learn imported, the model fitted) into
 * a store under the run's TMPDIR (test/global-setup.ts); each home that asks gets a copy under a version of its own
 * (`randomVersion`, made as BentoML makes one; `model.yaml` says it, `latest` names it). Its own version
 * matters: a Bento's version is a digest of its inputs, so two homes with the same model tag would build the same
 * Bento tag, and two Docker files would share image names. Returns the tag.
 */
export async function saveIrisModel(home: string): Promise<string> {
  const store = await trainedIrisStore()
  const trained = (await readFile(join(store, 'models/iris_clf/latest'), 'utf8')).trim()
  const version = randomVersion()
  const dir = join(home, 'models/iris_clf')
  await cp(join(store, 'models/iris_clf', trained), join(dir, version), {recursive: true})
  const yaml = await readFile(join(dir, version, 'model.yaml'), 'utf8')
  if (!yaml.includes(`\nversion: ${trained}\n`)) throw new Error(`model.yaml of the trained iris model names no version ${trained}:\n${yaml}`)
  await writeFile(join(dir, version, 'model.yaml'), yaml.replace(`\nversion: ${trained}\n`, `\nversion: ${version}\n`))
  await writeFile(join(dir, 'latest'), version)
  return `iris_clf:${version}`
}

/** The store train.py saved the iris model into, once per run: the first caller trains, a concurrent one's copy loses. */
async function trainedIrisStore(): Promise<string> {
  const shared = join(tmpdir(), 'iris-model-store')
  if (existsSync(join(shared, 'models/iris_clf/latest'))) return shared
  const mine = await mkdtemp(join(tmpdir(), 'iris-train-'))
  const venv = bentomlVenv()
  const r = await run(venv.python, [join(REPO, 'examples/iris/train.py')], {env: {BENTOML_HOME: mine, BENTOML_DO_NOT_TRACK: 'true'}})
  if (r.code !== 0) throw new Error(`train.py failed: ${r.stderr}`)
  if (!/Model saved: iris_clf:\S+/.test(r.stdout)) throw new Error(`train.py printed no tag: ${r.stdout}`)
  try {
    await rename(mine, shared)
  } catch (error) {
    // Another file trained at the same time and renamed first (ENOTEMPTY/EEXIST): use its store.
    await removeDir(mine)
    if (!existsSync(join(shared, 'models/iris_clf/latest'))) throw error
  }
  return shared
}

export async function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const srv = createServer()
    srv.listen(0, '127.0.0.1', () => {
      const addr = srv.address()
      const port = typeof addr === 'object' && addr ? addr.port : 0
      srv.close(() => resolve(port))
    })
    srv.on('error', reject)
  })
}

export async function waitForHttp(url: string, timeoutMs: number, proc?: ChildProcess): Promise<void> {
  const deadline = Date.now() + timeoutMs
  let last = ''
  while (Date.now() < deadline) {
    if (proc && proc.exitCode !== null) throw new Error(`process exited with ${proc.exitCode} before ${url} answered`)
    try {
      const r = await fetch(url, {signal: AbortSignal.timeout(5_000)})
      if (r.ok) return
      last = `HTTP ${r.status}`
    } catch (error) {
      last = String(error)
    }
    await new Promise((r) => setTimeout(r, 500))
  }
  throw new Error(`${url} did not answer within ${timeoutMs} ms (${last})`)
}

/** The Docker CLI the tests drive (BENTO_DOCKER_CLI; Debian's, with BuildKit). */
export const DOCKER_CLI = process.env.BENTO_DOCKER_CLI ?? '/usr/bin/docker'

/** `docker ARGS...`, bounded at 10 minutes. */
export async function docker(...args: string[]): Promise<RunResult> {
  return run(DOCKER_CLI, args, {timeoutMs: 600_000})
}

/** Fails (never skips) when the e2e-docker tier has no daemon, saying which script provides one. */
export async function requireDocker(): Promise<void> {
  const ping = await docker('version', '--format', '{{.Server.Version}}')
  if (ping.code !== 0) throw new Error(`no Docker daemon: run scripts/provision/docker.sh (${ping.stderr})`)
}

/** A Docker file's cleanup: its containers (`rm -f`), then its images (`rmi -f`, each once). */
export async function removeContainersAndImages(containers: readonly string[], images: readonly string[]): Promise<void> {
  for (const c of containers) await docker('rm', '-f', c)
  for (const i of new Set(images)) await docker('rmi', '-f', i)
}

/** `docker image inspect -f '{{json FORMAT}}' REF`, parsed; throws with the CLI's message when it fails. */
export async function inspectImage<T>(ref: string, format: string): Promise<T> {
  const r = await docker('image', 'inspect', '-f', `{{json ${format}}}`, ref)
  if (r.code !== 0) throw new Error(`docker image inspect ${ref}: ${r.stderr}`)
  return JSON.parse(r.stdout) as T
}

/**
 * `docker run -d` of `image` with its port 3000 published on 127.0.0.1, waiting until `/readyz` answers (the
 * container's logs in the error if it never does). The container's id goes into `containers`, for the caller's
 * cleanup, as soon as it exists.
 *
 * With one CPU (`--cpus 1`, as a pod with a one-CPU limit): BentoML sizes its workers from the container's CPU quota,
 * so a legacy (runner) service starts one API worker instead of one per host core — each worker is a Python that
 * imports BentoML (≈ 2 s of CPU here, ≈ 10 s under QEMU), and the tests only need one to answer.
 */
export async function serveImage(image: string, containers: string[], runArgs: string[] = []): Promise<{id: string; url: string}> {
  const docker = DOCKER_CLI
  const port = await freePort()
  const started = await run(docker, ['run', '-d', '--cpus', '1', '-p', `127.0.0.1:${port}:3000`, ...runArgs, image], {timeoutMs: 600_000})
  if (started.code !== 0) throw new Error(`docker run ${image} exited with ${started.code}: ${started.stderr}`)
  const id = started.stdout.trim()
  containers.push(id)
  const url = `http://127.0.0.1:${port}`
  try {
    await waitForHttp(`${url}/readyz`, 180_000)
  } catch (error) {
    const logs = await run(docker, ['logs', id])
    throw new Error(`${String(error)}\n--- container logs ---\n${logs.stdout}${logs.stderr}`)
  }
  return {id, url}
}

export async function postJson(url: string, body: unknown): Promise<{status: number; json: unknown}> {
  const r = await fetch(url, {
    method: 'POST',
    headers: {'content-type': 'application/json'},
    body: JSON.stringify(body),
    signal: AbortSignal.timeout(60_000),
  })
  return {status: r.status, json: await r.json()}
}

/**
 * `bentoml serve <abs path>` on 127.0.0.1:port; returns a stop function. Logs are kept for failures. One API worker
 * (`--api-workers 1`: a legacy runner service starts one per core otherwise, each a Python importing BentoML; an
 * `@bentoml.service` has one already and ignores the option).
 */
export async function serveWithBentoml(
  bentoPath: string,
  home: string,
  opts: {version?: BentomlRelease} = {},
): Promise<{url: string; stop: () => Promise<void>; logs: () => string}> {
  const venv = bentomlVenv(opts.version)
  const port = await freePort()
  let logs = ''
  const proc = spawn(venv.bentoml, ['serve', bentoPath, '--host', '127.0.0.1', '--port', String(port), '--api-workers', '1'], {
    env: {...process.env, BENTOML_HOME: home, BENTOML_DO_NOT_TRACK: 'true'},
    stdio: ['ignore', 'pipe', 'pipe'],
    detached: true,
  })
  proc.stdout!.on('data', (d) => (logs += d))
  proc.stderr!.on('data', (d) => (logs += d))
  const url = `http://127.0.0.1:${port}`
  const stop = async (): Promise<void> => {
    if (proc.exitCode !== null) return
    try {
      process.kill(-proc.pid!, 'SIGTERM')
    } catch {}
    await new Promise<void>((resolve) => {
      const t = setTimeout(() => {
        try {
          process.kill(-proc.pid!, 'SIGKILL')
        } catch {}
        resolve()
      }, 10_000)
      proc.once('exit', () => {
        clearTimeout(t)
        resolve()
      })
    })
  }
  try {
    await waitForHttp(`${url}/readyz`, 120_000, proc)
  } catch (error) {
    await stop()
    throw new Error(`${String(error)}\n--- bentoml serve logs ---\n${logs}`)
  }
  return {url, stop, logs: () => logs}
}

/**
 * The images a `bento containerize --json` result made or tagged besides the Bento image: its model images and its
 * wheelhouse image (named under the test's home, so each test home has its own tags: the test removes them).
 */
export function imagesMadeBy(json: unknown): string[] {
  const r = json as {modelImages?: Array<{image: string}>; wheelhouseImage?: {image: string}}
  return [...(r.modelImages ?? []).map((m) => m.image), ...(r.wheelhouseImage ? [r.wheelhouseImage.image] : [])]
}

/**
 * The Docker bridge's gateway address (a build's RUN steps reach the host there): IPAM's Gateway, else the first
 * address of its subnet (dockerd leaves Gateway out of `network inspect` when it was not configured explicitly).
 */
export async function bridgeGateway(docker: string): Promise<string> {
  const r = await run(docker, ['network', 'inspect', 'bridge', '--format', '{{json .IPAM.Config}}'])
  const config = r.code === 0 ? (JSON.parse(r.stdout.trim() || '[]') as Array<{Gateway?: string; Subnet?: string}>) : []
  const v4 = config.find((c) => /^\d+\.\d+\.\d+\.\d+/.test(c.Subnet ?? c.Gateway ?? ''))
  if (v4?.Gateway) return v4.Gateway
  const subnet = /^(\d+)\.(\d+)\.(\d+)\.(\d+)\/\d+$/.exec(v4?.Subnet ?? '')
  if (subnet) return `${subnet[1]}.${subnet[2]}.${subnet[3]}.${Number(subnet[4]) + 1}`
  throw new Error(`no bridge gateway: ${r.stderr}${r.stdout}`)
}

/**
 * Remove every image bento tagged for `home` (its model and wheelhouse images, named under the home's id,
 * `$BENTOML_HOME/.bento/home-id`: `bento-model.invalid/h<id>/…`, `bento-wheelhouse.invalid/h<id>`), whatever the test
 * got to record before it failed. By name, never by label or id: containerize tags another home's image of the same
 * model or wheelhouse for this home instead of building it again, so one image carries the first home's label and
 * other homes' tags; removing by label (as this helper once did) untagged the images of the Docker file running beside.
 */
export async function removeHomeImages(home: string): Promise<void> {
  let id: string
  try {
    id = (await readFile(join(home, '.bento/home-id'), 'utf8')).trim()
  } catch {
    return
  }
  if (!/^[0-9a-f]{16}$/.test(id)) return
  const docker = DOCKER_CLI
  const listed = await run(docker, ['images', '--format', '{{.Repository}}:{{.Tag}}'])
  const refs = listed.stdout
    .split('\n')
    .filter((r) => r.startsWith(`bento-model.invalid/h${id}/`) || r.startsWith(`bento-wheelhouse.invalid/h${id}:`))
    .filter((r) => !r.endsWith(':<none>'))
  // By tag (-f too: a tag is only untagged while another home's tag names the same image).
  if (refs.length > 0) await run(docker, ['rmi', '-f', ...refs])
}
