import {existsSync} from 'node:fs'
import {readdir, readFile} from 'node:fs/promises'
import {join} from 'node:path'

import {humanSize} from '../byte-size.js'
import type {Cleanup} from '../cleanup.js'
import {dockerfileInputsOf, type DockerfileInputs} from '../bento/dockerfile-inputs.js'
import {modelManifest, type ModelManifest} from '../bento/model-digest.js'
import {type HfModelRef, hfModelRef} from '../bento/huggingface/download.js'
import {huggingFaceModelsOf, type LocatedModel, locateBentoModels} from '../bento/models-of.js'
import {dockerfileContext} from '../bento/templates.js'
import {
  bentoBuildContext,
  type BuildSecret,
  type CaCertSecret,
  CONTEXT_DOCKERFILE,
  defaultDockerignore,
  checkOutputTarget,
  emulationProblem,
  type ImageClient,
  type ImageInfo,
  type ImagePlatform,
  indexSecretId,
  nativePlatform,
  platformImageTag,
  type OutputResult,
  type OutputTarget,
  outputMtime,
  type PushUpload,
  readCaCerts,
  renderDockerfile,
  resolveRegistryAuth,
  SPLIT_DOCKERFILE,
  splitAtModels,
  writeImageOutput,
} from '../docker/index.js'
import {formatTag} from '../bentoml/tag.js'
import {DockerBuildError, NotFoundError, UsageError} from '../errors.js'
import {indexCredentialsFor, type IndexCredentials, maskSecrets} from '../lock/index.js'
import {isImageReference} from '../registry/index.js'
import type {Reporter} from '../reporter.js'
import {homeId, ImageLease} from '../store/image-leases.js'
import type {BentoInfo} from '../store/info.js'
import {type StoreItem, withBentoReader} from '../store/store.js'
import {type IndexPush, platformBuildError, type PlatformPlan, platformPlan, pushPlatformIndex} from './containerize-platforms.js'
import {
  COMMIT_MODELS_FROM,
  counted,
  ensureCommittedModels,
  ensureHfModelImage,
  ensureModelImage,
  ensureWheelhouseImage,
  type ImagesOfHome,
  type ModelImageResult,
} from './containerize-images.js'
import {type PushedBlob, pushImage} from './push.js'

export {COMMIT_MODELS_FROM, type ModelImageResult, parseCommitModelsFrom} from './containerize-images.js'

export interface ContainerizeOptions {
  home: string
  tag: string
  /** `-t`: image references; default `<name>:<version>` (BentoML's default). */
  imageTags: string[]
  push: boolean
  /**
   * With `push`: push with bento's registry client (services/push.ts: skip/mount/chunked/resumable, layers from the
   * engine's export) instead of the engine's push.
   */
  directPush?: boolean
  /** A directory of wheels: pip installs offline from it (`--no-index --find-links`). */
  wheelhouse?: string
  /** Add build-essential for requirements that compile from source. */
  compilers?: boolean
  /** Rebuild everything: the model images and every layer (the daemon's layer cache is not used). */
  noCache?: boolean
  client: ImageClient
  /** ~/.docker, for push credentials. */
  dockerConfigDir: string
  /** The environment, for `HF_TOKEN` when a Hugging Face model is fetched. */
  env?: NodeJS.ProcessEnv
  reporter: Reporter
  /** Ctrl-C: stop at the next wait, untag what the build moved, throw `InterruptedError`. */
  signal?: AbortSignal
  /** Where the reader mark and temp directories are registered while they exist (removed on a forced exit). */
  cleanup?: Cleanup
  /** The environment build-stage envs (`envs[].stage: build`) take their values from, at containerize time. */
  environ?: Record<string, string | undefined>
  /**
   * `--ca-cert`: CA files (PEM) every package-install step of the build trusts, or `host` (SSL_CERT_FILE, PIP_CERT,
   * REQUESTS_CA_BUNDLE, else the system bundle). Given to the build as BuildKit secrets: in no layer (ca-cert.ts).
   */
  caCerts?: string[]
  /** Relative `--ca-cert` paths are resolved against it. */
  cwd?: string
  /** `--output`: also write the built image as an OCI image layout or a docker-archive (docker/image-output.ts). */
  output?: OutputTarget
  /**
   * `--platform` (each value may list several, comma-separated): one image per platform, built by BuildKit for it (a
   * foreign one's RUN steps under QEMU). One platform: tagged as `imageTags`. Several: each tagged `<tag>-linux-arm64`,
   * and with `push` an OCI image index of them written as each tag (containerize-platforms.ts).
   */
  platforms?: string[]
  /** `--base-image [PLATFORM=]REF`: the base image instead of the Bento's, for every platform or for one. */
  baseImages?: string[]
  /** `--wheelhouse PLATFORM=DIR`: one platform's wheelhouse (absolute), instead of `wheelhouse`. */
  platformWheelhouses?: string[]
  /** Models of at least this many bytes in all are committed, not imported (default `COMMIT_MODELS_FROM`; the command's BENTO_COMMIT_MODELS_FROM). */
  commitModelsFrom?: number
  /** Where this host's binfmt_misc is (default /proc/sys/fs/binfmt_misc): QEMU for a foreign platform, local daemon only. */
  binfmtDir?: string
}

