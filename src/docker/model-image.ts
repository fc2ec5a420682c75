import {createHash} from 'node:crypto'
import path from 'node:path'

import {formatTag} from '../bentoml/tag.js'
import {BENTO_GID, BENTO_PATH, BENTO_UID} from './dockerfile.js'
import {type ContextEntry, packContext, walkDir} from './context.js'

/**
 * Model images: each model version becomes its own image, `bento-model/<name>:<version>`, holding exactly one
 * layer: `/home/bentoml/bento/models/<name>/<version>/…` (the runtime contract's place), owned by bentoml
 * (1034:1034), every entry's mtime fixed at 1980-01-01, directories 0755, files 0644 (0755 when executable).
 *
 * The layer is written here, as a tar streamed from the model directory, and handed to the daemon as an image
 * import (`POST /images/create?fromSrc=-`, labels as `LABEL` changes): the daemon unpacks it once into its layer
 * store. A BuildKit build of the same layer costs four passes over the model (the uploaded context stored, unpacked,
 * copied by `COPY`, exported), which made a first or `--no-cache` containerize of a 4 GiB model 1.7× slower
 * than `bentoml containerize` (bench P5).
 *
 * Deterministic: the layer is a function of the model's files only. A Bento image takes it with
 * `COPY --from=bento-model/<name>:<version> / /` placed after the Python dependencies; BuildKit copies the entries
 * with their metadata onto the same paths, so the layer it commits holds the same entries whatever the layers below
 * and whichever machine: the same diff ID in every Bento image that uses the model (not the model image's own diff
 * ID, which is the hash of this tar as written here, not as BuildKit writes it). Registries therefore store it once
 * for every Bento that uses the model, a push after a code edit uploads only the code layers, and the Bento
 * image's build context holds no model byte.
 *
 * A model image is imported once per model version (and again only when the model's file manifest changes, or with
 * `--no-cache`); its labels say what it holds (`dev.bento.kind=model`, `dev.bento.model.*`) and which home made it
 * (`dev.bento.home`), so `bento prune` can remove those of its home that no Bento image uses.
 *
 * Names (issue 15, E12): `bento-model.invalid/h<home id>/<name>:<version>`.
 * - The registry part is a host under `.invalid` (RFC 2606: never resolves), so a model image that is missing when
 *   the Bento image is built is an error, never a pull: nobody can serve files into a Bento image under that name
 *   (`bento-model/<name>` would be looked up on Docker Hub, where anyone may own the `bento-model` namespace).
 * - The home part makes the tag this home's own: another home that needs the same model version tags the same image
 *   (no byte copied) under its own name, and a prune removes only its home's tags; the image goes once no tag is left.
 */

/** The registry-like prefix of model image names: a host that no DNS resolves. */
export const MODEL_IMAGE_HOST = 'bento-model.invalid'
/** The repository prefix of model images made before home-scoped names (`bento-model/<name>:<version>`). */
export const LEGACY_MODEL_IMAGE_REPO = 'bento-model'
/** The label that names the home that made an image (its home id, store/image-leases.ts). */
export const HOME_LABEL = 'dev.bento.home'
/**
 * Bumped when the layer layout changes, so an old model image is rebuilt rather than reused. 2: the layer holds
 * `models/<name>/latest` (format 1 did not, and BentoML wrote it at start: impossible on a read-only root file system).
 */
export const MODEL_LAYER_FORMAT = '2'
export const MODEL_KIND_LABEL = 'dev.bento.kind'

const PATH_COMPONENT = /^[a-z0-9]+(?:(?:[._]|__|-+)[a-z0-9]+)*$/
const TAG = /^[A-Za-z0-9_][A-Za-z0-9_.-]{0,127}$/

/** `bento-model.invalid/h<home id>`: where this home's model images are named. */
export function modelImageNamespace(homeId: string): string {
  return `${MODEL_IMAGE_HOST}/h${homeId}`
}

/**
 * `bento-model.invalid/h<home id>/<name>:<version>`. A BentoML model name that is not a valid Docker path component
 * (`a___b`) or a version that is not a valid Docker tag gets a stable hashed form instead.
 */
export function modelImageRef(name: string, version: string, homeId: string): string {
  const repo = PATH_COMPONENT.test(name) && name.length <= 100 ? name : `m-${createHash('sha256').update(name).digest('hex').slice(0, 20)}`
  const tag = TAG.test(version) ? version : `v-${createHash('sha256').update(version).digest('hex').slice(0, 20)}`
  return `${modelImageNamespace(homeId)}/${repo}:${tag}`
}

export interface ModelImageIdentity {
  name: string
  version: string
  /** `huggingface` for a Hugging Face model (identified by its tag: the md5 of model id, commit and patterns). */
  registry?: 'bentoml' | 'huggingface'
  /** The model directory's manifest key (paths, sizes, mtimes): what decides whether the image is up to date. */
  manifestKey: string
  /** The model's content digest (sha256 hex) when known without reading the model (cached by `bento build`). */
  digest?: string | null
  size: number
  /** The home that makes the image (its id): the `dev.bento.home` label. */
  homeId?: string
}

export function modelImageLabels(m: ModelImageIdentity): Record<string, string> {
  return {
    [MODEL_KIND_LABEL]: 'model',
    'dev.bento.model.tag': formatTag(m),
    'dev.bento.model.name': m.name,
    'dev.bento.model.version': m.version,
    'dev.bento.model.manifest': m.manifestKey,
    'dev.bento.model.size': String(m.size),
    'dev.bento.model.layer-format': MODEL_LAYER_FORMAT,
    'dev.bento.model.registry': m.registry ?? 'bentoml',
    ...(m.digest ? {'dev.bento.model.digest': `sha256:${m.digest}`} : {}),
    ...(m.homeId ? {[HOME_LABEL]: m.homeId} : {}),
  }
}

