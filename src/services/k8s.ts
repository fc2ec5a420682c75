/**
 * `bento k8s TAG`: read the Bento (store), find the image reference to deploy — by digest when one is known: given
 * as `REF@sha256:…`, or the engine's RepoDigest of the image (`--image REF` pushed, or the image `bento
 * containerize` tagged for the Bento and pushed since) — then render the objects (src/k8s/manifest.ts, pure).
 * Nothing is written: the command prints the manifest. The Docker engine is optional (no engine: the reference as
 * given, with a warning).
 */
import {locateBentoModels} from '../bento/models-of.js'
import {formatTag} from '../bentoml/tag.js'
import type {ImageClient, ImageInfo} from '../docker/image-client.js'
import {isBentoError} from '../errors.js'
import {type K8sBento, type K8sObject, k8sPlan, type K8sPlan, renderObjects} from '../k8s/manifest.js'
import type {Reporter} from '../reporter.js'
import {dirSize} from '../store/fs-utils.js'
import type {BentoInfo} from '../store/info.js'
import {withBentoReader} from '../store/store.js'

export interface K8sServiceOptions {
  tag: string
  home: string
  /** The engine to read RepoDigests from; null when none is to be asked. */
  images: ImageClient | null
  /** `--image`: a reference (pinned by digest when the engine knows one), else the Bento's own image. */
  image?: string
  namespace?: string
  replicas: number
  maxReplicas?: number
  gpuNodeLabel: string
  readOnlyRootFilesystem: boolean
  format: 'yaml' | 'json'
  reporter: Reporter
}

export interface K8sResult {
  bento: string
  /** The reference the Deployment runs. */
  image: string
  /** How it was found: given with a digest, pinned from the engine's RepoDigests, or a tag as is (not pinned). */
  imageSource: 'given-digest' | 'engine-digest' | 'tag'
  name: string
  namespace?: string
  modelBytes: number
  resources: K8sPlan['resources']
  probes: K8sPlan['probes']
  secret: K8sPlan['secret']
  warnings: string[]
  objects: K8sObject[]
  /** The manifest as printed (`-o yaml|json`). */
  manifest: string
}

const isRecord = (v: unknown): v is Record<string, unknown> => typeof v === 'object' && v !== null && !Array.isArray(v)

/** What the renderer reads of bento.yaml. */
export function k8sBentoOf(info: BentoInfo): K8sBento {
  const raw = info.raw
  const services = Array.isArray(raw.services) ? raw.services.filter(isRecord) : []
  const runners = Array.isArray(raw.runners) ? raw.runners.filter(isRecord) : []
  return {
    name: info.name,
    version: info.version,
    bentomlVersion: info.bentoml_version,
    labels: info.labels,
    envs: info.envs,
    entryService: typeof raw.entry_service === 'string' ? raw.entry_service : info.name,
    services: services.map((s) => ({name: typeof s.name === 'string' ? s.name : '', config: isRecord(s.config) ? s.config : {}})),
    runners: runners.map((r) => ({name: typeof r.name === 'string' ? r.name : '', resourceConfig: isRecord(r.resource_config) ? r.resource_config : null})),
  }
}

/** `repo` of `repo:tag` / `repo@digest` (a registry port's colon is not a tag). */
export function repositoryOf(ref: string): string {
  const at = ref.indexOf('@')
  const noDigest = at === -1 ? ref : ref.slice(0, at)
  const slash = noDigest.lastIndexOf('/')
  const colon = noDigest.lastIndexOf(':')
  return colon > slash ? noDigest.slice(0, colon) : noDigest
}

/** The engine's RepoDigest of `info` in `repo` (else the only one when `repo` is null). */
export function pinnedRef(info: ImageInfo, repo: string | null): string | null {
  const digests = info.repoDigests.filter((d) => d.includes('@sha256:'))
  if (repo === null) return digests.length === 1 ? (digests[0] ?? null) : null
  return digests.find((d) => repositoryOf(d) === repo) ?? null
}

async function resolveImage(opts: K8sServiceOptions, bentoImage: string, warnings: string[]): Promise<{image: string; source: K8sResult['imageSource']}> {
  if (opts.image !== undefined && /@sha256:[0-9a-f]{64}$/.test(opts.image)) return {image: opts.image, source: 'given-digest'}
  let ref = opts.image ?? bentoImage
  let info: ImageInfo | null = null
  if (opts.images !== null) {
    try {
      info = await opts.images.inspect(ref)
      if (info === null && opts.image === undefined) {
        // Containerized under other names (`-t REG/iris:dev`): the newest image labelled with this Bento's tag.
        const labelled = await opts.images.list({label: [`dev.bento.tag=${bentoImage}`]})
        const newest = labelled.filter((i) => i.repoTags.length > 0).sort((a, b) => b.created - a.created)[0]
        if (newest !== undefined) {
          info = await opts.images.inspect(newest.id)
          ref = newest.repoTags[0] ?? ref
        }
      }
    } catch (error) {
      if (!(isBentoError(error) && error.code === 'E_DOCKER_UNAVAILABLE')) throw error
      warnings.push(`no Docker engine answers, so ${ref} is not pinned by digest (${error.message})`)
    }
  }
  const pinned = info === null ? null : pinnedRef(info, opts.image === undefined ? null : repositoryOf(ref))
  if (pinned !== null) return {image: pinned, source: 'engine-digest'}
  if (opts.images !== null && info === null && !warnings.some((w) => w.startsWith('no Docker'))) {
    warnings.push(`the Docker engine has no image ${ref}: the Deployment names it by tag`)
  }
  if (info !== null) {
    warnings.push(
      opts.image === undefined
        ? `${ref} has no registry digest (it was not pushed): give the pushed reference, e.g. --image REGISTRY/${repositoryOf(ref)}@sha256:…`
        : `${ref} has no digest in ${repositoryOf(ref)} (not pushed there yet?): the Deployment names it by tag`,
    )
  }
  return {image: ref, source: 'tag'}
}

export async function k8s(opts: K8sServiceOptions): Promise<K8sResult> {
  const {bento, bentoTag, modelBytes} = await withBentoReader(opts.home, opts.tag, 'k8s', async (b) => {
    let bytes = 0
    for (const m of locateBentoModels(b.path, b.info, opts.home)) if (m.dir !== null) bytes += await dirSize(m.dir)
    return {bento: k8sBentoOf(b.info), bentoTag: formatTag(b.tag), modelBytes: bytes}
  })
  const warnings: string[] = []
  const {image, source} = await resolveImage(opts, bentoTag, warnings)
  const plan = k8sPlan(bento, {
    image,
    namespace: opts.namespace,
    replicas: opts.replicas,
    maxReplicas: opts.maxReplicas,
    modelBytes,
    gpuNodeLabel: opts.gpuNodeLabel,
    readOnlyRootFilesystem: opts.readOnlyRootFilesystem,
  })
  warnings.push(...plan.warnings)
  for (const w of warnings) opts.reporter.warn(w)
  if (plan.secret !== null) {
    opts.reporter.warn(`the Bento's runtime envs ${plan.secret.keys.join(', ')} have no value: create the Secret first:\n  ${plan.secret.command}`)
  }
  return {
    bento: bentoTag,
    image,
    imageSource: source,
    name: plan.name,
    ...(opts.namespace !== undefined ? {namespace: opts.namespace} : {}),
    modelBytes,
    resources: plan.resources,
    probes: plan.probes,
    secret: plan.secret,
    warnings,
    objects: plan.objects,
    manifest: renderObjects(plan.objects, opts.format),
  }
}