export interface ContainerizeResult {
  bento: string
  /** `--ca-cert` files the build trusted (paths, certificates in each); their bytes are in no layer. */
  caCerts?: Array<{file: string; certificates: number}>
  imageId: string
  tags: string[]
  size: number
  layers: Array<{id: string; createdBy: string; size: number}>
  buildkit: boolean
  /** Dockerfile steps as the daemon reported them, and whether each came from the layer cache. */
  steps: Array<{step: string; cached: boolean}>
  /**
   * One model image per model version the Bento uses (see docker/model-image.ts); committed models: each names the
   * committed-model image that holds them all (`contextBytes` its layer tar, 0 when reused).
   */
  modelImages: ModelImageResult[]
  /** `--wheelhouse` as an image (built when the directory changed), bind-mounted into the install step. */
  wheelhouseImage?: {image: string; built: boolean; contextBytes: number}
  /** Bytes of the Bento image's build context sent to the daemon (no model byte, no wheel in it; both parts of a split build). */
  contextBytes: number
  durationMs: number
  /**
   * Per pushed tag: its digest and what went up: through the engine (`--push`), docker/push.ts `PushUpload`
   * (`uploadedBytes`, `layersPushed`, `layersExisting`); with `--direct-push`, `uploadedBytes` and `blobs` as `push`.
   */
  pushed: Array<{tag: string; digest: string; uploadedBytes?: number; blobs?: PushedBlob[]} & Partial<Omit<PushUpload, 'uploadedBytes'>>>
  /** `--platform`: each platform's image (the top-level fields are the first platform's); with several and `push`, `index`. */
  platforms?: Array<{platform: string; imageId: string; tags: string[]; size: number; baseImage: string; steps: Array<{step: string; cached: boolean}>; durationMs: number}>
  /** `--platform`: the base image this image was built on (one platform's result; not in the merged one). */
  baseImage?: string
  /** `--platform A,B --push`: per registry tag, the OCI image index written as it and the platform manifests it names. */
  index?: IndexPush[]
  digest?: string
  /** With --push: the sum of `pushed[].uploadedBytes` (0 when the registry had every layer). */
  uploadedBytes?: number
  /** With `--output`: what was written where. */
  output?: OutputResult
}

/**
 * What `dockerfileInputsOf` needs to know about the Bento's files: its top level (directories as `name/`), the
 * entries of `env/` and the files of `env/<x>/` (install.sh, setup_script, run_script targets). Not the source tree.
 */
