/**
 * `bento k8s`: the Kubernetes objects a Bento asks for, as a pure function of what its bento.yaml says and the
 * options (no I/O). One Deployment + one Service per Bento (one pod runs every service of the Bento, as `bentoml serve`
 * does), and a CPU HorizontalPodAutoscaler when asked for (`maxReplicas`).
 *
 * - image: as given (the service pins it by digest when it can); container port 3000 (`SERVE_PORT`).
 * - probes: startupProbe and readinessProbe on `/readyz`, livenessProbe on `/livez` (or the service's
 *   `config.endpoints`, which a `path_prefix` sets); the startup allowance is `startAllowanceMs(model bytes)`. Probe
 *   ports are numbers: Podman's `kube play` (4.3) reads a named probe port as port 0.
 * - resources: the sum over the services one pod runs (`services[].config.resources`; a legacy Bento's
 *   `runners[].resource_config`): cpu and memory as requests (memory also as the limit), gpu as a limit of
 *   `nvidia.com/gpu` (`amd.com/gpu` for `amd-*` types), `gpu_type` as a node selector (`gpuNodeLabel`, GKE's
 *   `cloud.google.com/gke-accelerator` by default: its values are BentoML's names, `nvidia-l4`, `nvidia-tesla-a100`…).
 * - traffic: `bento.dev/timeout-seconds`, `bento.dev/concurrency`, `bento.dev/max-concurrency` annotations;
 *   terminationGracePeriodSeconds = the longest `traffic.timeout` (60 s by default) + 10 s, so in-flight requests end.
 * - envs of stage `all`/`runtime`: `value` when the Bento holds one, else a `secretKeyRef` into `<name>-env`.
 * - securityContext: uid/gid 1034, runAsNonRoot, no privilege escalation, every capability dropped, and a read-only
 *   root file system with emptyDir volumes for /tmp and the `$BENTOML_HOME` directories BentoML writes at start.
 * - labels: the Bento's (those Kubernetes accepts; others become annotations, with a warning) and
 *   `app.kubernetes.io/name` (the selector) / `app.kubernetes.io/version`.
 */
import {stringify as stringifyYaml} from 'yaml'

import {BENTO_GID, BENTO_UID, IMAGE_BENTOML_HOME, SERVE_PORT} from '../bentoml/runtime.js'
import {BENTOML_HOME_WRITES, DEFAULT_TRAFFIC_TIMEOUT_S, gpuResourceName, LIVEZ_PATH, READYZ_PATH, RUNNER_GPU_KEYS, startAllowanceMs} from '../bentoml/serving.js'
import {ConfigError, type Diagnostic} from '../errors.js'

/** What `bento k8s` reads of a Bento (from its bento.yaml). */
export interface K8sBento {
  name: string
  version: string
  bentomlVersion: string
  labels: Record<string, string>
  envs: Array<{name: string; value: string; stage: string}>
  entryService: string
  /** `services[]`: name and `config` (resources, traffic, endpoints). */
  services: Array<{name: string; config: Record<string, unknown>}>
  /** Legacy Bentos: `runners[]` with their `resource_config`. */
  runners: Array<{name: string; resourceConfig: Record<string, unknown> | null}>
}

export interface K8sOptions {
  image: string
  namespace?: string
  replicas: number
  /** A CPU HorizontalPodAutoscaler from `replicas` to this. */
  maxReplicas?: number
  /** The bytes of the Bento's models: the startup allowance grows with them. */
  modelBytes: number
  /** The node label `gpu_type` selects on. */
  gpuNodeLabel: string
  readOnlyRootFilesystem: boolean
}

export type K8sObject = {apiVersion: string; kind: string; metadata: {name: string; namespace?: string; labels?: Record<string, string>; annotations?: Record<string, string>}} & Record<string, unknown>

export interface K8sPlan {
  /** The objects' name (the Bento name as a DNS-1035 label). */
  name: string
  objects: K8sObject[]
  /** The Secret the runtime envs without a value read from, and the command that creates it. */
  secret: {name: string; keys: string[]; command: string} | null
  /** What the pod asks for (the sums), as written in the Deployment. */
  resources: {cpu?: string; memory?: string; gpus: Record<string, number>; gpuType?: string}
  probes: {readyz: string; livez: string; startupSeconds: number}
  warnings: string[]
}

