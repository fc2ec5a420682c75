import {readFileSync} from 'node:fs'

import {DEFAULT_CUDA_VERSION} from '../bentoml/config-facts.js'
import {
  aptPackageProblem,
  envNameProblem,
  envValueProblem,
  imageLabelKeyProblem,
  imageRefProblem,
  isEnvName,
  isImageRef,
  type RuleProblem,
} from '../bentoml/image-rules.js'
import {BENTO_GID, BENTO_PATH, BENTO_UID, BENTO_USER, IMAGE_BENTOML_HOME, IMAGE_HF_CACHE_DIR, IMAGE_VENV, SERVE_PORT} from '../bentoml/runtime.js'
import {BugError, ConfigError, type Diagnostic} from '../errors.js'
import {PACKAGE_ROOT} from '../version.js'
import {caRunParts} from './ca-cert.js'
import {parseTemplate, renderNodes} from './template.js'
import {parseUserTemplate, userTemplateOverrides, userTemplateVariables} from './user-template.js'

/** Where the shipped templates live (the package root's templates/, from src/, dist/ or the bundle). */
export function templatePath(name: string): URL {
  return new URL(`templates/${name}`, PACKAGE_ROOT)
}

/** The BuildKit secret id of an index credential: `bento-index-<VAR>` for a `${VAR}`, `bento-index-netrc` for a netrc. */
export function indexSecretId(name: string): string {
  return `bento-index-${name}`
}

/** Context directory (inside the build context) that holds an offline wheelhouse. */
export const WHEELHOUSE_CONTEXT_DIR = '.bento-wheelhouse'

export {BENTO_GID, BENTO_PATH, BENTO_UID, DEFAULT_CUDA_VERSION}

export interface DockerfileEnv {
  name: string
  value: string
}

/** Where the image's `models/` come from. */
export type ModelSource =
  /** `COPY ./models ./models/` from the build context (the Bento's own models/); none when the Bento has none. */
  | {kind: 'context'; present: boolean}
  /**
   * One `COPY --from=<ref> / /` per model image (see model-image.ts): each model is its own layer, the same
   * bytes as the model image's, and the build context holds no model byte.
   */
  | {kind: 'images'; refs: string[]}
  /**
   * Committed onto the dependency stage's image by containerize (model-image.ts, "Committed model layers"): the
   * Dockerfile has a split line where the model layers go; `splitAtModels` makes the two builds of it.
   */
  | {kind: 'committed'}

