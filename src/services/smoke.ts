/**
 * `bento smoke TAG|IMAGE`: prove an image serves before it ships. The container runs with no network by default
 * (`--network none`: no interface but loopback, so a start that downloads anything fails here), and every probe runs
 * INSIDE it (`docker exec` of the image's own Python against 127.0.0.1:3000), so nothing is published on the host
 * and a remote daemon works the same. Order: create → read bento.yaml out of it → start → /readyz with backoff
 * (failing early when the container exits) → /livez, /metrics → every API once → report. The container is removed
 * whatever happens (also after a Ctrl-C).
 */
import {lstat, readdir, readFile, writeFile} from 'node:fs/promises'
import {join} from 'node:path'

import {parse as parseYaml} from 'yaml'

import {locateBentoModels} from '../bento/models-of.js'
import {type SmokeApi, smokeApisOf} from '../bentoml/smoke-apis.js'
import {startAllowanceMs} from '../bentoml/serving.js'
import {formatTag} from '../bentoml/tag.js'
import type {ContainerClient, ExecResult} from '../docker/container-client.js'
import type {ImageClient, ImageInfo} from '../docker/image-client.js'
import {InterruptedError, isBentoError, NotFoundError, SmokeError, UsageError} from '../errors.js'
import type {Reporter} from '../reporter.js'
import {withBentoReader} from '../store/store.js'
import {checkExpectation, type Expectation, parseExpectation, splitApiPrefix} from './smoke-expect.js'

/** The port `bentoml serve` listens on in the image (and the HEALTHCHECK probes). */
const PORT = 3000
const DEFAULT_BENTO_PATH = '/home/bentoml/bento'
/** The longest body passed on the probe's command line (Linux's MAX_ARG_STRLEN is 128 KiB). */
export const MAX_INPUT_BYTES = 100 * 1024

/** 60 s to start, plus 30 s per GiB to load (models, or the whole image when the model bytes are unknown). */
export function readyTimeoutMs(bytes: number): number {
  return startAllowanceMs(bytes)
}

export interface SmokeOptions {
  target: string
  home: string
  images: ImageClient
  containers: ContainerClient
  /** `none` (default) or a Docker network name (`bridge`). */
  network: string
  /** Overrides `readyTimeoutMs`. */
  timeoutMs?: number
  /** Request bodies per API name (`*`: every API without its own), as sent. */
  inputs: Record<string, string>
  expects: Array<{api?: string; expectation: Expectation}>
  errorContains: Array<{api?: string; text: string}>
  env: string[]
  junitPath?: string
  reporter: Reporter
  signal?: AbortSignal
}

export interface SmokeApiResult {
  name: string
  route: string
  inputSource: SmokeApi['source'] | 'given'
  status: number
  latencyMs: number
  ok: boolean
  failures: string[]
  /** The start of the answer (first 512 characters). */
  answer: string
}

export interface SmokeReport {
  target: string
  image: string
  imageId: string
  bento?: string
  network: string
  imageSize: number
  /** `Config.User` of the image and the uid the server runs as. */
  user: string
  uid?: number
  healthcheck: boolean
  timeoutMs: number
  timeoutBasis: 'flag' | 'model-bytes' | 'image-bytes'
  timeToReadyMs?: number
  probes: {livez?: number; metrics?: number}
  apis: SmokeApiResult[]
  durationMs: number
  ok: boolean
  error?: {code: string; message: string}
}

const PROBE = `
import json, os, sys, time, urllib.error, urllib.request
url, method, ctype, body, timeout = sys.argv[1:6]
data = body.encode() if method == 'POST' else None
req = urllib.request.Request(url, data=data, method=method, headers={'Content-Type': ctype} if data is not None else {})
t = time.perf_counter()
try:
    r = urllib.request.urlopen(req, timeout=float(timeout))
    status, out = r.status, r.read()
except urllib.error.HTTPError as e:
    status, out = e.code, e.read()
except Exception as e:
    status, out = 0, repr(e).encode()
ms = (time.perf_counter() - t) * 1000
sys.stdout.write(json.dumps({'status': status, 'ms': ms, 'uid': os.getuid(), 'body': out[:65536].decode('utf-8', 'replace')}))
`.trim()

/** The image's Python (the venv of a Bento image, else python3 on PATH) runs the probe. */
const FIND_PYTHON = 'for p in /app/.venv/bin/python3 python3 python; do command -v "$p" >/dev/null 2>&1 && exec "$p" -c "$0" "$@"; done; echo "no python in the image" >&2; exit 127'