const GIB = 1024 ** 3
const MEMORY_UNITS: Record<string, number> = {
  Ki: 1024,
  Mi: 1024 ** 2,
  Gi: GIB,
  Ti: 1024 ** 4,
  Pi: 1024 ** 5,
  Ei: 1024 ** 6,
  k: 1e3,
  K: 1e3,
  M: 1e6,
  G: 1e9,
  T: 1e12,
  P: 1e15,
  E: 1e18,
  KB: 1e3,
  MB: 1e6,
  GB: 1e9,
  TB: 1e12,
}

/** `cpu` as BentoML takes it (cores as a number, `'100m'`, `'0.5'`) in millicores; null when it is neither. */
export function cpuMillis(v: unknown): number | null {
  if (typeof v === 'number') return Number.isFinite(v) && v > 0 ? Math.round(v * 1000) : null
  if (typeof v !== 'string') return null
  const m = /^\s*(\d+(?:\.\d+)?|\.\d+)\s*(m?)\s*$/.exec(v)
  if (!m) return null
  const n = Number(m[1])
  const millis = m[2] === 'm' ? n : n * 1000
  return millis > 0 ? Math.round(millis) : null
}

/** `memory` as BentoML takes it (GiB as a number or bare text, `'512Mi'`, `'2Gi'`, `'1G'`) in bytes; null when not. */
export function memoryBytes(v: unknown): number | null {
  if (typeof v === 'number') return Number.isFinite(v) && v > 0 ? Math.round(v * GIB) : null
  if (typeof v !== 'string') return null
  const m = /^\s*(\d+(?:\.\d+)?|\.\d+)\s*([A-Za-z]*)\s*$/.exec(v)
  if (!m) return null
  const unit = m[2] === '' ? GIB : MEMORY_UNITS[m[2] ?? '']
  if (unit === undefined) return null
  const bytes = Math.round(Number(m[1]) * unit)
  return bytes > 0 ? bytes : null
}

export function formatCpu(millis: number): string {
  return millis % 1000 === 0 ? String(millis / 1000) : `${millis}m`
}

export function formatMemory(bytes: number): string {
  for (const [unit, size] of [['Gi', GIB], ['Mi', 1024 ** 2], ['Ki', 1024]] as const) if (bytes % size === 0) return `${bytes / size}${unit}`
  return String(bytes)
}

/** The Bento name as a DNS-1035 label (a Service name): lower case, `_`/`.` → `-`, a letter first, ≤ 63 characters. */
export function k8sName(bentoName: string): string {
  let n = bentoName.toLowerCase().replace(/[^a-z0-9-]+/g, '-').replace(/-+/g, '-').replace(/^-+|-+$/g, '')
  if (!/^[a-z]/.test(n)) n = `bento-${n}`.replace(/-+$/, '')
  return n.slice(0, 63).replace(/-+$/, '')
}