async function bentoFileList(dir: string): Promise<string[]> {
  const out: string[] = []
  for (const d of await readdir(dir, {withFileTypes: true})) {
    if (d.name !== 'env') {
      out.push(d.isDirectory() ? `${d.name}/` : d.name)
      continue
    }
    for (const e of await readdir(join(dir, 'env'), {withFileTypes: true})) {
      if (!e.isDirectory()) continue
      out.push(`env/${e.name}/`)
      for (const f of await readdir(join(dir, 'env', e.name), {withFileTypes: true})) {
        if (!f.isDirectory()) out.push(`env/${e.name}/${f.name}`)
      }
    }
  }
  return out
}

/**
 * The Dockerfile inputs of a stored Bento: its bento.yaml (typed), its files and its README.md — the same three
 * things `bento build` rendered the stored `env/docker/Dockerfile` from (plan.ts), so both carry the same labels.
 */
export async function storedDockerfileInputs(bentoPath: string, bento: BentoInfo): Promise<DockerfileInputs> {
  const readme = await readFile(join(bentoPath, 'README.md'), 'utf8').catch(() => '')
  return dockerfileInputsOf(bento, await bentoFileList(bentoPath), readme)
}

/** Refuse what bento's Debian-based Dockerfile cannot build, before anything is sent to the daemon. */
function checkSupported(tag: string, conda: BentoInfo['conda'], baseImage: string | null, distro: string, commands: string[]): void {
  if (distro !== 'debian') {
    throw new UsageError(`Bento "${tag}" asks for docker.distro "${distro}": bento containerize builds Debian-based images only`, {
      hint: 'use distro: debian (the default), set docker.base_image, or use `bentoml containerize` for this Bento',
    })
  }
  const foreign = commands.find((c) => /^\s*(apk|yum|dnf|microdnf)\s/.test(c))
  if (foreign !== undefined || /alpine|ubi8|amazonlinux/.test(baseImage ?? '')) {
    throw new UsageError(`Bento "${tag}" uses a non-Debian image (${foreign ? `image.commands runs "${foreign.slice(0, 40)}"` : baseImage}): bento containerize builds Debian-based images only`, {
      hint: 'use distro="debian" in the service image (the default), or `bentoml containerize` for this Bento',
    })
  }
  if (conda.environment_yml !== null || conda.dependencies.length > 0 || conda.pip.length > 0) {
    throw new UsageError(`Bento "${tag}" has conda options: bento containerize does not build conda environments`, {
      hint: 'move the packages to python.packages / requirements.txt, or use `bentoml containerize` for this Bento',
    })
  }
}

export async function containerize(opts: ContainerizeOptions): Promise<ContainerizeResult> {
  const plan = platformPlan(opts)
  // A target bento must not write over is refused before the store or the daemon is asked anything.
  if (opts.output) await checkOutputTarget(opts.output)
  // The Bento is held for reading until the image is built: a `bento delete` of it waits (store/readers.ts).
  return withBentoReader(opts.home, opts.tag, 'containerize', (bento) => containerizeBento(opts, bento, plan), {cleanup: opts.cleanup})
}

