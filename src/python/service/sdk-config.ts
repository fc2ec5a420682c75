/**
 * What `bentoml build` (1.4.40) takes from `@bentoml.service(...)`, read by executing the service module with
 * the safe evaluator (./evaluate.ts): the entry service's `name`, `description`, `envs` (with `stage`),
 * `labels`, `image` and `cmd`, and every service's `config` (the decorator's other keyword arguments, as
 * `services[].config` records them, with the keys BentoML adds: `traffic.external_queue` for tasks, `workers`
 * for a custom command, `endpoints` for a `path_prefix`).
 *
 * A value the evaluator cannot know is an error naming the file and line, what was not understood and what to
 * write instead — only when the build needs it (the image of a dependency is not needed: BentoML reads the
 * entry service's image only).
 */
import type {Image} from '../../bentoml/image.js'
import type {Diagnostic} from '../../errors.js'
import {BudgetExceeded} from '../eval/budget.js'
import {type Evaluation, evaluateModule, type EvaluateOptions, pyStr, type PyValue, serviceKey, type ServiceValue, toJson, type Unknown} from '../eval/evaluate.js'

export type EnvStage = 'all' | 'build' | 'runtime'

export interface SdkServiceConfig {
  /** `name=` or the class name. */
  name: string
  className: string
  file: string
  line: number
  description: string | null
  pathPrefix: string | null
  envs: Array<{name: string; value: string; stage: EnvStage}>
  labels: Record<string, string>
  /** The image object (methods already applied); null without `image=`. */
  image: Image | null
  cmd: string[] | null
  /** `services[].config` as `bentoml build` writes it. */
  config: Record<string, unknown>
}

export interface ReadSdkConfigOptions extends EvaluateOptions {
  /** The `class` statements of the services to read (from readService): the entry first, then its dependencies. */
  services: Array<{file: string; line: number}>
  /**
   * CPUs BentoML would see on the build machine: a service with `cmd=` and no `workers` gets
   * `workers = min(16, cpus // 2 or 1)` recorded (BentoML's rule).
   */
  cpuCount: number
  /** The build's evaluation of `module` (Evaluations.of), shared with the schema and the Hugging Face reader; else one is run. */
  evaluation?: Evaluation
}

export interface SdkConfigResult {
  /** In the order of `options.services`; null where the class is not an `@bentoml.service` the evaluator saw. */
  services: Array<SdkServiceConfig | null>
  diagnostics: Diagnostic[]
  evaluation: Evaluation
}

/** BentoML's api-server and service config keys whose values it validates (the rest pass through). */
const CONFIG_TYPES: Record<string, (v: unknown) => string | null> = {
  workers: (v) => (v === 'cpu_count' || (Number.isInteger(v) && (v as number) > 0) || v === null ? null : 'must be a positive integer or "cpu_count"'),
  threads: (v) => (Number.isInteger(v) && (v as number) > 0 ? null : 'must be a positive integer'),
  resources: (v) => {
    if (v === null) return null
    if (!isRecord(v)) return 'must be a dict'
    for (const k of ['cpu', 'memory']) if (k in v && !['string', 'number'].includes(typeof v[k])) return `${k} must be a string or a number`
    if ('gpu' in v && !(typeof v.gpu === 'number' && v.gpu > 0)) return 'gpu must be a number greater than 0'
    for (const k of ['gpu_type', 'tpu_type']) if (k in v && typeof v[k] !== 'string') return `${k} must be a string`
    return null
  },
  traffic: (v) => {
    if (!isRecord(v)) return 'must be a dict'
    if ('timeout' in v && !(typeof v.timeout === 'number' && v.timeout > 0)) return 'timeout must be a number greater than 0'
    for (const k of ['max_concurrency', 'concurrency']) {
      if (k in v && v[k] !== null && !(Number.isInteger(v[k]) && (v[k] as number) > 0)) return `${k} must be a positive integer`
    }
    if ('external_queue' in v && typeof v.external_queue !== 'boolean') return 'external_queue must be True or False'
    return null
  },
  extra_ports: (v) => (v === null || (Array.isArray(v) && v.every(Number.isInteger)) ? null : 'must be a list of integers'),
  backlog: (v) => (Number.isInteger(v) && (v as number) > 64 ? null : 'must be an integer greater than 64'),
}

