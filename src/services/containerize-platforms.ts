/**
 * `bento containerize --platform A,B --push`: after each platform's image is built (services/containerize.ts), push
 * each under its platform tag (`REG/iris:1-linux-arm64`, through the engine or bento's registry client), then write
 * the OCI image index that names them as the tag itself (`REG/iris:1`). Layers the platforms share (the model layers:
 * the same bytes on every platform) go up once: the second push finds them with HEAD.
 */
import {existsSync} from 'node:fs'

import {type ImageClient, type ImageInfo, type ImagePlatform, parsePlatforms, perPlatformValues, resolveRegistryAuth} from '../docker/index.js'
import {DockerBuildError, isBentoError, NotFoundError, RegistryError, UsageError} from '../errors.js'
import {imageIndex, isImageReference, parseReference, RegistryClient} from '../registry/index.js'
import type {Reporter} from '../reporter.js'
import {type PushedBlob, pushImage} from './push.js'

/** What `--platform`, `--base-image` and `--wheelhouse PLATFORM=DIR` ask for, checked before anything is read. */
export interface PlatformPlan {
  platforms: ImagePlatform[]
  baseImages: ReturnType<typeof perPlatformValues>
  wheelhouses: ReturnType<typeof perPlatformValues>
}

export function platformPlan(opts: {
  platforms?: string[]
  baseImages?: string[]
  wheelhouse?: string
  platformWheelhouses?: string[]
  output?: unknown
}): PlatformPlan {
  const platforms = parsePlatforms(opts.platforms ?? [])
  const baseImages = perPlatformValues(opts.baseImages ?? [], '--base-image', platforms)
  for (const ref of [baseImages.all, ...baseImages.byPlatform.values()]) {
    if (ref !== undefined && !isImageReference(ref)) throw new UsageError(`--base-image "${ref}" is not an image reference`, {hint: 'e.g. --base-image linux/arm64=python:3.11-slim-linux-arm64'})
  }
  const wheelhouses = perPlatformValues([...(opts.wheelhouse ? [opts.wheelhouse] : []), ...(opts.platformWheelhouses ?? [])], '--wheelhouse', platforms)
  for (const dir of [wheelhouses.all, ...wheelhouses.byPlatform.values()]) {
    if (dir !== undefined && !existsSync(dir)) throw new NotFoundError(`--wheelhouse directory ${dir} does not exist`, {hint: 'fill it with `pip download -d DIR ...`'})
  }
  if (opts.output && platforms.length > 1) {
    throw new UsageError(`--output writes one image; --platform asks for ${platforms.length} (${platforms.map((p) => p.name).join(', ')})`, {
      hint: 'write one platform at a time (--platform linux/arm64 --output oci:DIR), or push them as one OCI index (--push)',
    })
  }
  return {platforms, baseImages, wheelhouses}
}

export interface PlatformImage {
  platform: ImagePlatform
  imageId: string
  info: ImageInfo
  /** Its local tags, one per `-t`, in the order of the targets: `<target>-linux-arm64`. */
  tags: string[]
}

export interface PlatformPush {
  platform: string
  tag: string
  digest: string
  size: number
  mediaType: string
  uploadedBytes: number
  blobs?: PushedBlob[]
  layersPushed?: number
  layersExisting?: number
  /** Engine push: per layer (the engine's 12-digit id of its diff id), uploaded or already there. */
  layers?: Array<{id: string; action: 'pushed' | 'existing'}>
}

export interface IndexPush {
  /** The tag the index was written as. */
  tag: string
  digest: string
  mediaType: string
  manifests: PlatformPush[]
  /** Blob bytes the platform pushes sent, in all. */
  uploadedBytes: number
}

export interface PushPlatformsOptions {
  images: PlatformImage[]
  /** The `-t` references that name a registry, each written as an index. */
  targets: string[]
  direct: boolean
  client: ImageClient
  dockerConfigDir: string
  reporter: Reporter
  signal?: AbortSignal
}