interface ProbeAnswer {
  status: number
  ms: number
  uid: number
  body: string
}

function parseProbe(r: ExecResult): ProbeAnswer | string {
  try {
    const a = JSON.parse(r.stdout) as ProbeAnswer
    if (typeof a.status === 'number') return a
  } catch {
    // fall through
  }
  return `the probe printed no answer (exit ${r.exitCode}): ${(r.stderr || r.stdout).trim().slice(0, 300)}`
}

const sleep = (ms: number, signal?: AbortSignal): Promise<void> =>
  new Promise((resolve) => {
    const t = setTimeout(resolve, ms)
    signal?.addEventListener(
      'abort',
      () => {
        clearTimeout(t)
        resolve()
      },
      {once: true},
    )
  })

async function dirBytes(dir: string): Promise<number> {
  let total = 0
  for (const e of await readdir(dir, {withFileTypes: true})) {
    const p = join(dir, e.name)
    if (e.isDirectory()) total += await dirBytes(p)
    else if (e.isFile()) total += (await lstat(p)).size
  }
  return total
}

/**
 * The image to run: for a Bento tag of the store (`latest` and version prefixes resolve), the image `bento
 * containerize` tags for it; else TARGET as an image reference.
 */
async function resolveTarget(opts: SmokeOptions): Promise<{image: string; info: ImageInfo; bento?: string; modelBytes?: number}> {
  let fromBento: {image: string; modelBytes: number} | undefined
  try {
    fromBento = await withBentoReader(opts.home, opts.target, 'smoke', async (b) => {
      let modelBytes = 0
      for (const m of locateBentoModels(b.path, b.info, opts.home)) if (m.dir !== null) modelBytes += await dirBytes(m.dir)
      return {image: formatTag(b.tag), modelBytes}
    })
  } catch (error) {
    if (!(isBentoError(error) && ['E_BENTO_NOT_FOUND', 'E_INVALID_TAG', 'E_NOT_FOUND', 'E_AMBIGUOUS_TAG'].includes(error.code))) throw error
  }
  if (fromBento !== undefined) {
    const info = await opts.images.inspect(fromBento.image)
    if (info === null) {
      throw new NotFoundError(`Bento ${opts.target} has no image ${fromBento.image} in the Docker engine`, {
        code: 'E_IMAGE_NOT_FOUND',
        hint: `build it first: bento containerize ${opts.target} (or give the image reference)`,
      })
    }
    return {image: fromBento.image, info, bento: fromBento.image, modelBytes: fromBento.modelBytes}
  }
  const direct = await opts.images.inspect(opts.target)
  if (direct === null) {
    throw new NotFoundError(`"${opts.target}" is neither a Bento in the store nor an image in the Docker engine`, {
      code: 'E_IMAGE_NOT_FOUND',
      hint: 'give a Bento tag (`bento list`) or an image reference (`docker images`)',
    })
  }
  return {image: opts.target, info: direct}
}

/** The bodies given on the command line: `--input [NAME=]@FILE|JSON` and `--input-file FILE` (`{"api": body}`). */
export async function readSmokeInputs(inputs: string[], inputFile: string | undefined, resolvePath: (p: string) => string): Promise<Record<string, string>> {
  const out: Record<string, string> = {}
  const read = async (file: string, flag: string): Promise<string> => {
    try {
      return await readFile(resolvePath(file), 'utf8')
    } catch (error) {
      throw new NotFoundError(`${flag}: cannot read ${file} (${(error as NodeJS.ErrnoException).code ?? String(error)})`, {cause: error})
    }
  }
  if (inputFile !== undefined) {
    const text = await read(inputFile, '--input-file')
    let parsed: unknown
    try {
      parsed = JSON.parse(text)
    } catch {
      throw new UsageError(`--input-file ${inputFile} is not JSON`, {hint: 'write {"API_NAME": BODY, …}, e.g. {"classify": [[5.1, 3.5, 1.4, 0.2]]}'})
    }
    if (typeof parsed !== 'object' || parsed === null || Array.isArray(parsed)) {
      throw new UsageError(`--input-file ${inputFile} must hold a JSON object of API names`, {hint: 'e.g. {"classify": [[5.1, 3.5, 1.4, 0.2]]}'})
    }
    for (const [name, body] of Object.entries(parsed)) out[name] = typeof body === 'string' ? body : JSON.stringify(body)
  }
  for (const raw of inputs) {
    const {api, value} = splitApiPrefix(raw)
    const body = value.startsWith('@') ? await read(value.slice(1), '--input') : value
    out[api ?? '*'] = body
  }
  for (const [name, body] of Object.entries(out)) {
    if (Buffer.byteLength(body) > MAX_INPUT_BYTES) {
      throw new UsageError(`--input for ${name === '*' ? 'every API' : name} is ${Buffer.byteLength(body)} bytes: smoke sends at most ${MAX_INPUT_BYTES}`, {
        hint: 'a smoke test needs one small request per API',
      })
    }
  }
  return out
}

