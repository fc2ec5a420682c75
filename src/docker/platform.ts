/**
 * `bento containerize --platform`: the image platforms bento builds, the per-platform flag values
 * (`--base-image linux/arm64=REF`, `--wheelhouse linux/arm64=DIR`), the local name of each platform's image, and
 * whether this host can run a foreign platform's RUN steps (QEMU user emulation registered in binfmt_misc).
 */
import {readFileSync} from 'node:fs'

import {DockerBuildError, UsageError} from '../errors.js'

export interface ImagePlatform {
  /** `linux/amd64`: what `--platform` takes and BuildKit's `platform` build option. */
  name: string
  os: 'linux'
  /** GOARCH, as image configs and OCI index entries say it. */
  architecture: 'amd64' | 'arm64'
  variant?: 'v8'
  /** The machine name `uname -m` prints, and the binfmt_misc entry of its QEMU (`qemu-<machine>`). */
  machine: 'x86_64' | 'aarch64'
}

export const IMAGE_PLATFORMS: readonly ImagePlatform[] = [
  {name: 'linux/amd64', os: 'linux', architecture: 'amd64', machine: 'x86_64'},
  {name: 'linux/arm64', os: 'linux', architecture: 'arm64', variant: 'v8', machine: 'aarch64'},
]

const ALIASES: Record<string, string> = {'linux/arm64/v8': 'linux/arm64', 'linux/x86_64': 'linux/amd64', 'linux/aarch64': 'linux/arm64'}

function platformNamed(raw: string): ImagePlatform | undefined {
  const name = raw.trim().toLowerCase()
  return IMAGE_PLATFORMS.find((p) => p.name === (ALIASES[name] ?? name))
}

function unknownPlatform(raw: string, flag: string): UsageError {
  return new UsageError(`${flag} "${raw}" is not a platform bento builds images for`, {
    hint: `use ${IMAGE_PLATFORMS.map((p) => p.name).join(', ')} (several: comma-separated, e.g. --platform linux/amd64,linux/arm64)`,
    data: {platform: raw, accepted: IMAGE_PLATFORMS.map((p) => p.name)},
  })
}

/** `--platform` values (repeatable, each comma-separated) → the platforms, in the order given, each once. */
export function parsePlatforms(values: readonly string[]): ImagePlatform[] {
  const out: ImagePlatform[] = []
  for (const raw of values.flatMap((v) => v.split(','))) {
    if (raw.trim() === '') throw unknownPlatform(raw, '--platform')
    const p = platformNamed(raw)
    if (p === undefined) throw unknownPlatform(raw.trim(), '--platform')
    if (!out.includes(p)) out.push(p)
  }
  return out
}

/** `linux/arm64=VALUE` → its platform part and value; `VALUE` → no platform. */
export function splitPlatformValue(v: string): {platform?: string; value: string} {
  const m = /^([a-z0-9_]+\/[a-z0-9_]+(?:\/v\d)?)=(.*)$/i.exec(v)
  return m === null ? {value: v} : {platform: m[1] as string, value: m[2] as string}
}

/**
 * A flag that takes `VALUE` (every platform) or `PLATFORM=VALUE` (that one), repeatable: the value for each platform.
 * A platform named that is not built is a usage error (a typo would otherwise be ignored silently).
 */
export function perPlatformValues(values: readonly string[], flag: string, platforms: readonly ImagePlatform[]): {all?: string; byPlatform: Map<string, string>} {
  let all: string | undefined
  const byPlatform = new Map<string, string>()
  for (const v of values) {
    const {platform, value} = splitPlatformValue(v)
    if (platform === undefined) {
      if (all !== undefined && all !== v) throw new UsageError(`${flag} is given twice without a platform ("${all}", "${v}")`, {hint: `name the platform: ${flag} linux/arm64=VALUE`})
      all = v
      continue
    }
    const p = platformNamed(platform)
    if (p === undefined) throw unknownPlatform(platform, flag)
    if (!platforms.includes(p)) {
      throw new UsageError(`${flag} names ${p.name}, which is not built (--platform ${platforms.map((x) => x.name).join(',') || '(none)'})`, {
        hint: `add it to --platform, or drop the ${flag} for it`,
      })
    }
    byPlatform.set(p.name, value)
  }
  return {all, byPlatform}
}

/** The local name of one platform's image of a multi-platform build: the tag with `-linux-arm64` appended. */
export function platformImageTag(ref: string, platform: ImagePlatform): string {
  const slash = ref.lastIndexOf('/')
  const colon = ref.lastIndexOf(':')
  const suffix = platform.name.replaceAll('/', '-')
  return colon > slash ? `${ref}-${suffix}` : `${ref}:latest-${suffix}`
}

/** `GET /version`'s `Arch` (GOARCH) → the platform the daemon builds natively. */
export function nativePlatform(arch: string | undefined): ImagePlatform | undefined {
  return IMAGE_PLATFORMS.find((p) => p.architecture === arch || p.machine === arch)
}

/**
 * A foreign platform's RUN steps run under QEMU user emulation: the kernel hands its binaries to `qemu-<machine>`
 * through binfmt_misc, which must be mounted and hold an enabled entry with the F flag (the interpreter opened at
 * registration, so it works inside a container's root file system). Checked on this host, so only when the daemon
 * runs here. Null when fine, else the error with the fix.
 */
export function emulationProblem(platform: ImagePlatform, binfmtDir = '/proc/sys/fs/binfmt_misc'): DockerBuildError | null {
  const fix = 'run scripts/provision/platform-arm64.sh as root (Debian: apt-get install qemu-user-static binfmt-support; mount -t binfmt_misc binfmt_misc /proc/sys/fs/binfmt_misc; update-binfmts --enable qemu-aarch64), or build on a machine of that platform'
  let entry: string
  try {
    entry = readFileSync(`${binfmtDir}/qemu-${platform.machine}`, 'utf8')
  } catch {
    let mounted = false
    try {
      mounted = readFileSync(`${binfmtDir}/status`, 'utf8').trim() !== ''
    } catch {
      // not mounted
    }
    return new DockerBuildError(
      `Building for ${platform.name} on this host needs QEMU user emulation, and ${mounted ? `binfmt_misc has no qemu-${platform.machine} entry` : `binfmt_misc is not mounted (${binfmtDir})`}`,
      {code: 'E_PLATFORM_EMULATION', hint: fix, data: {platform: platform.name, binfmt: `${binfmtDir}/qemu-${platform.machine}`}},
    )
  }
  if (!/^enabled$/m.test(entry)) {
    return new DockerBuildError(`Building for ${platform.name} needs QEMU user emulation, and binfmt_misc's qemu-${platform.machine} entry is disabled`, {
      code: 'E_PLATFORM_EMULATION',
      hint: `update-binfmts --enable qemu-${platform.machine}, or ${fix}`,
      data: {platform: platform.name},
    })
  }
  const flags = /^flags:\s*(\S*)/m.exec(entry)?.[1] ?? ''
  if (!flags.includes('F')) {
    return new DockerBuildError(`Building for ${platform.name} needs QEMU registered with the F (fix-binary) flag, and qemu-${platform.machine} has flags "${flags}": containers cannot find its interpreter`, {
      code: 'E_PLATFORM_EMULATION',
      hint: `install Debian's qemu-user-static (it registers with F), or ${fix}`,
      data: {platform: platform.name, flags},
    })
  }
  return null
}
