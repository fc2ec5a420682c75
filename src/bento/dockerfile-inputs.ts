import {DEFAULT_PYTHON_VERSION} from '../bentoml/config-facts.js'
import {bentomlFacts} from '../bentoml/versions.js'
import {isPep440Version} from '../bentoml/pep440.js'
import type {FullTag} from '../bentoml/tag.js'
import {LOCK_LABEL} from '../lock/label.js'
import type {BentoInfo} from '../store/info.js'

import {modelsOfBento} from './models-of.js'

/**
 * What the Dockerfile generator needs from a Bento, derived from ONE place: its bento.yaml (typed) and the
 * list of files it holds. `bento build` calls this on the manifest it is about to write (the stored
 * `env/docker/Dockerfile`), `bento containerize` on the stored bento.yaml (the built image): same function, same
 * labels, same steps.
 *
 * Spec 1 (`docker:`, 1.4.15 and legacy services) and spec 2 (`image:`, what BentoML ≥ 1.2 writes for
 * `@bentoml.service` projects and what 1.4.40 writes by default) are both read:
 *
 * | | spec 1 | spec 2 |
 * | --- | --- | --- |
 * | base | `docker.base_image` or `python:<docker.python_version>-slim` (or CUDA) | `image.base_image` |
 * | system step | `docker.system_packages` → one apt layer | `image.commands`, each its own `RUN` (after `envs`, as BentoML) |
 * | Python deps | `env/python/install.sh` | no install.sh: `env/python/requirements.txt` (already locked) installed from `./src` when `image.build_include` put files there, else `./env/python` |
 * | after deps | — | `image.post_commands` |
 * | code | `setup_script` runs last | |
 *
 * Envs: `stage: all` (the default) becomes ARG + ENV; `stage: runtime` is not baked (given at `docker run`, as
 * BentoML 1.4.40); `stage: build` is a build secret (`buildSecrets`, see the containerize service).
 */
export interface DockerfileInputs {
  spec: 1 | 2
  /** `docker.base_image` / `image.base_image` (null: derived from python and CUDA versions). */
  baseImage: string | null
  pythonVersion: string
  /** spec 1 `docker.distro` ('debian' when a base image is set, as BentoML ignores the distro then). */
  distro: string
  systemPackages: string[]
  /** spec 2 `image.commands`: run after the envs, before the Python dependencies. */
  commands: string[]
  /** spec 2 `image.post_commands`: run right after the Python dependencies. */
  postCommands: string[]
  /** spec 2 `image.build_include`: paths under `src/` copied before the Python dependencies are installed. */
  buildInclude: string[]
  /** Files under `env/docker/` that `commands` / `post_commands` run (`run_script` targets), copied before them. */
  commandFiles: string[]
  setupScript: boolean
  /** The Bento carries `env/python/install.sh` (spec 1); else its requirements.txt is installed directly. */
  installScript: boolean
  /**
   * A Bento BentoML locked (spec 1 `requirements.lock.txt`, spec 2 `requirements.txt`) for a BentoML that imports
   * `pkg_resources` (before 1.4.20): a lock made today pins setuptools 81+, which has none, so the install step
   * makes sure `setuptools<81` is there.
   */
  ensurePkgResources: boolean
  /**
   * `bento build` locked the Bento with hashes (its `dev.bento.lock.sha256` label): spec 2 installs requirements.txt
   * with `--require-hashes` (spec 1's install.sh does so itself for a hashed requirements.lock.txt).
   */
  requireHashes: boolean
  /** Baked into the image (ARG + ENV): `docker.env`, then `envs` entries of stage `all`; later names win. */
  env: Array<{name: string; value: string}>
  /** `envs` of stage `build`: needed by the build steps, never in the image. */
  buildSecrets: Array<{name: string; value: string}>
  cudaVersion: string | null
  tag: FullTag
  bentomlVersion: string
  /** Every model the Bento uses, `name:version` (the models-of rule; Hugging Face ones included). */
  models: string[]
  description: string | null
  creationTime: string
  userLabels: Record<string, string>
  /**
   * What the code layer copies, in order: directories (`apis`, `env/docker`, `src`, …) and top-level files
   * (`bento.yaml`, `README.md`). Never `models`, `hf-models` or `env/python` (their own layers).
   */
  codeDirs: string[]
  codeFiles: string[]
  /** The Bento holds a `models/` directory (what a Dockerfile that copies models from the context needs). */
  hasModels: boolean
}