/** Keyword arguments of `bentoml.service` that are not service config. */
const DECORATOR_KEYS = new Set(['name', 'image', 'description', 'path_prefix', 'envs', 'labels', 'cmd', 'service_class'])

function isRecord(v: unknown): v is Record<string, unknown> {
  return v !== null && typeof v === 'object' && !Array.isArray(v)
}

/** BentoML's `join_paths`. */
function joinPaths(...paths: string[]): string {
  let result = ''
  for (const p of paths) {
    if (!p) continue
    result = result.replace(/\/+$/, '') + '/' + p.replace(/^\/+/, '')
  }
  return result || '/'
}

export function readSdkConfig(opts: ReadSdkConfigOptions): SdkConfigResult {
  const evaluation = opts.evaluation ?? evaluateModule(opts)
  const diagnostics: Diagnostic[] = [...evaluation.diagnostics]
  const failed = evaluation.diagnostics.some((d) => d.severity === 'error')
  const services = opts.services.map((ref, i) => {
    const svc = evaluation.services.get(serviceKey(ref.file, ref.line))
    if (svc === undefined) {
      // BentoML's import stopped before the class (already reported), or the decorator never ran on it.
      if (!failed) {
        diagnostics.push({
          file: ref.file,
          line: ref.line,
          severity: 'error',
          message: 'the @bentoml.service decorator of this class could not be evaluated statically (it is applied where bento does not run code)',
          hint: 'decorate the class at module level: @bentoml.service(...) directly above `class ...:`',
        })
      }
      return null
    }
    return serviceConfig(svc, i === 0, opts.cpuCount, diagnostics)
  })
  return {services, diagnostics, evaluation}
}