async function containerizeBento(opts: ContainerizeOptions, bento: StoreItem<BentoInfo>, plan: PlatformPlan): Promise<ContainerizeResult> {
  const started = performance.now()
  const {reporter} = opts
  const tag = formatTag(bento.tag)
  const tags = opts.imageTags.length > 0 ? opts.imageTags : [tag]
  for (const t of tags) {
    if (!isImageReference(t)) {
      throw new UsageError(`"${t}" is not a valid image reference`, {hint: 'use lowercase repository names, e.g. -t iris:dev or -t 127.0.0.1:5000/iris:dev'})
    }
  }
  if (opts.push && tags.every((t) => !t.includes('/'))) {
    throw new UsageError('--push needs an image tag that names a registry', {hint: 'e.g. -t 127.0.0.1:5000/iris:dev --push'})
  }

  // The same inputs `bento build` rendered the stored Dockerfile from (one function for both).
  const inputs = await storedDockerfileInputs(bento.path, bento.info)
  checkSupported(tag, bento.info.conda, inputs.baseImage, inputs.distro, [...inputs.commands, ...inputs.postCommands])
  // Build-time secrets (`envs[].stage: build`, BentoML ≥ 1.4.31): the value comes from the environment of this
  // command (else the value bento.yaml records, as BentoML's os.getenv(name, value)) and reaches the RUN steps as a
  // BuildKit secret, never as an ARG, ENV, a file of the context or a layer.
  const secrets: BuildSecret[] = inputs.buildSecrets.map((e) => {
    const fromEnv = opts.environ?.[e.name]
    if (fromEnv === undefined && e.value === '') {
      reporter.warn(`build-stage env ${e.name} is not set in the environment: the build steps see it empty`)
    }
    return {id: e.name, value: fromEnv ?? e.value}
  })
  // Index credentials: the `${VAR}`s of the index URLs in the Bento's requirement files (the lock), from this
  // command's environment, and a netrc naming one of their hosts. Offline (--wheelhouse) no index is asked.
  const index = plan.wheelhouses.all !== undefined || plan.wheelhouses.byPlatform.size > 0 ? null : await indexCredentialsOfBento(bento.path, opts.environ ?? {})
  if (index !== null && index.missing.length > 0) {
    const names = index.missing.map((n) => `\${${n}}`).join(', ')
    throw new UsageError(`Bento "${tag}" installs from an index whose URL names ${names}, which ${index.missing.length > 1 ? 'are' : 'is'} not set in the environment`, {
      hint: `export ${index.missing.join(', ')} (the index credentials; they reach the install step as build secrets, in no layer), or install offline with --wheelhouse DIR`,
      data: {missing: index.missing},
    })
  }
  const indexSecrets: BuildSecret[] = [
    ...(index?.variables ?? []).map((v) => ({id: indexSecretId(v.name), value: v.value})),
    ...(index?.netrc ? [{id: indexSecretId('netrc'), file: index.netrc}] : []),
  ]
  const located = locateBentoModels(bento.path, bento.info, opts.home)
  const missing = located.find((m) => m.dir === null)
  if (missing) {
    throw new NotFoundError(`Model "${missing.tag}" of Bento "${tag}" is neither inside the Bento nor in the model store`, {
      code: 'E_MODEL_NOT_FOUND',
      hint: `bento.yaml ${missing.from} names it: import or save the model again, or rebuild the Bento with \`bento build\` (which bundles its models)`,
      data: {model: missing.tag},
    })
  }
  const hf = huggingFaceModelsOf(bento.info).map((m) => hfModelRef(m))

  const caCerts = await readCaCerts(opts.caCerts ?? [], opts.environ ?? {}, opts.cwd ?? process.cwd())
  const {buildkit, arch, engine} = await opts.client.ping()
  if (plan.platforms.length > 0 && !buildkit) {
    throw new UsageError('--platform needs BuildKit (an image for a platform is built by BuildKit); the daemon offers the classic builder only', {
      hint: 'enable BuildKit (DOCKER_BUILDKIT=1, Docker 18.09+)',
    })
  }
  // A foreign platform's RUN steps need QEMU on the daemon's host: checked here when that host is this one.
  const local = opts.env?.DOCKER_HOST === undefined || opts.env.DOCKER_HOST === '' || opts.env.DOCKER_HOST.startsWith('unix://')
  const native = nativePlatform(arch)
  for (const p of plan.platforms) {
    // An engine that does not say its architecture: nothing to compare with (a missing QEMU shows as exec format error).
    const problem = local && native !== undefined && p !== native ? emulationProblem(p, opts.binfmtDir) : null
    if (problem) throw problem
  }
  if (caCerts.length > 0 && !buildkit) {
    throw new UsageError(`--ca-cert needs BuildKit (the CA reaches the install steps as a build secret, in no layer); the daemon offers the classic builder only`, {
      hint: 'enable BuildKit (DOCKER_BUILDKIT=1, Docker 18.09+)',
    })
  }
  if (indexSecrets.length > 0 && !buildkit) {
    throw new UsageError(`Bento "${tag}" installs from an index with credentials, which reach the install step as build secrets and need BuildKit; the daemon offers the classic builder only`, {
      hint: 'enable BuildKit (DOCKER_BUILDKIT=1, Docker 18.09+), or install offline with --wheelhouse DIR',
    })
  }
  if (secrets.length > 0 && !buildkit) {
    throw new UsageError(`Bento "${tag}" has build-stage envs (${secrets.map((x) => x.id).join(', ')}), which need BuildKit; the daemon offers the classic builder only`, {
      hint: 'enable BuildKit (DOCKER_BUILDKIT=1, Docker 18.09+), as bentoml containerize requires too',
    })
  }

  // The images this run makes or reuses are named under this home and held by a lease until it ends, so a
  // `bento prune` running meanwhile keeps them (store/image-leases.ts).
  const images: ImagesOfHome = {id: await homeId(opts.home), lease: new ImageLease(opts.home)}
  try {
    const common = {started, tag, inputs, secrets, indexSecrets, index, caCerts, located, hf, buildkit, engine, bentoPath: bento.path, images}
    const {platforms, baseImages, wheelhouses} = plan
    if (platforms.length === 0) {
      return await buildImage(opts, {...common, tags, target: {baseImage: baseImages.all, wheelhouse: wheelhouses.all, cross: false}, push: opts.push})
    }
    // One image per platform, one after the other (two QEMU builds at once would only share two cores).
    const built: Array<{platform: ImagePlatform; result: ContainerizeResult}> = []
    for (const platform of platforms) {
      const result = await buildImage(opts, {
        ...common,
        started: performance.now(),
        tags: platforms.length === 1 ? tags : tags.map((t) => platformImageTag(t, platform)),
        target: {
          platform,
          native: platform === nativePlatform(arch),
          baseImage: baseImages.byPlatform.get(platform.name) ?? baseImages.all,
          wheelhouse: wheelhouses.byPlatform.get(platform.name) ?? wheelhouses.all,
          cross: true,
        },
        push: opts.push && platforms.length === 1,
      })
      built.push({platform, result})
    }
    return await withPlatformIndex(opts, tags, built, started)
  } finally {
    await images.lease.release()
  }
}