/** Push every platform image, then write one index per target. */
export async function pushPlatformIndex(opts: PushPlatformsOptions, allTargets: string[]): Promise<IndexPush[]> {
  const out: IndexPush[] = []
  for (const target of opts.targets) {
    const i = allTargets.indexOf(target)
    const ref = parseReference(target)
    const auth = await resolveRegistryAuth(`${ref.registry}/${ref.repository}`, {configDir: opts.dockerConfigDir})
    const credentials = auth ? {username: auth.username, password: auth.password, identitytoken: auth.identitytoken} : undefined
    const registry = new RegistryClient(ref, credentials, {signal: opts.signal})
    const manifests: PlatformPush[] = []
    for (const img of opts.images) {
      const tag = img.tags[i] as string
      const pushed = await pushOne(opts, img, tag)
      // The descriptor as the registry serves it: an engine push writes a Docker schema 2 manifest, bento's an OCI one.
      const d = await registry.manifestDescriptor(pushed.digest)
      if (d === null) {
        throw new RegistryError(`${ref.registry} has no manifest ${pushed.digest} right after its push: no index was written`, {
          hint: 'the registry dropped the manifest (a garbage collection?); run the push again',
        })
      }
      manifests.push({platform: img.platform.name, tag, ...pushed, digest: d.digest, size: d.size, mediaType: d.mediaType})
    }
    const index = imageIndex(
      manifests.map((m, k) => {
        const p = (opts.images[k] as PlatformImage).platform
        return {mediaType: m.mediaType, digest: m.digest, size: m.size, platform: {os: p.os, architecture: p.architecture, ...(p.variant ? {variant: p.variant} : {})}}
      }),
    )
    const digest = await registry.putManifest(ref.tag, index.body, index.mediaType)
    const uploadedBytes = manifests.reduce((n, m) => n + m.uploadedBytes, 0)
    opts.reporter.log(`Pushed ${target}: an OCI image index of ${manifests.map((m) => m.platform).join(', ')} (${digest})`)
    out.push({tag: target, digest, mediaType: index.mediaType, manifests, uploadedBytes})
  }
  return out
}

async function pushOne(opts: PushPlatformsOptions, img: PlatformImage, tag: string): Promise<Omit<PlatformPush, 'platform' | 'tag' | 'size' | 'mediaType'>> {
  if (opts.direct) {
    const r = await pushImage({image: img.imageId, info: img.info, ref: tag, images: opts.client, dockerConfigDir: opts.dockerConfigDir, reporter: opts.reporter, signal: opts.signal})
    return {digest: r.digest, uploadedBytes: r.uploadedBytes, blobs: r.blobs}
  }
  opts.reporter.log(`Pushing ${tag} (${img.platform.name})`)
  const auth = await resolveRegistryAuth(tag, {configDir: opts.dockerConfigDir})
  const r = await opts.client.push(tag, {
    auth,
    signal: opts.signal,
    onProgress: (e) => {
      if (e.status && !e.progress) opts.reporter.log(`  ${e.id ? `${e.id}: ` : ''}${e.status}`)
    },
  })
  opts.reporter.log(`Pushed ${tag}: ${r.layersPushed} layer(s), ${r.uploadedBytes} bytes uploaded, ${r.layersExisting} already in the registry`)
  return {digest: r.digest, uploadedBytes: r.uploadedBytes, layersPushed: r.layersPushed, layersExisting: r.layersExisting, ...(r.layers ? {layers: r.layers} : {})}
}

/**
 * A build error of one platform's image, in the words of `--platform`: its base image is not there for that platform
 * (`E_PLATFORM_BASE_IMAGE`), or its RUN steps cannot execute (no QEMU: `exec format error`, `E_PLATFORM_EMULATION`).
 * Anything else is returned as it came.
 */
export function platformBuildError(error: unknown, platform: ImagePlatform, baseImage: string, native: boolean): unknown {
  if (!isBentoError(error)) return error
  const data = {...(error.data ?? {}), platform: platform.name, baseImage}
  if (error.code === 'E_DOCKER_BASE_IMAGE' && error.data?.image !== undefined && sameImage(String(error.data.image), baseImage)) {
    return new DockerBuildError(`The base image ${baseImage} has no ${platform.name} variant here: ${error.message}`, {
      code: 'E_PLATFORM_BASE_IMAGE',
      cause: error,
      data,
      hint: `give a local ${platform.name} image with --base-image ${platform.name}=REF (on a machine without registry access, scripts/provision/platform-arm64.sh builds python:3.11-slim-linux-arm64), or pull one: docker pull --platform ${platform.name} ${baseImage}`,
    })
  }
  const log = `${error.message}\n${typeof error.data?.log === 'string' ? error.data.log : ''}`
  if (!native && /exec format error/i.test(log)) {
    return new DockerBuildError(`A RUN step of the ${platform.name} image cannot execute on this host (exec format error): QEMU user emulation is missing`, {
      code: 'E_PLATFORM_EMULATION',
      cause: error,
      data,
      hint: 'run scripts/provision/platform-arm64.sh as root on the daemon\'s host (qemu-user-static, binfmt_misc), or build on a machine of that platform',
    })
  }
  return error
}

function sameImage(a: string, b: string): boolean {
  const norm = (r: string): string => r.replace(/^docker\.io\/(library\/)?/, '').replace(/^([^/:]+)$/, '$1:latest')
  return norm(a) === norm(b) || norm(a).endsWith(`/${norm(b)}`)
}