/** Baked into the image: `docker.env`, then `envs` of stage `all`, later names winning; `envs` of stage `build` apart. */
function envsOf(bento: BentoInfo): {env: Array<{name: string; value: string}>; buildSecrets: Array<{name: string; value: string}>} {
  const out = new Map(bento.docker.env.map((e) => [e.name, e.value]))
  const buildSecrets: Array<{name: string; value: string}> = []
  for (const e of bento.envs) {
    if (e.stage === 'runtime') continue
    if (e.stage === 'build') buildSecrets.push({name: e.name, value: e.value})
    else out.set(e.name, e.value)
  }
  return {env: [...out].map(([name, value]) => ({name, value})), buildSecrets}
}

/** Adjacent identical commands run once (BentoML 1.4.40 writes its default apt command twice, §1i of the notes). */
function dedupeAdjacent(commands: string[]): string[] {
  return commands.filter((c, i) => i === 0 || c !== commands[i - 1])
}

/**
 * The Dockerfile inputs of a Bento. `bento` is its bento.yaml, typed (`readBentoInfo` / `parseBentoYaml`); `files`
 * the paths the Bento holds, relative and posix: its files, or a directory as `dir/` (then its files need not be
 * listed); `models/…` only says it has models; `readme` its README.md.
 */
export function dockerfileInputsOf(bento: BentoInfo, files: Iterable<string>, readme: string): DockerfileInputs {
  // A path ending in `/` is a directory (its files need not be listed); `./` prefixes are ignored.
  const given = [...files].map((f) => f.replace(/^\.\/+/, ''))
  const paths = new Set(given.map((f) => f.replace(/\/+$/, '')))
  const has = (rel: string): boolean => paths.has(rel)

  const {docker, image} = bento
  const {env, buildSecrets} = envsOf(bento)

  const commands = image ? dedupeAdjacent(image.commands) : []
  const postCommands = image ? image.post_commands : []
  const commandFiles = [...paths]
    .filter((p) => /^env\/docker\/[^/]+$/.test(p) && p !== 'env/docker/Dockerfile' && [...commands, ...postCommands].some((c) => c.includes(p)))
    .sort()

  // The code layer: every top-level entry but the ones with their own layers; `env/<x>` one by one.
  const tops = new Map<string, 'dir' | 'file'>()
  for (const p of given) {
    const [first, second] = p.split('/')
    if (!first || first === 'models' || first === 'hf-models') continue
    if (first === 'env') {
      if (second && second !== 'python' && p.split('/').length > 2) tops.set(`env/${second}`, 'dir')
      continue
    }
    const kind = p.includes('/') ? 'dir' : 'file'
    if (tops.get(first) !== 'dir') tops.set(first, kind)
  }
  const sorted = [...tops].sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0))

  return {
    spec: image ? 2 : 1,
    baseImage: (image ? image.base_image : docker.base_image) ?? null,
    pythonVersion: (image ? image.python_version : docker.python_version) ?? DEFAULT_PYTHON_VERSION,
    distro: image || docker.base_image ? 'debian' : (docker.distro ?? 'debian'),
    systemPackages: image ? [] : docker.system_packages,
    commands,
    postCommands,
    buildInclude: image ? image.build_include : [],
    commandFiles,
    setupScript: has('env/docker/setup_script'),
    installScript: has('env/python/install.sh'),
    ensurePkgResources: (image !== null || has('env/python/requirements.lock.txt')) && needsPkgResources(bento.bentoml_version),
    requireHashes: /^[0-9a-f]{64}$/.test(bento.labels[LOCK_LABEL] ?? ''),
    env,
    buildSecrets,
    cudaVersion: image ? null : docker.cuda_version,
    tag: {name: bento.name, version: bento.version},
    bentomlVersion: bento.bentoml_version,
    models: modelsOfBento(bento).map((m) => m.tag),
    description: readme,
    // An unquoted YAML timestamp reads as a date: the label has its ISO form (what a quoted one, as BentoML writes, has as is).
    creationTime: bento.raw.creation_time instanceof Date ? bento.creationTime.toISOString() : bento.creation_time,
    userLabels: bento.labels,
    codeDirs: sorted.filter(([, k]) => k === 'dir').map(([p]) => p),
    codeFiles: sorted.filter(([, k]) => k === 'file').map(([p]) => p),
    hasModels: given.some((p) => p.startsWith('models/')),
  }
}

function needsPkgResources(version: string): boolean {
  return isPep440Version(version) && bentomlFacts(version).needsSetuptoolsBelow81
}