/** The result of a `--platform` build: the first platform's fields, every platform's image, and with several and `push`, the index. */
async function withPlatformIndex(opts: ContainerizeOptions, tags: string[], built: Array<{platform: ImagePlatform; result: ContainerizeResult}>, started: number): Promise<ContainerizeResult> {
  const first = (built[0] as {result: ContainerizeResult}).result
  const platforms = built.map(({platform, result: r}) => ({
    platform: platform.name,
    imageId: r.imageId,
    tags: r.tags,
    size: r.size,
    baseImage: r.baseImage ?? '',
    steps: r.steps,
    durationMs: r.durationMs,
  }))
  const merged: ContainerizeResult = {...first, tags: built.flatMap((b) => b.result.tags), platforms, durationMs: Math.round(performance.now() - started)}
  delete merged.baseImage
  if (!opts.push || built.length === 1) return merged
  const images = []
  for (const {platform, result: r} of built) {
    const info = await opts.client.inspect(r.imageId)
    if (info === null) throw new NotFoundError(`The ${platform.name} image ${r.imageId} vanished before its push`, {code: 'E_IMAGE_NOT_FOUND'})
    images.push({platform, imageId: r.imageId, info, tags: r.tags})
  }
  const targets = tags.filter((t) => t.includes('/'))
  const index = await pushPlatformIndex({images, targets, direct: opts.directPush ?? false, client: opts.client, dockerConfigDir: opts.dockerConfigDir, reporter: opts.reporter, signal: opts.signal}, tags)
  const pushed = index.map((i) => ({tag: i.tag, digest: i.digest, uploadedBytes: i.uploadedBytes}))
  return {...merged, index, pushed, digest: (index[0] as IndexPush).digest, uploadedBytes: index.reduce((n, i) => n + i.uploadedBytes, 0), durationMs: Math.round(performance.now() - started)}
}