const LABEL_NAME = /^([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9]$/
const DNS_SUBDOMAIN = /^[a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*$/

/** Whether Kubernetes takes `key: value` as a label (`prefix/name` ≤ 253/63 characters, value ≤ 63). */
export function isLabel(key: string, value: string): boolean {
  const slash = key.lastIndexOf('/')
  const prefix = slash === -1 ? null : key.slice(0, slash)
  const name = slash === -1 ? key : key.slice(slash + 1)
  if (prefix !== null && (prefix.length > 253 || !DNS_SUBDOMAIN.test(prefix))) return false
  if (name.length > 63 || !LABEL_NAME.test(name)) return false
  return value === '' || (value.length <= 63 && LABEL_NAME.test(value))
}

const isRecord = (v: unknown): v is Record<string, unknown> => typeof v === 'object' && v !== null && !Array.isArray(v)

interface Sums {
  cpuMillis: number
  memoryBytes: number
  gpus: Record<string, number>
  gpuTypes: string[]
}

function sumResources(bento: K8sBento, diagnostics: Diagnostic[], warnings: string[]): Sums {
  const sums: Sums = {cpuMillis: 0, memoryBytes: 0, gpus: {}, gpuTypes: []}
  const bad = (key: string, message: string, hint: string): void => {
    diagnostics.push({file: 'bento.yaml', key, message, hint, severity: 'error'})
  }
  const addGpu = (resource: string, count: unknown, key: string): void => {
    if (typeof count !== 'number' || !(count > 0)) return bad(key, `gpu must be a positive number, not ${JSON.stringify(count)}`, 'write gpu: 1')
    const whole = Math.ceil(count)
    if (whole !== count) warnings.push(`${key}: ${count} GPU rounded up to ${whole} (Kubernetes schedules whole GPUs)`)
    sums.gpus[resource] = (sums.gpus[resource] ?? 0) + whole
  }
  bento.services.forEach((svc, i) => {
    const r = svc.config.resources
    if (r === undefined || r === null) return
    const at = `services[${i}].config.resources`
    if (!isRecord(r)) return bad(at, 'must be a mapping', 'write resources: {cpu: "1", memory: "2Gi"}')
    if (r.cpu !== undefined && r.cpu !== null) {
      const c = cpuMillis(r.cpu)
      if (c === null) bad(`${at}.cpu`, `${JSON.stringify(r.cpu)} is no cpu amount`, "write cores as a number (2, 0.5) or text ('500m', '2')")
      else sums.cpuMillis += c
    }
    if (r.memory !== undefined && r.memory !== null) {
      const m = memoryBytes(r.memory)
      if (m === null) bad(`${at}.memory`, `${JSON.stringify(r.memory)} is no memory amount`, "write GiB as a number (2) or text with a unit ('512Mi', '2Gi')")
      else sums.memoryBytes += m
    }
    const gpuType = typeof r.gpu_type === 'string' && r.gpu_type !== '' ? r.gpu_type : undefined
    if (gpuType !== undefined && !sums.gpuTypes.includes(gpuType)) sums.gpuTypes.push(gpuType)
    if (r.gpu !== undefined && r.gpu !== null) addGpu(gpuResourceName(gpuType), r.gpu, `${at}.gpu`)
  })
  bento.runners.forEach((runner, i) => {
    const r = runner.resourceConfig
    if (r === null) return
    const at = `runners[${i}].resource_config`
    if (r.cpu !== undefined && r.cpu !== null) {
      const c = cpuMillis(r.cpu)
      if (c === null) bad(`${at}.cpu`, `${JSON.stringify(r.cpu)} is no cpu amount`, 'write cores as a number (2, 0.5)')
      else sums.cpuMillis += c
    }
    for (const key of RUNNER_GPU_KEYS) if (r[key] !== undefined && r[key] !== null) addGpu(key, r[key], `${at}.${key}`)
  })
  return sums
}

function entryConfig(bento: K8sBento): Record<string, unknown> {
  return (bento.services.find((s) => s.name === bento.entryService) ?? bento.services[0])?.config ?? {}
}

function trafficOf(bento: K8sBento): {timeout?: number; concurrency?: number; maxConcurrency?: number} {
  let timeout: number | undefined
  const t = entryConfig(bento).traffic
  for (const s of bento.services) {
    const tr = s.config.traffic
    if (isRecord(tr) && typeof tr.timeout === 'number' && tr.timeout > 0) timeout = Math.max(timeout ?? 0, tr.timeout)
  }
  const num = (v: unknown): number | undefined => (typeof v === 'number' && v > 0 ? v : undefined)
  return {timeout, concurrency: isRecord(t) ? num(t.concurrency) : undefined, maxConcurrency: isRecord(t) ? num(t.max_concurrency) : undefined}
}

/** The objects for `bento`, or a ConfigError listing every resource bento.yaml gives that Kubernetes cannot take. */
export function k8sPlan(bento: K8sBento, opts: K8sOptions): K8sPlan {
  const warnings: string[] = []
  const diagnostics: Diagnostic[] = []
  const name = k8sName(bento.name)
  const sums = sumResources(bento, diagnostics, warnings)
  if (diagnostics.length > 0) throw new ConfigError(`Bento ${bento.name}:${bento.version} asks for resources Kubernetes cannot take`, diagnostics)

  // Labels: the Bento's that Kubernetes accepts, then ours (the selector must not move).
  const labels: Record<string, string> = {}
  const movedLabels: Record<string, string> = {}
  for (const [k, v] of Object.entries(bento.labels)) {
    if (isLabel(k, String(v))) labels[k] = String(v)
    else movedLabels[`bento.dev/label.${k.replace(/[^A-Za-z0-9_.-]/g, '_')}`] = String(v)
  }
  if (Object.keys(movedLabels).length > 0) {
    warnings.push(`Bento labels Kubernetes does not accept as labels are annotations: ${Object.keys(movedLabels).join(', ')}`)
  }
  const selector = {'app.kubernetes.io/name': name}
  Object.assign(labels, selector)
  if (isLabel('app.kubernetes.io/version', bento.version)) labels['app.kubernetes.io/version'] = bento.version

  const traffic = trafficOf(bento)
  const annotations: Record<string, string> = {
    'bento.dev/tag': `${bento.name}:${bento.version}`,
    'bento.dev/bentoml-version': bento.bentomlVersion,
    ...(traffic.timeout !== undefined ? {'bento.dev/timeout-seconds': String(traffic.timeout)} : {}),
    ...(traffic.concurrency !== undefined ? {'bento.dev/concurrency': String(traffic.concurrency)} : {}),
    ...(traffic.maxConcurrency !== undefined ? {'bento.dev/max-concurrency': String(traffic.maxConcurrency)} : {}),
    ...(sums.gpuTypes[0] !== undefined ? {'bento.dev/gpu-type': sums.gpuTypes.join(',')} : {}),
    ...movedLabels,
  }
  const meta = (extra: Record<string, unknown> = {}) => ({name, ...(opts.namespace !== undefined ? {namespace: opts.namespace} : {}), labels: {...labels}, annotations: {...annotations}, ...extra})

  // Resources.
  if (opts.maxReplicas !== undefined && sums.cpuMillis === 0) {
    sums.cpuMillis = 1000
    warnings.push('the Bento asks for no cpu: requests.cpu is 1 so the HorizontalPodAutoscaler has a base (set resources.cpu in the service)')
  }
  const requests: Record<string, string> = {}
  const limits: Record<string, string | number> = {}
  if (sums.cpuMillis > 0) requests.cpu = formatCpu(sums.cpuMillis)
  if (sums.memoryBytes > 0) requests.memory = limits.memory = formatMemory(sums.memoryBytes)
  for (const [resource, count] of Object.entries(sums.gpus)) limits[resource] = count
  const gpuType = sums.gpuTypes[0]
  if (sums.gpuTypes.length > 1) warnings.push(`the services ask for several GPU types (${sums.gpuTypes.join(', ')}): the node selector takes ${gpuType}`)

  // Envs.
  const secretName = `${name}-env`.slice(0, 253)
  const secretKeys: string[] = []
  const env = bento.envs
    .filter((e) => e.stage !== 'build')
    .map((e) => {
      if (e.value !== '') return {name: e.name, value: e.value}
      secretKeys.push(e.name)
      return {name: e.name, valueFrom: {secretKeyRef: {name: secretName, key: e.name}}}
    })
  const ns = opts.namespace !== undefined ? ` -n ${opts.namespace}` : ''
  const secret =
    secretKeys.length > 0
      ? {name: secretName, keys: secretKeys, command: `kubectl create secret generic ${secretName}${ns} ${secretKeys.map((k) => `--from-literal=${k}=…`).join(' ')}`}
      : null

  // Probes.
  const endpoints = entryConfig(bento).endpoints
  const readyz = isRecord(endpoints) && typeof endpoints.readyz === 'string' ? endpoints.readyz : READYZ_PATH
  const livez = isRecord(endpoints) && typeof endpoints.livez === 'string' ? endpoints.livez : LIVEZ_PATH
  const startupSeconds = Math.ceil(startAllowanceMs(opts.modelBytes) / 1000)
  const period = 5

  // Volumes: what BentoML writes at start, when the root file system is read-only.
  const home = IMAGE_BENTOML_HOME.replace(/\/+$/, '')
  const writable = opts.readOnlyRootFilesystem
    ? [{name: 'tmp', mountPath: '/tmp'}, ...BENTOML_HOME_WRITES.map((d) => ({name: `bentoml-${d.replaceAll('_', '-')}`, mountPath: `${home}/${d}`}))]
    : []

  const container = {
    name: 'bento',
    image: opts.image,
    ports: [{name: 'http', containerPort: SERVE_PORT, protocol: 'TCP'}],
    ...(env.length > 0 ? {env} : {}),
    ...(Object.keys(requests).length + Object.keys(limits).length > 0
      ? {resources: {...(Object.keys(requests).length > 0 ? {requests} : {}), ...(Object.keys(limits).length > 0 ? {limits} : {})}}
      : {}),
    startupProbe: {httpGet: {path: readyz, port: SERVE_PORT}, periodSeconds: period, timeoutSeconds: 5, failureThreshold: Math.ceil(startupSeconds / period)},
    readinessProbe: {httpGet: {path: readyz, port: SERVE_PORT}, periodSeconds: period, timeoutSeconds: 5, failureThreshold: 3},
    livenessProbe: {httpGet: {path: livez, port: SERVE_PORT}, periodSeconds: 10, timeoutSeconds: 5, failureThreshold: 3},
    securityContext: {allowPrivilegeEscalation: false, readOnlyRootFilesystem: opts.readOnlyRootFilesystem, capabilities: {drop: ['ALL']}},
    ...(writable.length > 0 ? {volumeMounts: writable} : {}),
  }

  const service: K8sObject = {
    apiVersion: 'v1',
    kind: 'Service',
    metadata: meta(),
    spec: {type: 'ClusterIP', selector, ports: [{name: 'http', port: SERVE_PORT, targetPort: 'http', protocol: 'TCP'}]},
  }
  const deployment: K8sObject = {
    apiVersion: 'apps/v1',
    kind: 'Deployment',
    metadata: meta(),
    spec: {
      replicas: opts.replicas,
      selector: {matchLabels: selector},
      template: {
        metadata: {labels: {...labels}, annotations: {...annotations}},
        spec: {
          securityContext: {runAsUser: BENTO_UID, runAsGroup: BENTO_GID, fsGroup: BENTO_GID, runAsNonRoot: true, seccompProfile: {type: 'RuntimeDefault'}},
          terminationGracePeriodSeconds: Math.ceil(traffic.timeout ?? DEFAULT_TRAFFIC_TIMEOUT_S) + 10,
          ...(gpuType !== undefined ? {nodeSelector: {[opts.gpuNodeLabel]: gpuType}} : {}),
          containers: [container],
          ...(writable.length > 0 ? {volumes: writable.map((w) => ({name: w.name, emptyDir: {}}))} : {}),
        },
      },
    },
  }
  const objects = [service, deployment]
  if (opts.maxReplicas !== undefined) {
    objects.push({
      apiVersion: 'autoscaling/v2',
      kind: 'HorizontalPodAutoscaler',
      metadata: meta(),
      spec: {
        scaleTargetRef: {apiVersion: 'apps/v1', kind: 'Deployment', name},
        minReplicas: Math.max(1, opts.replicas),
        maxReplicas: opts.maxReplicas,
        metrics: [{type: 'Resource', resource: {name: 'cpu', target: {type: 'Utilization', averageUtilization: 80}}}],
      },
    })
  }
  return {
    name,
    objects,
    secret,
    resources: {...(requests.cpu ? {cpu: requests.cpu} : {}), ...(requests.memory ? {memory: requests.memory} : {}), gpus: sums.gpus, ...(gpuType ? {gpuType} : {})},
    probes: {readyz, livez, startupSeconds},
    warnings,
  }
}

/** YAML documents (`---` between them) or one JSON `v1 List`. */
export function renderObjects(objects: K8sObject[], format: 'yaml' | 'json'): string {
  if (format === 'json') return `${JSON.stringify({apiVersion: 'v1', kind: 'List', items: objects}, null, 2)}\n`
  return objects.map((o) => stringifyYaml(o, {lineWidth: 0})).join('---\n')
}
