import {Service} from 'kubernetes-models/v1/Service'
import {Deployment} from 'kubernetes-models/apps/v1/Deployment'
import {HorizontalPodAutoscaler} from 'kubernetes-models/autoscaling/v2/HorizontalPodAutoscaler'
import {describe, expect, it} from 'vitest'
import {parseAllDocuments} from 'yaml'

import {cpuMillis, formatCpu, formatMemory, isLabel, type K8sBento, type K8sObject, k8sName, k8sPlan, type K8sOptions, memoryBytes, renderObjects} from './manifest.js'

/** Every object through the Kubernetes OpenAPI schema (kubernetes-models' validators): throws when invalid. */
function validate(objects: K8sObject[]): void {
  for (const o of objects) {
    if (o.kind === 'Service') new Service(o as never).validate()
    else if (o.kind === 'Deployment') new Deployment(o as never).validate()
    else if (o.kind === 'HorizontalPodAutoscaler') new HorizontalPodAutoscaler(o as never).validate()
    else throw new Error(`no validator for ${o.kind}`)
  }
}

const legacyIris: K8sBento = {
  name: 'clasificador_iris',
  version: 'nfmtymvm2rporwvv',
  bentomlVersion: '1.4.15',
  labels: {owner: 'bentoml-team', stage: 'dev'},
  envs: [],
  entryService: 'clasificador_iris',
  services: [],
  runners: [{name: 'iris_clf', resourceConfig: null}],
}

const opts: K8sOptions = {image: 'reg.example/iris@sha256:' + 'a'.repeat(64), replicas: 1, modelBytes: 0, gpuNodeLabel: 'cloud.google.com/gke-accelerator', readOnlyRootFilesystem: true}

type Pod = {
  securityContext: Record<string, unknown>
  terminationGracePeriodSeconds: number
  nodeSelector?: Record<string, string>
  containers: Array<Record<string, unknown> & {resources?: {requests?: Record<string, string>; limits?: Record<string, unknown>}; env?: unknown[]; volumeMounts?: Array<{name: string; mountPath: string}>}>
  volumes?: Array<{name: string; emptyDir: object}>
}
const deploymentOf = (objects: K8sObject[]) => objects.find((o) => o.kind === 'Deployment') as K8sObject & {spec: {replicas: number; template: {metadata: {labels: Record<string, string>; annotations: Record<string, string>}; spec: Pod}}}

