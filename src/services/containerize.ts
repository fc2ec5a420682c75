import {existsSync} from 'node:fs'
import {mkdir, readFile} from 'node:fs/promises'
import {join} from 'node:path'

import {locateBentoModels} from '../bento/models-of.js'
import {dockerEnvList} from '../bento/plan.js'
import {dockerfileContext} from '../bento/templates.js'
import {
  bentoBuildContext,
  CONTEXT_DOCKERFILE,
  defaultDockerignore,
  type ImageClient,
  renderDockerfile,
  resolveRegistryAuth,
  WHEELHOUSE_CONTEXT_DIR,
} from '../docker/index.js'
import {NotFoundError, UsageError} from '../errors.js'
import type {Reporter} from '../reporter.js'
import {Store} from '../store/store.js'

export interface ContainerizeOptions {
  home: string
  tag: string
  /** `-t`: image references; default `<name>:<version>` (BentoML's default). */
  imageTags: string[]
  push: boolean
  /** A directory of wheels: pip installs offline from it (`--no-index --find-links`). */
  wheelhouse?: string
  /** Add build-essential for requirements that compile from source. */
  compilers?: boolean
  noCache?: boolean
  client: ImageClient
  /** ~/.docker, for push credentials. */
  dockerConfigDir: string
  reporter: Reporter
  signal?: AbortSignal
}

export interface ContainerizeResult {
  bento: string
  imageId: string
  tags: string[]
  size: number
  layers: Array<{id: string; createdBy: string; size: number}>
  buildkit: boolean
  /** Dockerfile steps as the daemon reported them, and whether each came from the layer cache. */
  steps: Array<{step: string; cached: boolean}>
  durationMs: number
  pushed: Array<{tag: string; digest: string}>
  digest?: string
}

const IMAGE_REF = /^[a-z0-9]+(?:(?:[._]|__|-+)[a-z0-9]+)*(?::[0-9]+)?(?:\/[a-z0-9]+(?:(?:[._]|__|-+)[a-z0-9]+)*)*(?::[A-Za-z0-9_][A-Za-z0-9_.-]{0,127})?$/