export interface DockerfileContext {
  /** `python:<pythonVersion>-slim` unless `docker.base_image` (see `baseImageFor`). */
  baseImage: string
  pythonVersion: string
  distro: 'debian'
  systemPackages: string[]
  /** Add `build-essential` (some requirement builds from source). */
  needsCompilers: boolean
  /** Baked envs: `docker.env` + `envs` of stage `all` (ARG + ENV). */
  env: DockerfileEnv[]
  setupScript: boolean
  /** Use BuildKit-only syntax (`RUN --mount=type=cache|bind|secret`). */
  buildkit: boolean
  /**
   * Build-time secrets (`envs` of stage `build`, BentoML 1.4.31+), by name: every RUN of the Bento's own steps
   * (image commands, the Python install, post commands, setup_script) mounts each as a BuildKit secret and exports
   * it for the step (`export NAME="$(cat /run/secrets/NAME)"`). The value never reaches an ARG, ENV or layer; the
   * build must pass it (`BuildOptions.secrets`). BuildKit only.
   */
  buildSecrets?: string[]
  /**
   * `--ca-cert`: the BuildKit secret ids of extra CA files (see ca-cert.ts). Every package-install RUN (apt, image
   * commands, the Python install, post commands, setup_script) trusts them for that step only. BuildKit only.
   */
  caSecrets?: string[]
  /**
   * Credentials of the indexes the Bento's requirement files name, for the Python install step only (see
   * `indexSecretId`): each `${VAR}` of an index URL is a BuildKit secret exported as VAR for that step (pip expands
   * it), and `netrc` a secret file the step's `NETRC` points at. Never in an ARG, ENV or layer. BuildKit only.
   */
  indexCredentials?: {variables: string[]; netrc: boolean}
  /** Offline: pip gets `--no-index --find-links` from `WHEELHOUSE_CONTEXT_DIR` in the build context. */
  wheelhouse: boolean
  /** With `wheelhouse`: mount the wheels from this image (see wheelhouse-image.ts) instead of the build context. */
  wheelhouseImage?: string
  /** Image labels (see `imageLabels`). Written as one LABEL instruction at the end. */
  labels: Record<string, string>
  bentoPath: typeof BENTO_PATH
  uid: typeof BENTO_UID
  gid: typeof BENTO_GID
  /** `docker.cuda_version`: the base image is nvidia/cuda and Python comes from the distro's python3. */
  cudaVersion?: string
  /** spec 2 `image.commands` (after the envs, before the Python deps) and `image.post_commands` (right after). */
  commands?: string[]
  postCommands?: string[]
  /** spec 2 `image.build_include`: `src/<path>` copied before the Python deps. */
  buildInclude?: string[]
  /** `env/docker/<file>` the commands run, copied before them. */
  commandFiles?: string[]
  /** The Bento has `env/python/install.sh` (default true); else `env/python/requirements.txt` is installed directly. */
  installScript?: boolean
  /** Installed when the requirements leave bentoml out (no install.sh to do it). */
  bentomlVersion?: string
  /**
   * The Bento's BentoML imports `pkg_resources` (before 1.4.20): after its requirements, `setuptools<81` is installed
   * if they left a setuptools without it (a lock made today pins setuptools 81+, and `import bentoml` then fails).
   */
  ensurePkgResources?: boolean
  /** Spec 2: requirements.txt is a hashed lock (`bento build`): installed with `--require-hashes`. */
  requireHashes?: boolean
  /** Default: `{kind: 'context', present: true}`. */
  models?: ModelSource
  /**
   * `containerize --platform`: the model and wheelhouse images are declared as stages of the build's own platform
   * (`FROM --platform=$BUILDPLATFORM <ref> AS bento-model-<i>` / `bento-wheelhouse`). They hold files only, and their
   * configs say the daemon's architecture: taken by reference in a build for another platform, BuildKit would look
   * for that platform's variant in a registry. The copies are the same bytes either way. BuildKit only.
   */
  crossPlatform?: boolean
  /** The code layer (see `DockerfileInputs.codeDirs`); default: apis, env/docker, src + bento.yaml, README.md. */
  codeDirs?: string[]
  codeFiles?: string[]
}

/** A user `docker.dockerfile_template` (BentoML-style Jinja subset, see user-template.ts). */
export interface UserDockerfileTemplate {
  content: string
  /** Shown in errors, e.g. `<bento>/env/docker/Dockerfile.template`. */
  file: string
}

/** The base image BentoML 1.4.15 would pick for these options. */
export function baseImageFor(opts: {pythonVersion: string; baseImage?: string | null; cudaVersion?: string | null}): string {
  if (opts.baseImage) return opts.baseImage
  if (opts.cudaVersion) {
    const v = opts.cudaVersion === 'default' ? DEFAULT_CUDA_VERSION : opts.cudaVersion
    return `nvidia/cuda:${v}-cudnn8-runtime-ubuntu20.04`
  }
  return `python:${opts.pythonVersion}-slim`
}

const SAFE_PATH = /^[A-Za-z0-9_][A-Za-z0-9_.@+\-/]*$/

/** The HEALTHCHECK command (exec form): the venv's Python probes /readyz; no curl needed in the image. */
export function healthcheckCommand(): string[] {
  const probe = [
    'import os, sys, urllib.request',
    `port = os.environ.get('PORT') or os.environ.get('BENTOML_PORT') or '${SERVE_PORT}'`,
    "sys.exit(0 if urllib.request.urlopen('http://127.0.0.1:%s/readyz' % port, timeout=4).status == 200 else 1)",
  ].join('; ')
  return [`${IMAGE_VENV}/bin/python3`, '-c', probe]
}

