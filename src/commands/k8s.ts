import {Args, Flags} from '@oclif/core'

import {BaseCommand} from './base-command.js'

export default class K8s extends BaseCommand {
  static override summary = 'Print Kubernetes objects for a Bento: a Deployment and a Service (and a HorizontalPodAutoscaler).'
  static override description =
    'Derived from the Bento: the image by digest when one is known (given as REF@sha256:…, or the Docker engine\'s ' +
    'digest of the pushed image), port 3000, startup/readiness probes on /readyz and liveness on /livez (under the ' +
    'path_prefix), a startup allowance of 60 s + 30 s per GiB of models, the resources of every service the pod runs ' +
    '(gpu as nvidia.com/gpu or amd.com/gpu, gpu_type as a node selector), traffic.timeout and concurrency as bento.dev/* ' +
    'annotations, runtime envs (without a value: from a Secret, whose kubectl line is printed on stderr), uid 1034 ' +
    'non-root with a read-only root file system, and the Bento\'s labels. Nothing is applied: pipe it to kubectl apply -f -.'

  static override examples = [
    '<%= config.bin %> k8s iris:latest --image 127.0.0.1:5000/iris:dev > iris.yaml && kubectl apply -f iris.yaml',
    '<%= config.bin %> k8s iris:latest --image registry.example/iris@sha256:… --namespace ml --replicas 2 --max-replicas 6',
    '<%= config.bin %> k8s llm:latest --gpu-node-label nvidia.com/gpu.product -o json',
    '<%= config.bin %> k8s iris:latest --json   # the objects, the image and how it was pinned, the Secret to create',
  ]

  static override args = {tag: Args.string({required: true, description: 'NAME[:VERSION|latest] of a Bento in the store.'})}
  static override flags = {
    image: Flags.string({description: 'Image reference to deploy (default: the Bento\'s image); pinned by digest when the Docker engine knows the pushed digest.'}),
    namespace: Flags.string({char: 'n', description: 'metadata.namespace of every object.'}),
    replicas: Flags.integer({default: 1, min: 0, description: 'Deployment replicas (the autoscaler\'s minimum with --max-replicas).'}),
    'max-replicas': Flags.integer({min: 1, description: 'Add a HorizontalPodAutoscaler on CPU (80 %) from --replicas up to this.'}),
    'gpu-node-label': Flags.string({default: 'cloud.google.com/gke-accelerator', description: 'Node label that a service\'s gpu_type selects on.'}),
    'read-only-root': Flags.boolean({default: true, allowNo: true, description: 'Read-only root file system, with emptyDir volumes where BentoML writes (--no-read-only-root: writable).'}),
    output: Flags.string({char: 'o', options: ['yaml', 'json'], default: 'yaml', description: 'yaml (documents) or json (a v1 List).'}),
  }

  async run(): Promise<unknown> {
    const {args, flags} = await this.parse(K8s)
    const {k8s} = await import('../services/k8s.js')
    const {DockerodeClient} = await import('../docker/index.js')
    const {UsageError} = await import('../errors.js')
    if (flags['max-replicas'] !== undefined && flags['max-replicas'] < Math.max(1, flags.replicas)) {
      throw new UsageError(`--max-replicas ${flags['max-replicas']} is below --replicas ${flags.replicas}`)
    }
    const result = await k8s({
      tag: args.tag,
      home: await this.home(),
      images: new DockerodeClient({env: this.env(), signal: this.signal}),
      image: flags.image,
      namespace: flags.namespace,
      replicas: flags.replicas,
      maxReplicas: flags['max-replicas'],
      gpuNodeLabel: flags['gpu-node-label'],
      readOnlyRootFilesystem: flags['read-only-root'],
      format: flags.output as 'yaml' | 'json',
      reporter: this.reporter(flags),
    })
    if (!this.jsonEnabled()) process.stdout.write(result.manifest)
    return result
  }
}