export async function containerize(opts: ContainerizeOptions): Promise<ContainerizeResult> {
  const started = performance.now()
  const {reporter} = opts
  const bento = await Store.bentos(opts.home).get(opts.tag)
  const tag = `${bento.tag.name}:${bento.tag.version}`
  const raw = bento.info.raw
  const tags = opts.imageTags.length > 0 ? opts.imageTags : [tag]
  for (const t of tags) {
    if (!IMAGE_REF.test(t)) {
      throw new UsageError(`"${t}" is not a valid image reference`, {hint: 'use lowercase repository names, e.g. -t iris:dev or -t 127.0.0.1:5000/iris:dev'})
    }
  }
  if (opts.push && tags.every((t) => !t.includes('/'))) {
    throw new UsageError('--push needs an image tag that names a registry', {hint: 'e.g. -t 127.0.0.1:5000/iris:dev --push'})
  }
  if (opts.wheelhouse && !existsSync(opts.wheelhouse)) {
    throw new NotFoundError(`--wheelhouse directory ${opts.wheelhouse} does not exist`, {hint: 'fill it with `pip download -d DIR ...`'})
  }

  const docker = (raw.docker ?? {}) as Record<string, unknown>
  const conda = (raw.conda ?? {}) as Record<string, unknown>
  const distro = docker.base_image ? 'debian' : String(docker.distro ?? 'debian')
  if (distro !== 'debian') {
    throw new UsageError(`Bento "${tag}" asks for docker.distro "${distro}": bento containerize builds Debian-based images only`, {
      hint: 'use distro: debian (the default), set docker.base_image, or use `bentoml containerize` for this Bento',
    })
  }
  if (conda.environment_yml || (Array.isArray(conda.dependencies) && conda.dependencies.length > 0) || (Array.isArray(conda.pip) && conda.pip.length > 0)) {
    throw new UsageError(`Bento "${tag}" has conda options: bento containerize does not build conda environments`, {
      hint: 'move the packages to python.packages / requirements.txt, or use `bentoml containerize` for this Bento',
    })
  }
  const located = locateBentoModels(bento.path, raw, opts.home)
  const models = located.map((m) => m.tag)

  // Models: the Bento's own models/ (bento's Bentos carry them), else the global store (Bentos from `bentoml build`).
  const extraDirs: Array<{src: string; dest: string}> = []
  for (const m of located) {
    if (m.inBento) continue
    if (m.dir === null) {
      throw new NotFoundError(`Model "${m.tag}" of Bento "${tag}" is neither inside the Bento nor in the model store`, {
        code: 'E_MODEL_NOT_FOUND',
        hint: `bento.yaml ${m.from} names it: import or save the model again, or rebuild the Bento with \`bento build\` (which bundles its models)`,
        data: {model: m.tag},
      })
    }
    extraDirs.push({src: m.dir, dest: `models/${m.name}/${m.version}`})
  }
  if (!existsSync(join(bento.path, 'models')) && extraDirs.length === 0) {
    const empty = join(opts.home, 'tmp', 'bento-empty-dir')
    await mkdir(empty, {recursive: true})
    extraDirs.push({src: empty, dest: 'models'})
  }
  if (opts.wheelhouse) extraDirs.push({src: opts.wheelhouse, dest: WHEELHOUSE_CONTEXT_DIR})

  const {buildkit} = await opts.client.ping()
  const readme = await readFile(join(bento.path, 'README.md'), 'utf8').catch(() => '')
  const dockerEnv = docker.env && typeof docker.env === 'object' && !Array.isArray(docker.env) ? (docker.env as Record<string, unknown>) : null

  const ctx = dockerfileContext(
    {
      baseImage: (docker.base_image as string | null) ?? null,
      pythonVersion: String(docker.python_version ?? '3.11'),
      systemPackages: (docker.system_packages as string[] | null) ?? [],
      setupScript: existsSync(join(bento.path, 'env/docker/setup_script')),
      env: dockerEnvList(dockerEnv, (raw.envs ?? []) as Array<{name: string; value?: unknown; stage?: string}>),
      labels: {},
      cudaVersion: (docker.cuda_version as string | null) ?? null,
      tag,
      bentomlVersion: String(raw.bentoml_version ?? ''),
      models,
      description: readme,
      creationTime: String(raw.creation_time ?? ''),
      userLabels: bento.info.labels,
    },
    {buildkit, wheelhouse: Boolean(opts.wheelhouse), needsCompilers: opts.compilers ?? false},
  )
  const templateFile = join(bento.path, 'env/docker/Dockerfile.template')
  const userTemplate = existsSync(templateFile)
    ? {content: await readFile(templateFile, 'utf8'), file: templateFile}
    : undefined
  const dockerfile = renderDockerfile(ctx, userTemplate)

  reporter.log(`Building image ${tags.join(', ')} from Bento "${tag}" (${buildkit ? 'BuildKit' : 'classic builder'})`)
  const context = bentoBuildContext({bentoDir: bento.path, dockerfile, dockerignore: defaultDockerignore(), extraDirs})
  const steps: Array<{step: string; cached: boolean}> = []
  const {imageId} = await opts.client.build({
    context,
    dockerfile: CONTEXT_DOCKERFILE,
    tags,
    labels: ctx.labels,
    noCache: opts.noCache,
    signal: opts.signal,
    onProgress: (e) => {
      if (e.type === 'step') {
        reporter.log(e.step)
        if (!steps.some((s) => s.step === e.step)) steps.push({step: e.step, cached: false})
      } else if (e.type === 'cached') {
        reporter.log(`${e.step} (cached)`)
        const known = steps.find((s) => s.step === e.step)
        if (known) known.cached = true
        else steps.push({step: e.step, cached: true})
      }
      else if (e.type === 'log') reporter.status(`  ${e.line}`)
      else if (e.type === 'warning') reporter.warn(e.message)
    },
  })
  const info = await opts.client.inspect(imageId)
  const history = await opts.client.history(imageId)

  const pushed: Array<{tag: string; digest: string}> = []
  if (opts.push) {
    for (const t of tags.filter((x) => x.includes('/'))) {
      reporter.log(`Pushing ${t}`)
      const auth = await resolveRegistryAuth(t, {configDir: opts.dockerConfigDir})
      const {digest} = await opts.client.push(t, {
        auth,
        signal: opts.signal,
        onProgress: (e) => {
          if (e.status && !e.progress) reporter.log(`  ${e.id ? `${e.id}: ` : ''}${e.status}`)
        },
      })
      pushed.push({tag: t, digest})
    }
  }

  return {
    bento: tag,
    imageId,
    tags,
    size: info?.size ?? 0,
    layers: history.map((l) => ({id: l.id, createdBy: l.createdBy, size: l.size})),
    buildkit,
    steps,
    durationMs: Math.round(performance.now() - started),
    pushed,
    ...(pushed[0] ? {digest: pushed[0].digest} : {}),
  }
}