function validate(ctx: DockerfileContext): void {
  const problems: Diagnostic[] = []
  const bad = (key: string, message: string, hint?: string): void => {
    problems.push({file: 'bento.yaml', key, message, hint, severity: 'error'})
  }
  // The rules the bentofile check enforces (src/bentoml/image-rules.ts), in its words.
  const broken = (key: string, problem: RuleProblem | undefined): void => {
    if (problem !== undefined) bad(key, problem.message, problem.hint)
  }
  broken('docker.base_image', imageRefProblem(ctx.baseImage))
  if (!/^\d+\.\d+$/.test(ctx.pythonVersion)) bad('docker.python_version', `"${ctx.pythonVersion}" is not MAJOR.MINOR`)
  if (ctx.cudaVersion !== undefined && !/^\d+\.\d+(\.\d+)?$/.test(ctx.cudaVersion)) {
    bad('docker.cuda_version', `"${ctx.cudaVersion}" is not a CUDA version like 11.6.2`)
  }
  ctx.systemPackages.forEach((p, i) => broken(`docker.system_packages[${i}]`, aptPackageProblem(p)))
  const seen = new Set<string>()
  ctx.env.forEach((e, i) => {
    broken(`envs[${i}].name`, envNameProblem(e.name))
    broken(`envs[${i}].value`, envValueProblem(e.name, e.value))
    if (seen.has(e.name)) bad(`envs[${i}].name`, `${e.name} is given twice`)
    seen.add(e.name)
  })
  ;(ctx.buildSecrets ?? []).forEach((name, i) => {
    if (!isEnvName(name)) bad(`envs[${i}].name`, `"${name}" (stage: build) is not a valid environment variable name`, 'use letters, digits and _, not starting with a digit')
  })
  if ((ctx.buildSecrets ?? []).length > 0 && !ctx.buildkit) {
    bad('envs', "stage='build' environment variables require BuildKit", 'enable BuildKit on the daemon (DOCKER_BUILDKIT=1)')
  }
  if ((ctx.caSecrets ?? []).length > 0 && !ctx.buildkit) {
    bad('--ca-cert', 'extra CA certificates reach the build as BuildKit secrets, and the classic builder has none', 'enable BuildKit on the daemon (DOCKER_BUILDKIT=1)')
  }
  const index = ctx.indexCredentials
  for (const name of index?.variables ?? []) {
    if (!isEnvName(name)) bad('python.index_url', `"\${${name}}" is not a variable name pip expands`, 'use upper-case letters, digits and _')
  }
  if (index !== undefined && (index.variables.length > 0 || index.netrc) && !ctx.buildkit) {
    bad('python.index_url', 'the index credentials reach the install step as BuildKit secrets, and the classic builder has none', 'enable BuildKit on the daemon (DOCKER_BUILDKIT=1)')
  }
  ;(ctx.caSecrets ?? []).forEach((id) => {
    if (!/^[a-z0-9-]+$/.test(id)) bad('--ca-cert', `"${id}" is not a build secret id`)
  })
  if (ctx.bentomlVersion !== undefined && !/^[0-9A-Za-z][0-9A-Za-z.+!-]*$/.test(ctx.bentomlVersion)) {
    bad('bentoml_version', `"${ctx.bentomlVersion}" is not a bentoml version`)
  }
  if (ctx.crossPlatform && !ctx.buildkit) bad('--platform', 'an image for another platform is built by BuildKit, and the classic builder is not', 'enable BuildKit on the daemon (DOCKER_BUILDKIT=1)')
  if (ctx.wheelhouseImage !== undefined && !isImageRef(ctx.wheelhouseImage)) bad('wheelhouse', `"${ctx.wheelhouseImage}" is not an image reference`)
  if (ctx.models?.kind === 'images') {
    for (const ref of ctx.models.refs) if (!isImageRef(ref)) bad('models', `"${ref}" is not an image reference`)
  }
  for (const [key, list] of [['image.commands', ctx.commands], ['image.post_commands', ctx.postCommands]] as const) {
    ;(list ?? []).forEach((c, i) => {
      if (/[\r\n]/.test(c)) bad(`${key}[${i}]`, 'the command contains a line break, which a Dockerfile RUN cannot express', 'join the lines with && or ;, or put them in a script (Image.run_script)')
      if (c.trim() === '') bad(`${key}[${i}]`, 'the command is empty')
    })
  }
  const paths: Array<[string, string]> = [
    ...(ctx.buildInclude ?? []).map((p, i): [string, string] => [`image.build_include[${i}]`, p]),
    ...[...(ctx.commandFiles ?? []), ...(ctx.codeDirs ?? []), ...(ctx.codeFiles ?? [])].map((p): [string, string] => ['(bento files)', p]),
  ]
  for (const [key, p] of paths) {
    if (!SAFE_PATH.test(p) || p.split('/').some((part) => part === '..' || part === '.')) {
      bad(key, `"${p}" cannot be copied by a Dockerfile COPY (absolute, "..", spaces or special characters)`)
    }
  }
  for (const k of Object.keys(ctx.labels)) broken(`labels.${k}`, imageLabelKeyProblem(k))
  if (problems.length > 0) throw new ConfigError('Cannot generate a Dockerfile for this Bento', problems)
}

const DEFAULT_CODE_DIRS = ['apis', 'env/docker', 'src']
const DEFAULT_CODE_FILES = ['bento.yaml', 'README.md']

