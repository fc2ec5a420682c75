import {UsageError} from '../errors.js'

/** A push target: `REGISTRY/REPOSITORY[:TAG]`, with the base URL its API lives at. */
export interface RegistryReference {
  /** `host[:port]` as written (`docker.io` for Docker Hub). */
  registry: string
  /** The repository path, e.g. `team/iris` (`library/x` on Docker Hub for a one-component name). */
  repository: string
  tag: string
  /** `https://host` or, for a loopback registry, `http://host` (the Docker engine's own insecure default). */
  baseUrl: string
}

const COMPONENT = /^[a-z0-9]+(?:(?:[._]|__|-+)[a-z0-9]+)*$/
const TAG = /^[A-Za-z0-9_][A-Za-z0-9_.-]{0,127}$/

/**
 * An image reference as `-t`/`--base-image` take it: lowercase repository components, an optional registry port and
 * tag; no digest.
 */
const IMAGE_REF = /^[a-z0-9]+(?:(?:[._]|__|-+)[a-z0-9]+)*(?::[0-9]+)?(?:\/[a-z0-9]+(?:(?:[._]|__|-+)[a-z0-9]+)*)*(?::[A-Za-z0-9_][A-Za-z0-9_.-]{0,127})?$/

export function isImageReference(ref: string): boolean {
  return IMAGE_REF.test(ref)
}

/** Loopback hosts speak plain HTTP, as the Docker engine treats 127.0.0.0/8 as an insecure registry. */
export function isLoopback(registry: string): boolean {
  const host = registry.replace(/:\d+$/, '').replace(/^\[|\]$/g, '')
  return host === 'localhost' || host === '::1' || /^127\.\d+\.\d+\.\d+$/.test(host)
}

/**
 * The registry host of an image reference, the Docker CLI's rule: the first component when the reference has more
 * than one and it has a dot or a port or is `localhost`, else `docker.io`. Pure; `containerize --push` (its
 * credentials) and `parseReference` both read it.
 */
export function registryOf(ref: string): string {
  const first = ref.split('/')[0] ?? ''
  if (ref.includes('/') && (first.includes('.') || first.includes(':') || first === 'localhost')) return first
  return 'docker.io'
}

/**
 * Parse an image reference for a push, the Docker CLI's way: the first component is the registry when it has a dot
 * or a port or is `localhost`, else Docker Hub. A digest reference is refused (a push names a tag). Pure.
 */
export function parseReference(ref: string): RegistryReference {
  const bad = (why: string): UsageError =>
    new UsageError(`"${ref}" is not an image reference to push to: ${why}`, {hint: 'e.g. 127.0.0.1:5000/iris:1 or ghcr.io/team/iris:1'})
  if (ref.includes('@')) throw bad('a push names a tag, not a digest')
  const registry = registryOf(ref)
  let rest = registry === 'docker.io' && !ref.startsWith('docker.io/') ? ref : ref.slice(registry.length + 1)
  let tag = 'latest'
  const slash = rest.lastIndexOf('/')
  const colon = rest.lastIndexOf(':')
  if (colon > slash) {
    tag = rest.slice(colon + 1)
    rest = rest.slice(0, colon)
  }
  if (!TAG.test(tag)) throw bad(`the tag "${tag}" is not valid`)
  const components = rest.split('/')
  if (rest === '' || components.some((c) => !COMPONENT.test(c))) throw bad('repository names are lowercase letters, digits and . _ - separated by /')
  const repository = registry === 'docker.io' && components.length === 1 ? `library/${rest}` : rest
  const apiHost = registry === 'docker.io' ? 'registry-1.docker.io' : registry
  return {registry, repository, tag, baseUrl: `${isLoopback(registry) ? 'http' : 'https'}://${apiHost}`}
}