/** Whether an existing model image (its labels) holds this model as it is now. */
export function modelImageIsCurrent(labels: Record<string, string>, m: ModelImageIdentity): boolean {
  if (labels[MODEL_KIND_LABEL] !== 'model' || labels['dev.bento.model.tag'] !== formatTag(m)) return false
  if (labels['dev.bento.model.layer-format'] !== MODEL_LAYER_FORMAT) return false
  // A Hugging Face tag's version is the md5 of what is fetched (model id, commit, include/exclude): the tag is the identity.
  if (m.registry === 'huggingface') return labels['dev.bento.model.registry'] === 'huggingface'
  if (labels['dev.bento.model.manifest'] === m.manifestKey) return true
  // Another copy of the same model (e.g. the Bento's own models/ vs the store): same content digest.
  return Boolean(m.digest) && labels['dev.bento.model.digest'] === `sha256:${m.digest}`
}

/**
 * Committed model layers (issue 18, P5): for a Bento whose models are big (containerize's `commitModelsFrom`), no
 * model image is made. The engine builds the Bento image's dependency stage (everything up to the Python install and
 * `post_commands`); each model's layer tar (`modelLayerTar`, the same entries) is extracted into a container of that
 * image and committed (`ImageClient.commitLayer`), one layer per model; the engine then builds code and metadata
 * `FROM` the result. The daemon passes over the model twice (unpack, then diff + sha256), against three for a model
 * image (import, `COPY --from`, export of the Bento image's copy).
 *
 * The committed layer is the daemon's tar of the container's changes: the entries of `modelLayerTar` with their
 * owners, modes and mtimes, and the directories above them (`/home`, `/home/bentoml`, …) as the tar sets them, not as
 * the image below had them. Measured on Docker 20.10 (2026-12-06): the same model committed onto two different
 * dependency images and onto an arm64 one gave one diff ID, so the layer is one blob across platforms, requirement
 * changes and Bentos, as a model image's copy is.
 *
 * The result is tagged `bento-model.invalid/h<home id>/assembled/models:<key>` (two path components: no model
 * image's name, `<namespace>/<name>`, can be it), the key a hash of the dependency image's id and the models'
 * identities, so a containerize with the same dependencies and models reuses it without a byte. It carries no label
 * of its own: its config is the dependency image's, and the Bento image inherits it.
 */
export const COMMITTED_MODELS_REPO = 'assembled/models'

/** `bento-model.invalid/h<home id>/assembled/models`: this home's committed-model images. */
export function committedModelsRepo(homeId: string): string {
  return `${modelImageNamespace(homeId)}/${COMMITTED_MODELS_REPO}`
}

/** The committed-model image of these models on this dependency image (its id), in this home. */
export function committedModelsRef(homeId: string, depsImageId: string, models: Array<{name: string; version: string; manifestKey: string}>): string {
  const key = createHash('sha256')
    .update(JSON.stringify({format: MODEL_LAYER_FORMAT, deps: depsImageId, models: models.map((m) => [m.name, m.version, m.manifestKey])}))
    .digest('hex')
    .slice(0, 32)
  return `${committedModelsRepo(homeId)}:${key}`
}

/** The history line of a committed model layer (`docker history`'s CREATED BY). */
export function modelLayerCreatedBy(m: {name: string; version: string}): string {
  return `bento: model ${formatTag(m)} in ${modelContainerPath(m)}`
}

/** Where a model's files are in the image: store models under models/, Hugging Face ones under hf-models/. */
export function modelContainerPath(m: {name: string; version: string; hfRepoFolder?: string}): string {
  return m.hfRepoFolder === undefined ? `${BENTO_PATH}/models/${m.name}/${m.version}` : `${BENTO_PATH}/hf-models/${m.hfRepoFolder}`
}

/**
 * The model image's only layer, streamed from the model directory (never copied): `home/bentoml/bento/…/<version>/…`
 * with fixed owners, modes and mtimes (`/home` root's, everything below bentoml's). Imported as is by the daemon.
 *
 * A store model's layer also holds `models/<name>/latest` (its version, no newline, as BentoML's Store writes it):
 * a service that loads `<name>:latest` reads it, and BentoML writes it when it is missing (`Store._recreate_latest`),
 * which fails on a read-only root file system (`bento k8s`'s default). A Bento with two versions of one model is
 * left with the `latest` of the model image copied last.
 */
export function modelLayerTar(m: {name: string; version: string; dir: string; hfRepoFolder?: string}): NodeJS.ReadableStream {
  const entries = async (): Promise<ContextEntry[]> => {
    const owned = {uid: BENTO_UID, gid: BENTO_GID}
    const target = modelContainerPath(m)
    const out: ContextEntry[] = [{name: 'home', kind: 'dir'}]
    // /home/bentoml, /home/bentoml/bento, …: bentoml's, as in the Bento image.
    const parts = target.split('/').filter(Boolean)
    for (let i = 2; i <= parts.length; i++) out.push({name: parts.slice(0, i).join('/'), kind: 'dir', ...owned})
    const files: ContextEntry[] = []
    await walkDir(m.dir, target.slice(1), undefined, files)
    for (const f of files) out.push({...f, ...owned})
    if (m.hfRepoFolder === undefined) out.push({name: path.posix.join(path.posix.dirname(target.slice(1)), 'latest'), kind: 'inline', content: Buffer.from(m.version), ...owned})
    return out.sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0))
  }
  return packContext(entries, path.resolve(m.dir))
}