const WHEELHOUSE_MOUNT = '/tmp/bento-wheelhouse'

/**
 * The command that installs the Python dependencies (continuation lines included). With install.sh (spec 1): run
 * it, as BentoML does. Without (spec 2: requirements.txt is already locked): pip-install it from `./src` when
 * `build_include` put files there (paths in it are relative to the project), else from `./env/python`, as
 * BentoML 1.4.40 does with uv; then bentoml itself if the requirements left it out.
 */
function installCommand(ctx: DockerfileContext): string {
  const pip = `pip install --disable-pip-version-check${ctx.wheelhouse ? ` --no-index --find-links ${WHEELHOUSE_MOUNT}` : ''}`
  const pkgResources = ctx.ensurePkgResources ? ` \\\n    && { python3 -c 'import pkg_resources' 2>/dev/null || ${pip} 'setuptools<81'; }` : ''
  if (ctx.installScript ?? true) {
    const offline = ctx.wheelhouse ? `BENTO_PIP_OFFLINE=1 BENTO_WHEELHOUSE=${WHEELHOUSE_MOUNT} \\\n    ` : ''
    return `${offline}bash -euxo pipefail ${ctx.bentoPath}/env/python/install.sh${pkgResources}`
  }
  const bentoml = ctx.bentomlVersion ? ` bentoml==${ctx.bentomlVersion}` : ' bentoml'
  return [
    'cd "$(if [ -d ./src ]; then echo ./src; else echo ./env/python; fi)" \\',
    `    && ${pip}${ctx.requireHashes ? ' --require-hashes' : ''} -r ${ctx.bentoPath}/env/python/requirements.txt \\`,
    `    && { python3 -c 'import bentoml' 2>/dev/null || ${pip}${bentoml}; }${pkgResources}`,
  ].join('\n')
}

/** The view the template sees: every value either validated or quoted by a filter in the template. */
function templateData(ctx: DockerfileContext): Record<string, unknown> {
  const cuda = ctx.cudaVersion !== undefined
  const apt = [
    ...(cuda ? ['python3', 'python3-venv', 'python3-pip'] : []),
    ...(ctx.needsCompilers ? ['build-essential'] : []),
    ...ctx.systemPackages,
  ]
  const aptPackages = [...new Set(apt)]
  const models = ctx.models ?? {kind: 'context', present: true}
  const labels = Object.keys(ctx.labels)
    .sort()
    // A Dockerfile string cannot hold a line break; the exact value can still be passed as a build label.
    .map((key) => ({key, value: (ctx.labels[key] ?? '').replace(/\r?\n/g, ' ')}))
  const secrets = ctx.buildSecrets ?? []
  const ca = caRunParts(ctx.caSecrets ?? [])
  const modelRefs = models.kind === 'images' ? models.refs : []
  const cross = ctx.crossPlatform === true
  const platformStages = cross
    ? [
        ...modelRefs.map((image, i) => ({image, name: `bento-model-${i}`})),
        ...(ctx.wheelhouse && ctx.wheelhouseImage ? [{image: ctx.wheelhouseImage, name: 'bento-wheelhouse'}] : []),
      ]
    : []
  return {
    platformStages,
    // `RUN {{ secretMounts }}{{ secretExports }}<command>`: empty without build secrets and --ca-cert.
    secretMounts: secrets.map((n) => `--mount=type=secret,id=${n} `).join('') + ca.mounts,
    secretExports: secrets.map((n) => `export ${n}="$(cat /run/secrets/${n})"; `).join('') + ca.setup,
    // Only the Python install step reaches the indexes: only it gets their credentials.
    indexMounts: [...(ctx.indexCredentials?.variables ?? []), ...(ctx.indexCredentials?.netrc ? ['netrc'] : [])].map((n) => `--mount=type=secret,id=${indexSecretId(n)} `).join(''),
    indexExports:
      (ctx.indexCredentials?.variables ?? []).map((n) => `export ${n}="$(cat /run/secrets/${indexSecretId(n)})"; `).join('') +
      (ctx.indexCredentials?.netrc ? `export NETRC=/run/secrets/${indexSecretId('netrc')}; ` : ''),
    // The apt step trusts --ca-cert too (build-stage envs are not given to it, as in BentoML).
    caMounts: ca.mounts,
    caSetup: ca.setup,
    baseImage: ctx.baseImage,
    pythonVersion: ctx.pythonVersion,
    cuda,
    needApt: aptPackages.length > 0,
    aptPackages,
    buildkit: ctx.buildkit,
    wheelhouse: ctx.wheelhouse,
    wheelhouseDir: WHEELHOUSE_CONTEXT_DIR,
    wheelhouseImage: cross && ctx.wheelhouseImage ? 'bento-wheelhouse' : (ctx.wheelhouseImage ?? ''),
    setupScript: ctx.setupScript,
    bentoPath: ctx.bentoPath,
    uid: ctx.uid,
    gid: ctx.gid,
    // The rest of BentoML's image runtime contract (src/bentoml/runtime.ts): the template holds none of it.
    user: BENTO_USER,
    venv: IMAGE_VENV,
    bentomlHome: IMAGE_BENTOML_HOME,
    hfCacheDir: IMAGE_HF_CACHE_DIR,
    port: SERVE_PORT,
    envVars: ctx.env,
    commandFiles: ctx.commandFiles ?? [],
    commands: ctx.commands ?? [],
    postCommands: ctx.postCommands ?? [],
    buildInclude: (ctx.buildInclude ?? []).map((p) => p.replace(/\/+$/, '')),
    installCommand: installCommand(ctx),
    contextModels: models.kind === 'context' && models.present,
    modelSplit: models.kind === 'committed' ? MODEL_SPLIT_LINE : '',
    modelImages: cross ? modelRefs.map((_, i) => `bento-model-${i}`) : modelRefs,
    modelChown: ctx.buildkit ? '' : ` --chown=${BENTO_USER}:${BENTO_USER}`,
    codeDirs: ctx.codeDirs ?? DEFAULT_CODE_DIRS,
    codeFiles: (ctx.codeFiles ?? DEFAULT_CODE_FILES).map((f) => `./${f}`).join(' '),
    hasLabels: labels.length > 0,
    labels,
    healthcheck: JSON.stringify(healthcheckCommand()).replaceAll('","', '", "').replace(/^\[/, '[ ').replace(/\]$/, ' ]'),
  }
}