describe('bento k8s: the objects', () => {
  it('the validators bite: a named probe port as a number field, a missing selector', () => {
    const plan = k8sPlan(legacyIris, opts)
    const broken = structuredClone(plan.objects) as Array<K8sObject & {spec: Record<string, unknown>}>
    ;(broken[1]!.spec as {selector?: unknown}).selector = undefined
    expect(() => validate([broken[1]!])).toThrow(/selector/)
    const port = structuredClone(plan.objects) as K8sObject[]
    deploymentOf(port).spec.template.spec.containers[0]!.ports = [{containerPort: 'http'}]
    expect(() => validate(port)).toThrow(/containerPort must be integer/)
  })

  it('a legacy Bento: Service + Deployment, schema-valid; port 3000, probes on /readyz and /livez, uid 1034, read-only root with the BentoML home dirs writable', () => {
    const plan = k8sPlan(legacyIris, opts)
    expect(plan.objects.map((o) => o.kind)).toEqual(['Service', 'Deployment'])
    validate(plan.objects)
    expect(plan.name).toBe('clasificador-iris')
    const d = deploymentOf(plan.objects)
    const pod = d.spec.template.spec
    const c = pod.containers[0]!
    expect(c).toMatchObject({
      image: opts.image,
      ports: [{name: 'http', containerPort: 3000, protocol: 'TCP'}],
      startupProbe: {httpGet: {path: '/readyz', port: 3000}, periodSeconds: 5, failureThreshold: 12},
      readinessProbe: {httpGet: {path: '/readyz', port: 3000}},
      livenessProbe: {httpGet: {path: '/livez', port: 3000}},
      securityContext: {readOnlyRootFilesystem: true, allowPrivilegeEscalation: false, capabilities: {drop: ['ALL']}},
    })
    expect(pod.securityContext).toEqual({runAsUser: 1034, runAsGroup: 1034, fsGroup: 1034, runAsNonRoot: true, seccompProfile: {type: 'RuntimeDefault'}})
    expect(c.volumeMounts?.map((m) => m.mountPath)).toEqual([
      '/tmp',
      '/home/bentoml/bentos',
      '/home/bentoml/models',
      '/home/bentoml/envs',
      '/home/bentoml/tmp',
      '/home/bentoml/prometheus_multiproc_dir',
    ])
    expect(pod.volumes?.every((v) => JSON.stringify(v.emptyDir) === '{}')).toBe(true)
    expect(pod.terminationGracePeriodSeconds).toBe(70)
    expect(c.resources).toBeUndefined()
    expect(d.spec.template.metadata.labels).toEqual({owner: 'bentoml-team', stage: 'dev', 'app.kubernetes.io/name': 'clasificador-iris', 'app.kubernetes.io/version': 'nfmtymvm2rporwvv'})
    expect(d.spec.template.metadata.annotations).toMatchObject({'bento.dev/tag': 'clasificador_iris:nfmtymvm2rporwvv', 'bento.dev/bentoml-version': '1.4.15'})
    expect(plan.objects[0]).toMatchObject({spec: {selector: {'app.kubernetes.io/name': 'clasificador-iris'}, ports: [{port: 3000, targetPort: 'http'}]}})
    expect(plan.secret).toBeNull()
  })

  it('the startup allowance grows with the models: 60 s + 30 s per GiB', () => {
    const plan = k8sPlan(legacyIris, {...opts, modelBytes: 4 * 1024 ** 3})
    expect(plan.probes.startupSeconds).toBe(180)
    expect(deploymentOf(plan.objects).spec.template.spec.containers[0]).toMatchObject({startupProbe: {periodSeconds: 5, failureThreshold: 36}})
  })

  it('resources summed over the services one pod runs; gpu as nvidia.com/gpu or amd.com/gpu limits, gpu_type as the node selector; traffic as annotations and the grace period', () => {
    const bento: K8sBento = {
      ...legacyIris,
      name: 'llm',
      runners: [],
      entryService: 'Api',
      services: [
        {name: 'Api', config: {resources: {cpu: '500m', memory: '512Mi'}, traffic: {timeout: 300, concurrency: 32, max_concurrency: 64}}},
        {name: 'Model', config: {resources: {cpu: 2, memory: 1.5, gpu: 1, gpu_type: 'nvidia-l4'}, traffic: {timeout: 120}}},
        {name: 'Amd', config: {resources: {gpu: 2, gpu_type: 'amd-mi300x'}}},
      ],
    }
    const plan = k8sPlan(bento, {...opts, gpuNodeLabel: 'example.com/gpu'})
    validate(plan.objects)
    const pod = deploymentOf(plan.objects).spec.template.spec
    expect(pod.containers[0]!.resources).toEqual({requests: {cpu: '2500m', memory: '2Gi'}, limits: {memory: '2Gi', 'nvidia.com/gpu': 1, 'amd.com/gpu': 2}})
    expect(pod.nodeSelector).toEqual({'example.com/gpu': 'nvidia-l4'})
    expect(plan.warnings.join('\n')).toContain('several GPU types (nvidia-l4, amd-mi300x)')
    expect(pod.terminationGracePeriodSeconds).toBe(310)
    expect(deploymentOf(plan.objects).metadata.annotations).toMatchObject({
      'bento.dev/timeout-seconds': '300',
      'bento.dev/concurrency': '32',
      'bento.dev/max-concurrency': '64',
      'bento.dev/gpu-type': 'nvidia-l4,amd-mi300x',
    })
  })

  it('a legacy runner resource_config counts too (cpu, nvidia.com/gpu)', () => {
    const plan = k8sPlan({...legacyIris, runners: [{name: 'r', resourceConfig: {cpu: 4, 'nvidia.com/gpu': 1}}]}, opts)
    validate(plan.objects)
    expect(deploymentOf(plan.objects).spec.template.spec.containers[0]!.resources).toEqual({requests: {cpu: '4'}, limits: {'nvidia.com/gpu': 1}})
  })

  it('resources Kubernetes cannot take: one E_CONFIG listing each, at its bento.yaml key', () => {
    const bento = {...legacyIris, services: [{name: 'a', config: {resources: {cpu: 'lots', memory: '2 parsecs', gpu: -1}}}]}
    let error: unknown
    try {
      k8sPlan(bento, opts)
    } catch (e) {
      error = e
    }
    expect(error).toMatchObject({code: 'E_CONFIG', exitCode: 3})
    const message = (error as Error).message
    expect(message).toContain('bento.yaml services[0].config.resources.cpu: "lots" is no cpu amount')
    expect(message).toContain('services[0].config.resources.memory')
    expect(message).toContain('services[0].config.resources.gpu')
  })

  it('runtime envs: values as env, envs without a value from a Secret (the kubectl line to make it), build-only envs left out', () => {
    const bento = {
      ...legacyIris,
      envs: [
        {name: 'LOG_LEVEL', value: 'debug', stage: 'all'},
        {name: 'HF_TOKEN', value: '', stage: 'runtime'},
        {name: 'PIP_INDEX_URL', value: 'https://x', stage: 'build'},
      ],
    }
    const plan = k8sPlan(bento, {...opts, namespace: 'ml'})
    validate(plan.objects)
    expect(deploymentOf(plan.objects).spec.template.spec.containers[0]!.env).toEqual([
      {name: 'LOG_LEVEL', value: 'debug'},
      {name: 'HF_TOKEN', valueFrom: {secretKeyRef: {name: 'clasificador-iris-env', key: 'HF_TOKEN'}}},
    ])
    expect(plan.secret).toEqual({name: 'clasificador-iris-env', keys: ['HF_TOKEN'], command: 'kubectl create secret generic clasificador-iris-env -n ml --from-literal=HF_TOKEN=…'})
    expect(plan.objects.every((o) => o.metadata.namespace === 'ml')).toBe(true)
  })

  it('a path_prefix: the probes follow config.endpoints', () => {
    const bento = {...legacyIris, services: [{name: 'clasificador_iris', config: {endpoints: {livez: '/v1/livez', readyz: '/v1/readyz'}}}]}
    const c = deploymentOf(k8sPlan(bento, opts).objects).spec.template.spec.containers[0]!
    expect(c).toMatchObject({startupProbe: {httpGet: {path: '/v1/readyz'}}, readinessProbe: {httpGet: {path: '/v1/readyz'}}, livenessProbe: {httpGet: {path: '/v1/livez'}}})
  })

  it('--max-replicas: a CPU HorizontalPodAutoscaler (schema-valid), with a cpu request to scale on', () => {
    const plan = k8sPlan(legacyIris, {...opts, replicas: 2, maxReplicas: 5})
    validate(plan.objects)
    expect(plan.objects[2]).toMatchObject({
      kind: 'HorizontalPodAutoscaler',
      spec: {scaleTargetRef: {kind: 'Deployment', name: 'clasificador-iris'}, minReplicas: 2, maxReplicas: 5, metrics: [{resource: {name: 'cpu', target: {averageUtilization: 80}}}]},
    })
    expect(deploymentOf(plan.objects).spec.template.spec.containers[0]!.resources).toEqual({requests: {cpu: '1'}})
    expect(plan.warnings.join('\n')).toContain('requests.cpu is 1')
  })

  it('--no-read-only-root: no volumes, readOnlyRootFilesystem false', () => {
    const plan = k8sPlan(legacyIris, {...opts, readOnlyRootFilesystem: false})
    validate(plan.objects)
    const pod = deploymentOf(plan.objects).spec.template.spec
    expect(pod.volumes).toBeUndefined()
    expect(pod.containers[0]).toMatchObject({securityContext: {readOnlyRootFilesystem: false}})
  })

  it('Bento labels Kubernetes refuses become annotations (with a warning)', () => {
    const plan = k8sPlan({...legacyIris, labels: {'team name': 'ml ops', ok: 'yes', long: 'x'.repeat(64)}}, opts)
    validate(plan.objects)
    const d = deploymentOf(plan.objects)
    expect(d.metadata.labels).toMatchObject({ok: 'yes'})
    expect(d.metadata.labels).not.toHaveProperty('team name')
    expect(d.metadata.annotations).toMatchObject({'bento.dev/label.team_name': 'ml ops', 'bento.dev/label.long': 'x'.repeat(64)})
    expect(plan.warnings.join('\n')).toContain('bento.dev/label.team_name')
  })

  it('the selector is ours even when a Bento label has the same key', () => {
    const plan = k8sPlan({...legacyIris, labels: {'app.kubernetes.io/name': 'other'}}, opts)
    expect(deploymentOf(plan.objects).spec.template.metadata.labels['app.kubernetes.io/name']).toBe('clasificador-iris')
  })

  it('renders YAML documents and a JSON List that read back as the same objects', () => {
    const plan = k8sPlan(legacyIris, {...opts, maxReplicas: 3})
    const docs = parseAllDocuments(renderObjects(plan.objects, 'yaml')).map((d) => d.toJS() as unknown)
    expect(docs).toEqual(plan.objects)
    expect(JSON.parse(renderObjects(plan.objects, 'json'))).toEqual({apiVersion: 'v1', kind: 'List', items: plan.objects})
  })
})

