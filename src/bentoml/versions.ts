/**
 * Which BentoML releases `bento` writes for, and what each of them reads and writes.
 * Every version-dependent fact lives here; callers ask `bentomlFacts(target)` instead of comparing versions.
 * Sources: the 1.4.15 and 1.4.40 wheels (`../shared/bentoml-format.md`, `../shared/bentoml-1.4.40.md`).
 */
import {comparePep440, isPep440Version} from './pep440.js'

/**
 * The releases a Bento can target: BentoML 1.4.0–1.4.40 as published on PyPI (1.4.9 and 1.4.31 are not:
 * 1.4.31 was yanked). Oldest first.
 */
export const KNOWN_BENTOML_VERSIONS: readonly string[] = [
  ...range(0, 8),
  ...range(10, 30),
  ...range(32, 40),
].map((patch) => `1.4.${patch}`)

function range(from: number, to: number): number[] {
  return Array.from({length: to - from + 1}, (_, i) => from + i)
}

/** The newest release the tool knows: the default target of `@bentoml.service` projects. */
export const NEWEST_BENTOML = '1.4.40'
export const OLDEST_BENTOML = '1.4.0'
/**
 * The last release that imports runner-style services (`bentoml.Service(..., runners=[...])`) unchanged:
 * from 1.4.16 on, `bentoml.Service` is the new SDK class and `runners=` raises TypeError.
 * `bentoml.legacy.Service` keeps working in every known release.
 */
export const LAST_RUNNER_STYLE_BENTOML = '1.4.15'
/** The first release with `bentoml.legacy` (`bentoml.legacy.Service`). */
export const FIRST_LEGACY_MODULE_BENTOML = '1.4.16'

export function isKnownBentomlVersion(v: string): boolean {
  return isPep440Version(v) && KNOWN_BENTOML_VERSIONS.some((k) => comparePep440(k, v) === 0)
}

/** `1.4.0–1.4.40 (not 1.4.9, 1.4.31)` for messages. */
export function describeKnownVersions(): string {
  return `${OLDEST_BENTOML}–${NEWEST_BENTOML} (not 1.4.9 or 1.4.31, which are not on PyPI)`
}

/** What a BentoML release reads and writes, as far as a build is concerned. */
export interface BentomlFacts {
  version: string
  /** Imports `bentoml.Service(..., runners=[...])` (≤ 1.4.15). */
  servesRunnerStyle: boolean
  /** Has `bentoml.legacy` (`bentoml.legacy.Service`, the runner-style API under its new name): 1.4.16+. */
  hasLegacyModule: boolean
  /** `python.is_src_layout` exists (1.4.38+): python options are read strictly, so older readers reject it; 1.4.38+ always writes it. */
  pythonIsSrcLayout: boolean
  /** `envs[].stage` exists (1.4.31+) and is written on every entry. */
  envStage: boolean
  /** `image.build_include` is written (1.4.31, and 1.4.36+; 1.4.32–1.4.35 reverted it). Readers ignore unknown image keys. */
  imageBuildInclude: boolean
  /**
   * Spec 2: `python.packages` is ignored when `python.requirements_txt` is set (1.4.19+); before, the image
   * installs both. (Spec 1 has always ignored `packages` then.)
   */
  imageIgnoresPackagesWithRequirementsTxt: boolean
  /** Spec 2: `system_packages` are shell-quoted into the install command (1.4.37+). */
  systemPackagesShellQuoted: boolean
  /** The debian install command carries `-o Dpkg::Options::=--force-confdef` (1.4.29+). */
  aptInstallForceConfdef: boolean
  /**
   * `import bentoml` needs `pkg_resources` (< 1.4.20 imports PyFilesystem's `fs`), which setuptools 81+ no longer
   * ships: a fresh venv then needs `setuptools<81`.
   */
  needsSetuptoolsBelow81: boolean
}

export function bentomlFacts(version: string): BentomlFacts {
  const atLeast = (v: string): boolean => comparePep440(version, v) >= 0
  return {
    version,
    servesRunnerStyle: !atLeast('1.4.16'),
    hasLegacyModule: atLeast('1.4.16'),
    pythonIsSrcLayout: atLeast('1.4.38'),
    envStage: atLeast('1.4.31'),
    imageBuildInclude: comparePep440(version, '1.4.31') === 0 || atLeast('1.4.36'),
    imageIgnoresPackagesWithRequirementsTxt: atLeast('1.4.19'),
    systemPackagesShellQuoted: atLeast('1.4.37'),
    aptInstallForceConfdef: atLeast('1.4.29'),
    needsSetuptoolsBelow81: !atLeast('1.4.20'),
  }
}