async function buildImage(
  opts: ContainerizeOptions,
  b: {
    started: number
    tag: string
    tags: string[]
    inputs: DockerfileInputs
    secrets: BuildSecret[]
    indexSecrets: BuildSecret[]
    index: IndexCredentials | null
    caCerts: CaCertSecret[]
    located: ReturnType<typeof locateBentoModels>
    hf: HfModelRef[]
    buildkit: boolean
    engine?: 'docker' | 'podman'
    bentoPath: string
    images: ImagesOfHome
    /** `--platform`/`--base-image`/`--wheelhouse` for this image: `cross` declares model and wheelhouse images as build-platform stages. */
    target: {platform?: ImagePlatform; native?: boolean; baseImage?: string; wheelhouse?: string; cross: boolean}
    push: boolean
  },
): Promise<ContainerizeResult> {
  const {reporter} = opts
  const {started, tag, tags, inputs, located, hf, buildkit, images} = b
  const secrets: BuildSecret[] = [...b.secrets, ...b.indexSecrets, ...b.caCerts.map((c) => ({id: c.id, file: c.file}))]
  const templateFile = join(b.bentoPath, 'env/docker/Dockerfile.template')
  const userTemplate = existsSync(templateFile)
    ? {content: await readFile(templateFile, 'utf8'), file: templateFile}
    : undefined
  // Big models are committed onto the dependency image rather than imported as model images (model-image.ts,
  // "Committed model layers"): one daemon pass fewer over them. Small ones keep the one-build path.
  const storeModels = located.map((m) => m as LocatedModel & {dir: string})
  const manifests = await Promise.all(storeModels.map((m) => modelManifest(m.dir)))
  const modelBytes = manifests.reduce((n, m) => n + m.size, 0)
  const commitModels = storeModels.length > 0 && hf.length === 0 && userTemplate === undefined && b.engine !== 'podman' && modelBytes >= (opts.commitModelsFrom ?? COMMIT_MODELS_FROM)
  // Otherwise one image per model version, built only when missing or out of date: the Bento image copies from them.
  const modelImages: ModelImageResult[] = []
  if (!commitModels) {
    for (const [i, m] of storeModels.entries()) modelImages.push(await ensureModelImage(opts, images, m, manifests[i] as ModelManifest))
    // Hugging Face models: fetched from the hub once, into their own image (hf-models/ in the layout BentoML bakes).
    for (const ref of hf) modelImages.push(await ensureHfModelImage(opts, images, ref))
  }

  const {target} = b
  const wheelhouse = target.wheelhouse ? await ensureWheelhouseImage(opts, images, target.wheelhouse) : undefined

  const ctx = {
    ...dockerfileContext(inputs, {
      buildkit,
      wheelhouse: Boolean(target.wheelhouse),
      ...(wheelhouse ? {wheelhouseImage: wheelhouse.image} : {}),
      needsCompilers: opts.compilers ?? false,
      models: commitModels ? {kind: 'committed'} : {kind: 'images', refs: modelImages.map((m) => m.image)},
    }),
    // --ca-cert: only the Dockerfile this build uses; the Bento's stored one never names a CA.
    ...(b.caCerts.length > 0 ? {caSecrets: b.caCerts.map((c) => c.id)} : {}),
    ...(b.indexSecrets.length > 0 ? {indexCredentials: {variables: (b.index?.variables ?? []).map((v) => v.name), netrc: b.index?.netrc != null}} : {}),
    ...(target.baseImage ? {baseImage: target.baseImage} : {}),
    ...(target.cross ? {crossPlatform: true} : {}),
  }
  if (userTemplate !== undefined && b.indexSecrets.length > 0) {
    throw new UsageError(`Bento "${tag}" installs from an index with credentials and has a docker.dockerfile_template: the template's install step cannot receive them`, {
      hint: 'remove the template, or install offline with --wheelhouse DIR',
    })
  }
  if (userTemplate !== undefined && b.secrets.length > 0) {
    throw new UsageError(`Bento "${tag}" has build-stage envs and a docker.dockerfile_template: the template's RUN steps cannot receive the secrets`, {
      hint: 'remove the template (spec-2 images do not use one), or change the envs to stage: all',
    })
  }
  const dockerfile = renderDockerfile(ctx, userTemplate)

  reporter.log(`Building image ${tags.join(', ')} from Bento "${tag}" (${buildkit ? 'BuildKit' : 'classic builder'}${target.platform ? `, ${target.platform.name} on ${ctx.baseImage}${target.native === false ? ', RUN steps under QEMU' : ''}` : ''})`)
  for (const v of b.index?.variables ?? []) reporter.log(`Index credential \${${v.name}} reaches the install step as a build secret (in no layer)`)
  if (b.index?.netrc) reporter.log(`The index credentials of ${b.index.netrc} reach the install step as a build secret (in no layer)`)
  for (const c of b.caCerts) reporter.log(`Trusting ${c.certificates} CA certificate(s) of ${c.file} in the install steps (a build secret: in no layer)`)
  // The models and the wheels come from their images: the context holds the code only.
  const dockerignore = [...defaultDockerignore(), 'models', 'hf-models']
  const steps: Array<{step: string; cached: boolean}> = []
  let contextBytes = 0
  // `split`: one part of the split build; the context's env/docker/Dockerfile (the image's copy) is the whole one.
  const engineBuild = async (split: string | undefined, buildTags: string[], labels: Record<string, string>): Promise<string> => {
    const context = counted(bentoBuildContext({bentoDir: b.bentoPath, dockerfile, dockerignore, ...(split === undefined ? {} : {splitDockerfile: split})}))
    try {
      const built = await buildMasked(opts, (b.index?.variables ?? []).map((v) => v.value), {...target, baseImage: ctx.baseImage}, {
        ...(target.platform ? {platform: target.platform.name} : {}),
        context: context.stream,
        dockerfile: split === undefined ? CONTEXT_DOCKERFILE : SPLIT_DOCKERFILE,
        tags: buildTags,
        labels,
        // The image's created time, where BuildKit honours it (0.11+); the created label follows the Bento's creation_time.
        ...(opts.environ?.SOURCE_DATE_EPOCH ? {buildArgs: {SOURCE_DATE_EPOCH: opts.environ.SOURCE_DATE_EPOCH}} : {}),
        noCache: opts.noCache,
        signal: opts.signal,
        ...(secrets.length > 0 ? {secrets} : {}),
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
      return built.imageId
    } finally {
      contextBytes += context.bytes()
    }
  }
  let imageId: string
  if (commitModels) {
    // The engine builds the dependency stage (untagged: the committed image keeps it as its parent), bento commits
    // the model layers onto it, the engine builds code and metadata FROM the result.
    const split = splitAtModels(dockerfile)
    const depsImage = await engineBuild(split.deps, [], {})
    const committed = await ensureCommittedModels(opts, images, depsImage, storeModels.map((m, i) => ({m, manifest: manifests[i] as ModelManifest})))
    modelImages.push(...committed.results)
    imageId = await engineBuild(split.rest(committed.ref), tags, ctx.labels)
  } else {
    imageId = await engineBuild(undefined, tags, ctx.labels)
  }
  const info = await opts.client.inspect(imageId)
  const history = await opts.client.history(imageId)

  const pushed: ContainerizeResult['pushed'] = []
  if (b.push && opts.directPush && info) {
    for (const t of tags.filter((x) => x.includes('/'))) {
      const r = await pushImage({image: imageId, info, ref: t, images: opts.client, dockerConfigDir: opts.dockerConfigDir, reporter, signal: opts.signal})
      pushed.push({tag: t, digest: r.digest, uploadedBytes: r.uploadedBytes, blobs: r.blobs})
    }
  } else if (b.push) {
    for (const t of tags.filter((x) => x.includes('/'))) {
      reporter.log(`Pushing ${t}`)
      const auth = await resolveRegistryAuth(t, {configDir: opts.dockerConfigDir})
      const {digest, uploadedBytes, layersPushed, layersExisting} = await opts.client.push(t, {
        auth,
        signal: opts.signal,
        onProgress: (e) => {
          if (e.status && !e.progress) reporter.log(`  ${e.id ? `${e.id}: ` : ''}${e.status}`)
        },
      })
      pushed.push({tag: t, digest, uploadedBytes, layersPushed, layersExisting})
      reporter.log(`Pushed ${t}: ${layersPushed} layer(s), ${uploadedBytes} bytes uploaded, ${layersExisting} already in the registry`)
    }
  }

  const output = opts.output && info ? await writeOutput(opts, opts.output, imageId, info, tags) : undefined

  return {
    bento: tag,
    ...(b.caCerts.length > 0 ? {caCerts: b.caCerts.map((c) => ({file: c.file, certificates: c.certificates}))} : {}),
    imageId,
    tags,
    size: info?.size ?? 0,
    layers: history.map((l) => ({id: l.id, createdBy: l.createdBy, size: l.size})),
    buildkit,
    steps,
    modelImages,
    ...(wheelhouse ? {wheelhouseImage: wheelhouse} : {}),
    contextBytes,
    durationMs: Math.round(performance.now() - started),
    pushed,
    ...(pushed[0] ? {digest: pushed[0].digest} : {}),
    ...(b.push ? {uploadedBytes: pushed.reduce((n, p) => n + (p.uploadedBytes ?? 0), 0)} : {}),
    ...(output ? {output} : {}),
    ...(target.platform ? {baseImage: ctx.baseImage} : {}),
  }
}

/** `--output`: the built image from the engine's export, as an OCI layout or a docker-archive. */
async function writeOutput(opts: ContainerizeOptions, target: OutputTarget, imageId: string, info: ImageInfo, tags: string[]): Promise<OutputResult> {
  opts.reporter.log(`Writing ${target.kind}:${target.path} (${info.diffIds.length} layers, uncompressed, from the engine's export)`)
  const r = await writeImageOutput({
    target,
    images: opts.client,
    image: imageId,
    info,
    refs: tags,
    mtime: outputMtime(opts.environ?.SOURCE_DATE_EPOCH),
    signal: opts.signal,
    cleanup: opts.cleanup,
    onLayer: (l) => opts.reporter.log(`  layer ${l.done}/${l.of} ${l.digest.slice(7, 19)}: ${humanSize(l.size, {digits: 1})}`),
  })
  opts.reporter.log(`Wrote ${target.kind}:${target.path} (${humanSize(r.bytes, {digits: 1})}, manifest ${r.manifestDigest})`)
  return r
}

/** The index credentials the Bento's requirement files (spec 2 requirements.txt, spec 1 requirements.lock.txt too) need. */
async function indexCredentialsOfBento(bentoPath: string, environ: Record<string, string | undefined>): Promise<IndexCredentials> {
  const texts: string[] = []
  for (const f of ['env/python/requirements.txt', 'env/python/requirements.lock.txt']) {
    const text = await readFile(join(bentoPath, f), 'utf8').catch(() => null)
    if (text !== null) texts.push(text)
  }
  return indexCredentialsFor(texts, environ)
}

/** `client.build`, with the values of the index credentials masked in a build error (pip may print an index URL). */
async function buildMasked(
  opts: ContainerizeOptions,
  values: string[],
  target: {platform?: ImagePlatform; native?: boolean; baseImage: string},
  build: Parameters<ImageClient['build']>[0],
): Promise<{imageId: string}> {
  try {
    return await opts.client.build(build)
  } catch (caught) {
    // --platform: a missing base image of that platform, or no QEMU, in the words of the flag (with the fix).
    const error = target.platform ? platformBuildError(caught, target.platform, target.baseImage, target.native ?? false) : caught
    if (!(error instanceof DockerBuildError) || values.length === 0) throw error
    const mask = (t: string): string => maskSecrets(t, values)
    const data = error.data === undefined ? undefined : (JSON.parse(mask(JSON.stringify(error.data))) as Record<string, unknown>)
    throw new DockerBuildError(mask(error.message), {code: error.code, ...(error.hint ? {hint: mask(error.hint)} : {}), ...(data ? {data} : {})})
  }
}