describe('bento k8s: quantities and names', () => {
  it('cpu as BentoML takes it, in millicores', () => {
    expect([cpuMillis(1), cpuMillis(0.5), cpuMillis('100m'), cpuMillis('2'), cpuMillis('0.25')]).toEqual([1000, 500, 100, 2000, 250])
    expect([cpuMillis('x'), cpuMillis(0), cpuMillis('-1'), cpuMillis(null)]).toEqual([null, null, null, null])
    expect([formatCpu(2500), formatCpu(3000)]).toEqual(['2500m', '3'])
  })

  it('memory as BentoML takes it: a number (or bare text) is GiB', () => {
    expect([memoryBytes(1), memoryBytes(1.5), memoryBytes('512Mi'), memoryBytes('2Gi'), memoryBytes('1'), memoryBytes('1G')]).toEqual([
      1024 ** 3,
      1.5 * 1024 ** 3,
      512 * 1024 ** 2,
      2 * 1024 ** 3,
      1024 ** 3,
      1e9,
    ])
    expect([memoryBytes('lots'), memoryBytes('1Qi'), memoryBytes(0)]).toEqual([null, null, null])
    expect([formatMemory(1024 ** 3), formatMemory(1536 * 1024 ** 2), formatMemory(1e9)]).toEqual(['1Gi', '1536Mi', '1000000000'])
  })

  it('names: a DNS-1035 label from the Bento name', () => {
    expect(k8sName('clasificador_iris')).toBe('clasificador-iris')
    expect(k8sName('9lives')).toBe('bento-9lives')
    expect(k8sName('A.b__C')).toBe('a-b-c')
    expect(k8sName('x'.repeat(80))).toHaveLength(63)
  })

  it('label keys and values as Kubernetes takes them', () => {
    expect(isLabel('owner', 'bentoml-team')).toBe(true)
    expect(isLabel('example.com/team', '')).toBe(true)
    expect(isLabel('team name', 'x')).toBe(false)
    expect(isLabel('a', 'x'.repeat(64))).toBe(false)
    expect(isLabel('Bad_Prefix/a', 'x')).toBe(false)
  })
})