function serviceConfig(svc: ServiceValue, isEntry: boolean, cpuCount: number, out: Diagnostic[]): SdkServiceConfig {
  const label = `service ${svc.className}`
  const refuse = (what: string, u: Unknown): void => {
    out.push({
      file: u.site.file,
      line: u.site.line,
      col: u.site.col,
      severity: 'error',
      message: `${what} of ${label} (${svc.decoratorSite.file}:${svc.decoratorSite.line}) cannot be read statically: ${u.why}`,
      hint: u.hint,
    })
  }
  const bad = (key: string, message: string, hint: string): void => {
    out.push({...svc.decoratorSite, severity: 'error', message: `@bentoml.service(${key}=...) of ${svc.className}: ${message}`, hint})
  }
  const json = (key: string, v: PyValue | undefined): unknown => {
    if (v === undefined) return undefined
    const r = toJson(v, svc.decoratorSite)
    if ('unknown' in r) {
      refuse(`\`${key}=\``, r.unknown)
      return undefined
    }
    return r.value
  }
  const kw = svc.kwargs
  if (svc.unknownKwargs) refuse('the decorator', svc.unknownKwargs)
  const cfg: SdkServiceConfig = {
    name: svc.className,
    className: svc.className,
    file: svc.site.file,
    line: svc.site.line,
    description: null,
    pathPrefix: null,
    envs: [],
    labels: {},
    image: null,
    cmd: null,
    config: {},
  }

  const name = json('name', kw.get('name'))
  if (name !== undefined && name !== null) {
    if (typeof name === 'string') cfg.name = name || svc.className
    else bad('name', 'must be a string', 'write name="my_service"')
  }
  if (kw.has('service_class')) bad('service_class', 'a custom service class is not read statically', 'remove service_class= (bento builds what bentoml.service produces)')

  // services[].config: every other keyword, then what Service.__attrs_post_init__ adds.
  const config: Record<string, unknown> = {}
  for (const [k, v] of kw) {
    if (DECORATOR_KEYS.has(k)) continue
    const value = json(k, v)
    if (value === undefined) continue
    const problem = CONFIG_TYPES[k]?.(value)
    if (problem) bad(k, problem, 'see BentoML\'s service configuration reference')
    config[k] = value
  }
  const cls = svc.cls
  if (cls.hasTask) {
    const traffic = isRecord(config.traffic) ? config.traffic : (config.traffic = {} as Record<string, unknown>)
    traffic.external_queue = true
    if (!('concurrency' in traffic)) traffic.concurrency = 1
  }
  // The Bento does not record the command, only that there is one (`workers` below): a command bento cannot read
  // (`[sys.executable, "-m", ...]`, the interpreter of the image) is no reason to refuse.
  const cmdArg = kw.get('cmd')
  const cmdJson = cmdArg === undefined ? undefined : toJson(cmdArg, svc.decoratorSite)
  const cmdV = cmdJson !== undefined && 'value' in cmdJson ? cmdJson.value : undefined
  if (cmdV !== undefined && cmdV !== null) {
    if (Array.isArray(cmdV) && cmdV.every((x) => typeof x === 'string')) cfg.cmd = cmdV
    else bad('cmd', 'must be a list of strings', 'write cmd=["python", "-m", "my_server"]')
  }
  const hasCommand = (cmdArg !== undefined && cmdArg.t !== 'none') || cls.ns.has('__command__')
  if ((config.workers === undefined || config.workers === null) && hasCommand) {
    config.workers = Math.min(16, Math.floor(cpuCount / 2) || 1)
  }
  const prefix = json('path_prefix', kw.get('path_prefix'))
  if (typeof prefix === 'string' && prefix !== '') {
    cfg.pathPrefix = prefix
    const endpoints = isRecord(config.endpoints) ? config.endpoints : (config.endpoints = {} as Record<string, unknown>)
    if (!('livez' in endpoints)) endpoints.livez = joinPaths(prefix, 'livez')
    if (!('readyz' in endpoints)) endpoints.readyz = joinPaths(prefix, 'readyz')
  } else if (prefix !== undefined && prefix !== null && prefix !== '') bad('path_prefix', 'must be a string', 'write path_prefix="/v1"')
  cfg.config = config

  if (!isEntry) return cfg

  // The entry service: what the Bento records at the top level.
  if (Array.isArray(svc.envs)) cfg.envs = svc.envs as SdkServiceConfig['envs']
  else if (!svc.unknownKwargs) refuse('`envs=`', svc.envs)

  const labelsV = kw.get('labels')
  const labels = json('labels', labelsV)
  if (labels !== undefined && labels !== null && labelsV?.t === 'dict') {
    // normalize_labels_value: str() of every value
    for (const {key, value} of labelsV.map.values()) {
      if (key.t !== 'str') continue
      try {
        cfg.labels[key.v] = pyStr(value) ?? ''
      } catch (e) {
        // A label too large to print (BentoML writes str() of it): the evaluator's budget, as an error at the decorator.
        if (!(e instanceof BudgetExceeded)) throw e
        bad('labels', e.message, 'write the label as a short string literal')
      }
    }
  } else if (labels !== undefined && labels !== null) bad('labels', 'must be a dict', 'write labels={"team": "nlp"}')
  const description = json('description', kw.get('description'))
  if (description !== undefined && description !== null) {
    if (typeof description === 'string') cfg.description = description
    else bad('description', 'must be a string', 'write description="..." ')
  }
  const image = kw.get('image')
  if (image !== undefined && image.t !== 'none') {
    if (image.t === 'image') {
      if (image.taint) refuse('`image=`', image.taint)
      else cfg.image = image.img
    } else if (image.t === 'opaque') refuse('`image=`', image.u)
    else bad('image', `is a ${image.t}, not a bentoml.images.Image`, 'pass image=bentoml.images.Image(...)')
  }
  return cfg
}