/** The line a Dockerfile rendered with committed models has where the model layers go (a comment to the engine). */
export const MODEL_SPLIT_LINE = '# bento: the model layers are committed here (the build splits at this line)'

/**
 * A Dockerfile rendered with `models: {kind: 'committed'}`, split where the model layers go: `deps`, everything
 * above (the engine builds it: base, system packages, user and venv, Python install, post_commands), and `rest(image)`,
 * code and metadata `FROM` the image that has the model layers committed onto the deps image. Nothing of the first
 * stage but its image config is needed below the line: ENV, WORKDIR and USER (root) are in the config, and every
 * later instruction writes its values out (the template uses no ARG below the models).
 */
export function splitAtModels(dockerfile: string): {deps: string; rest: (image: string) => string} {
  const lines = dockerfile.split('\n')
  const at = lines.indexOf(MODEL_SPLIT_LINE)
  if (at === -1 || lines.indexOf(MODEL_SPLIT_LINE, at + 1) !== -1) throw new BugError('the Dockerfile has no single model split line')
  const deps = `${lines.slice(0, at).join('\n')}\n`
  const below = lines.slice(at + 1).join('\n')
  return {
    deps,
    rest: (image) => {
      if (!isImageRef(image)) throw new BugError(`"${image}" is not an image reference`)
      return `# The Bento's dependency image with its model layers committed (bento containerize).\nFROM ${image}\n${below}`
    },
  }
}

/**
 * Render the Dockerfile for a Bento. Pure apart from reading the shipped `templates/Dockerfile.template`
 * (pass `baseTemplate` to avoid even that). `template` is the user's `docker.dockerfile_template`.
 */
export function renderDockerfile(
  ctx: DockerfileContext,
  template?: string | UserDockerfileTemplate,
  baseTemplate: string = readFileSync(templatePath('Dockerfile.template'), 'utf8'),
): string {
  validate(ctx)
  const user = typeof template === 'string' ? {content: template, file: 'env/docker/Dockerfile.template'} : template
  const overrides = user
    ? userTemplateOverrides(parseUserTemplate(user.content, user.file), userTemplateVariables(ctx))
    : {}
  const withNewline: Record<string, (original: string) => string> = {}
  for (const [k, f] of Object.entries(overrides)) {
    withNewline[k] = (original) => {
      const s = f(original)
      return s === '' || s.endsWith('\n') ? s : `${s}\n`
    }
  }
  return renderNodes(parseTemplate(baseTemplate), templateData(ctx), withNewline)
}