export function parseSmokeExpects(expects: string[]): Array<{api?: string; expectation: Expectation}> {
  return expects.map((raw) => {
    const {api, value} = splitApiPrefix(raw)
    return {api, expectation: parseExpectation(value)}
  })
}

export function parseErrorContains(list: string[]): Array<{api?: string; text: string}> {
  return list.map((raw) => {
    const {api, value} = splitApiPrefix(raw)
    return {api, text: value}
  })
}

function xmlEscape(s: string): string {
  return s.replace(/[<>&"']/g, (c) => ({'<': '&lt;', '>': '&gt;', '&': '&amp;', '"': '&quot;', "'": '&apos;'})[c] as string).replace(/[\u0000-\u0008\u000B\u000C\u000E-\u001F]/g, '')
}

/** JUnit XML: one testcase for readiness, one per probe, one per API. Pure. */
export function junitXml(r: SmokeReport): string {
  const cases: string[] = []
  const tc = (name: string, ms: number | undefined, failure?: string): void => {
    const time = ((ms ?? 0) / 1000).toFixed(3)
    cases.push(
      failure === undefined
        ? `    <testcase classname="bento.smoke" name="${xmlEscape(name)}" time="${time}"/>`
        : `    <testcase classname="bento.smoke" name="${xmlEscape(name)}" time="${time}">\n      <failure message="${xmlEscape(failure.split('\n')[0] ?? '')}">${xmlEscape(failure)}</failure>\n    </testcase>`,
    )
  }
  const notReady = r.timeToReadyMs === undefined
  tc('readyz', r.timeToReadyMs, notReady ? (r.error?.message ?? 'not ready') : undefined)
  if (!notReady) {
    tc('livez', undefined, r.probes.livez === 200 ? undefined : `GET /livez answered ${r.probes.livez ?? 'nothing'}`)
    tc('metrics', undefined, r.probes.metrics === 200 ? undefined : `GET /metrics answered ${r.probes.metrics ?? 'nothing'}`)
  }
  for (const a of r.apis) tc(`api ${a.name}`, a.latencyMs, a.ok ? undefined : `${a.failures.join('; ')}\n${a.answer}`)
  const failures = cases.filter((c) => c.includes('<failure')).length
  return [
    '<?xml version="1.0" encoding="UTF-8"?>',
    `<testsuites name="bento smoke" tests="${cases.length}" failures="${failures}" time="${(r.durationMs / 1000).toFixed(3)}">`,
    `  <testsuite name="${xmlEscape(`smoke ${r.image}`)}" tests="${cases.length}" failures="${failures}" time="${(r.durationMs / 1000).toFixed(3)}">`,
    ...cases,
    '  </testsuite>',
    '</testsuites>',
    '',
  ].join('\n')
}

function exitedError(code: number | undefined, logs: string[], network: string, detail?: string): SmokeError {
  return new SmokeError(`The container exited${code === undefined ? '' : ` with code ${code}`} before it was ready${detail ? ` (${detail})` : ''}; its last log lines:\n${logs.map((l) => `  | ${l}`).join('\n')}`, {
    code: 'E_SMOKE_EXITED',
    hint:
      network === 'none'
        ? 'it ran with no network (--network none): if the service downloads something at start, bake it into the image, or allow it with --network bridge'
        : 'run the image by hand to see the whole log: docker run --rm IMAGE',
    data: {exitCode: code, logs},
  })
}

export async function smoke(opts: SmokeOptions): Promise<SmokeReport> {
  const started = performance.now()
  const {reporter} = opts
  const {image, info, bento, modelBytes} = await resolveTarget(opts)
  const timeoutBasis: SmokeReport['timeoutBasis'] = opts.timeoutMs !== undefined ? 'flag' : modelBytes !== undefined ? 'model-bytes' : 'image-bytes'
  const timeoutMs = opts.timeoutMs ?? readyTimeoutMs(modelBytes ?? info.size)
  const report: SmokeReport = {
    target: opts.target,
    image,
    imageId: info.id,
    ...(bento === undefined ? {} : {bento}),
    network: opts.network,
    imageSize: info.size,
    user: info.user,
    healthcheck: false,
    timeoutMs,
    timeoutBasis,
    probes: {},
    apis: [],
    durationMs: 0,
    ok: false,
  }
  const finish = async (error?: unknown): Promise<void> => {
    report.durationMs = Math.round(performance.now() - started)
    report.ok = error === undefined
    if (error !== undefined) report.error = isBentoError(error) ? {code: error.code, message: error.message} : {code: 'E_BUG', message: String(error)}
    if (opts.junitPath !== undefined) await writeFile(opts.junitPath, junitXml(report))
  }

  reporter.log(`Smoke test of ${image} (network ${opts.network}, ready timeout ${Math.round(timeoutMs / 1000)} s)`)
  const id = await opts.containers.create({image, network: opts.network, env: opts.env, labels: {'dev.bento.smoke': 'true'}})
  try {
    await runSmoke(opts, id, report)
    await finish()
    return report
  } catch (error) {
    await finish(error)
    // The report so far travels with the error (`--json`: error.report).
    if (error instanceof SmokeError) Object.assign(error, {data: {...error.data, report}})
    throw error
  } finally {
    try {
      await opts.containers.remove(id)
    } catch (error) {
      reporter.warn(`could not remove container ${id.slice(0, 12)}: ${(error as Error).message}; remove it with docker rm -f ${id.slice(0, 12)}`)
    }
  }
}

async function runSmoke(opts: SmokeOptions, id: string, report: SmokeReport): Promise<void> {
  const {containers, reporter, signal} = opts
  const config = await containers.config(id)
  report.healthcheck = config.healthcheck !== null
  const bentoPath = config.env.find((e) => e.startsWith('BENTO_PATH='))?.slice('BENTO_PATH='.length) || DEFAULT_BENTO_PATH
  const yamlText = await containers.readFile(id, `${bentoPath}/bento.yaml`)
  let apis: SmokeApi[] = []
  if (yamlText === null) reporter.warn(`${bentoPath}/bento.yaml is not in the image: only /readyz, /livez and /metrics are checked`)
  else {
    try {
      apis = smokeApisOf(parseYaml(yamlText.toString('utf8')))
    } catch (error) {
      reporter.warn(`${bentoPath}/bento.yaml cannot be read (${(error as Error).message}): only /readyz, /livez and /metrics are checked`)
    }
  }
  const known = new Set(apis.map((a) => a.name))
  for (const name of [...Object.keys(opts.inputs), ...opts.expects.map((e) => e.api), ...opts.errorContains.map((e) => e.api)]) {
    if (name !== undefined && name !== '*' && !known.has(name)) {
      throw new UsageError(`The Bento has no API "${name}"`, {hint: `its APIs: ${[...known].join(', ') || '(none)'}`})
    }
  }

  const probe = async (method: 'GET' | 'POST', path: string, body = '', ctype = 'application/json', timeoutS = 5): Promise<ProbeAnswer | string> => {
    const r = await containers.exec(id, ['sh', '-c', FIND_PYTHON, PROBE, `http://127.0.0.1:${PORT}${path}`, method, ctype, body, String(timeoutS)], {
      timeoutMs: (timeoutS + 30) * 1000,
      signal,
    })
    return parseProbe(r)
  }

  await containers.start(id)
  const t0 = performance.now()
  let delay = 250
  let last = 'no answer yet'
  for (;;) {
    if (signal?.aborted) throw new InterruptedError('Interrupted while waiting for /readyz; the container is removed')
    const state = await containers.state(id)
    if (!state.running) {
      throw exitedError(state.exitCode, await containers.logs(id, 40), opts.network, state.oomKilled ? 'killed: out of memory' : state.error)
    }
    let a: ProbeAnswer | string
    try {
      a = await probe('GET', '/readyz')
    } catch (error) {
      if (error instanceof InterruptedError) throw error
      a = (error as Error).message
    }
    if (typeof a !== 'string') {
      report.uid = a.uid
      if (a.status === 200) break
      last = a.status === 0 ? a.body : `HTTP ${a.status}`
    } else last = a
    const elapsed = performance.now() - t0
    if (elapsed >= report.timeoutMs) {
      const logs = await containers.logs(id, 40)
      throw new SmokeError(`/readyz did not answer 200 within ${Math.round(report.timeoutMs / 1000)} s (last: ${last.trim().slice(0, 200)}); the container's last log lines:\n${logs.map((l) => `  | ${l}`).join('\n')}`, {
        code: 'E_SMOKE_NOT_READY',
        hint: `give it longer with --timeout SECONDS${opts.network === 'none' ? '; it runs with no network (--network none): a start that waits on a download never gets ready, allow it with --network bridge' : ''}`,
        data: {logs},
      })
    }
    await sleep(Math.min(delay, report.timeoutMs - elapsed), signal)
    delay = Math.min(delay * 2, 2000)
  }
  report.timeToReadyMs = Math.round(performance.now() - t0)
  reporter.log(`ready after ${(report.timeToReadyMs / 1000).toFixed(1)} s`)

  for (const path of ['/livez', '/metrics'] as const) {
    const a = await probe('GET', path)
    const status = typeof a === 'string' ? 0 : a.status
    report.probes[path === '/livez' ? 'livez' : 'metrics'] = status
    if (status !== 200) {
      const what = typeof a === 'string' ? a : status === 0 ? a.body : `HTTP ${status}`
      throw new SmokeError(`GET ${path} answered ${what} once the service was ready`, {
        code: 'E_SMOKE_PROBE',
        hint: path === '/metrics' ? 'is api_server.metrics.enabled false in the service config?' : 'the service is up but does not call itself live',
      })
    }
  }

  for (const api of apis) {
    const given = opts.inputs[api.name] ?? opts.inputs['*']
    const body = given ?? (typeof api.body === 'string' && api.contentType !== 'application/json' ? api.body : JSON.stringify(api.body))
    const a = await probe('POST', api.route, body, api.contentType, 60)
    const result: SmokeApiResult = {
      name: api.name,
      route: api.route,
      inputSource: given === undefined ? api.source : 'given',
      status: typeof a === 'string' ? 0 : a.status,
      latencyMs: typeof a === 'string' ? 0 : Math.round(a.ms * 10) / 10,
      ok: true,
      failures: [],
      answer: (typeof a === 'string' ? a : a.body).slice(0, 512),
    }
    const errorChecks = opts.errorContains.filter((e) => e.api === undefined || e.api === api.name)
    const full = typeof a === 'string' ? a : a.body
    if (errorChecks.length > 0) {
      if (result.status >= 200 && result.status < 300) result.failures.push(`expected an error answer, got HTTP ${result.status}`)
      for (const e of errorChecks) if (!full.includes(e.text)) result.failures.push(`the answer does not contain ${JSON.stringify(e.text)}`)
    } else if (result.status < 200 || result.status >= 300) {
      result.failures.push(result.status === 0 ? `no answer: ${full.slice(0, 200)}` : `HTTP ${result.status}`)
    } else {
      const checks = opts.expects.filter((e) => e.api === undefined || e.api === api.name)
      if (checks.length > 0) {
        let json: unknown
        try {
          json = JSON.parse(full)
        } catch {
          result.failures.push('the answer is not JSON, --expect cannot check it')
        }
        if (result.failures.length === 0) for (const c of checks) {
          const why = checkExpectation(c.expectation, json)
          if (why !== undefined) result.failures.push(why)
        }
      }
    }
    result.ok = result.failures.length === 0
    report.apis.push(result)
    reporter.log(`${result.ok ? 'ok  ' : 'FAIL'} POST ${api.route} → ${result.status} in ${result.latencyMs} ms${result.ok ? '' : `: ${result.failures.join('; ')}`}`)
  }
  const failed = report.apis.filter((a) => !a.ok)
  if (failed.length > 0) {
    throw new SmokeError(`${failed.length} of ${report.apis.length} API(s) failed: ${failed.map((f) => `${f.name} (${f.failures.join('; ')}) ${f.answer.slice(0, 200)}`).join('; ')}`, {
      code: 'E_SMOKE_API',
      hint: 'give a valid request body per API with --input NAME=@file.json (or --input-file), and see the service log: docker run --rm IMAGE',
    })
  }
}
