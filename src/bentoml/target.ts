/**
 * The target BentoML version of a Bento: the release its image installs and whose reader the Bento is written for.
 *
 * 1. an exact pin in the user's requirements (`bentoml==1.4.22`, extras allowed), wherever it is written (see
 *    `BentomlRequirement`); two exact pins that disagree are an error at both;
 * 2. else `--bentoml-version`;
 * 3. else the newest `context.bentoml_version` of the models the Bento packs (1.4.0 or newer);
 * 4. else the newest release the tool knows, or — when a range excludes it (`bentoml<1.4`) — the newest known release
 *    every range admits.
 *
 * A runner-style service (`bentoml.Service(..., runners=[...])`) is imported only up to 1.4.15: it defaults to
 * 1.4.15 (models saved by a newer BentoML do not raise it), and asking for a newer target is an error.
 * `bentoml.legacy.Service` exists from 1.4.16 on and is not capped. Every other `bentoml` requirement (a range such
 * as `bentoml>=1.4.22`) must admit the target (PEP 440).
 */
import {ConfigError, type Diagnostic, UsageError} from '../errors.js'
import {comparePep440, exactPin, isPep440Specifier, isPep440Version, newestVersion, satisfiesSpecifier} from './pep440.js'
import {
  type BentomlFacts,
  bentomlFacts,
  describeKnownVersions,
  FIRST_LEGACY_MODULE_BENTOML,
  isKnownBentomlVersion,
  KNOWN_BENTOML_VERSIONS,
  LAST_RUNNER_STYLE_BENTOML,
  NEWEST_BENTOML,
  OLDEST_MODEL_TARGET,
} from './versions.js'

/** How the service is written: it decides which releases can import it. */
export type ServiceStyle =
  /** `bentoml.Service(..., runners=[...])`: up to 1.4.15. */
  | 'runner'
  /** `bentoml.legacy.Service(...)`: from 1.4.16. */
  | 'legacy'
  /** `@bentoml.service` classes. */
  | 'sdk'
  | 'unknown'

/**
 * One `bentoml` line of the user's requirements, from any source the Bento's requirements are made of: the
 * bentofile's requirements_txt (nested -r files included) or python.packages, pyproject `[project].dependencies`,
 * and an SDK image's python_packages(...) / requirements_file(...) / pyproject_toml(...).
 */
export interface BentomlRequirement {
  /** The requirement as written. */
  raw: string
  /** The version specifier set (`>=1.4.22,<1.5`, `==1.4.40`, `''`). */
  specifier: string
  /** `bentoml @ <url>`: a direct reference, which installs whatever that URL holds. */
  url: boolean
  file: string
  line?: number
  key?: string
}

export interface TargetInputs {
  style: ServiceStyle
  /** Where the service object is created (for messages about its style). */
  serviceAt: {file: string; line?: number}
  requirements: readonly BentomlRequirement[]
  /** `--bentoml-version`. */
  flag?: string
  /** Models the Bento packs, with the BentoML that saved each (`context.bentoml_version`). */
  models: ReadonlyArray<{tag: string; bentomlVersion: string | null; at?: Pick<Diagnostic, 'file' | 'line' | 'key'>}>
  /** The build config file, for messages without a better location. */
  configFile: string
}

export interface Target {
  version: string
  source: 'requirements' | 'flag' | 'models' | 'default'
  facts: BentomlFacts
  /** The user's requirements pin the target exactly: no `bentoml==` line needs adding. */
  pinnedByUser: boolean
  /** A `bentoml @ <url>` requirement installs bentoml: add no pin (BentoML does the same). */
  directReference: boolean
  warnings: Diagnostic[]
}

const PIN_HINT = 'keep one bentoml pin: the Bento installs the version every source agrees on'

/** `requirements.txt:3`, or `bentofile.yaml python.packages[1]` when only the key is known. */
function placeOf(r: BentomlRequirement): string {
  return r.line !== undefined ? `${r.file}:${r.line}` : r.key !== undefined ? `${r.file} ${r.key}` : r.file
}

const RUNNER_HINT =
  "write the service as bentoml.legacy.Service(...) (the same API, served by BentoML 1.4.16+), or build with --bentoml-version 1.4.15"

/** `--bentoml-version V`: a release bento knows, else a usage error (exit 2). */
export function checkBentomlVersionFlag(flag: string): void {
  if (isKnownBentomlVersion(flag)) return
  throw new UsageError(`invalid --bentoml-version "${flag}": not a BentoML release bento knows`, {
    hint: `pass one of ${describeKnownVersions()}`,
    data: {bentomlVersion: flag, known: KNOWN_BENTOML_VERSIONS},
  })
}

export function chooseTarget(inputs: TargetInputs): Target {
  const warnings: Diagnostic[] = []
  const problems: Diagnostic[] = []
  const at = (r: BentomlRequirement): Pick<Diagnostic, 'file' | 'line' | 'key'> => ({
    file: r.file,
    ...(r.line === undefined ? {} : {line: r.line}),
    ...(r.key === undefined ? {} : {key: r.key}),
  })

  if (inputs.flag !== undefined) checkBentomlVersionFlag(inputs.flag)

  // 1. An exact pin in the user's requirements.
  const contradicted = new Set<BentomlRequirement>()
  let pinned: {version: string; req: BentomlRequirement} | undefined
  for (const r of inputs.requirements) {
    if (r.url) continue
    if (!isPep440Specifier(r.specifier)) {
      problems.push({...at(r), severity: 'error', message: `"${r.raw}" is not a valid requirement: "${r.specifier}" is not a PEP 440 version specifier`, hint: 'write e.g. bentoml==1.4.40 or bentoml>=1.4.22'})
      continue
    }
    const pin = exactPin(r.specifier)
    if (pin === null) continue
    if (!isKnownBentomlVersion(pin)) {
      problems.push({
        ...at(r),
        severity: 'error',
        message: `"${r.raw}" pins bentoml ${pin}, a release bento does not know`,
        hint: `pin one of ${describeKnownVersions()}`,
      })
      continue
    }
    if (pinned && comparePep440(pinned.version, pin) !== 0) {
      // One diagnostic at each pin: the message names both places, and each is located in its own file.
      if (!contradicted.has(pinned.req)) {
        contradicted.add(pinned.req)
        problems.push({...at(pinned.req), severity: 'error', message: `"${pinned.req.raw}" pins bentoml ${pinned.version}, which "${r.raw}" (${placeOf(r)}) contradicts`, hint: PIN_HINT})
      }
      problems.push({...at(r), severity: 'error', message: `"${r.raw}" contradicts "${pinned.req.raw}" (${placeOf(pinned.req)})`, hint: PIN_HINT})
      continue
    }
    pinned ??= {version: pin, req: r}
  }
  if (pinned && inputs.flag !== undefined && comparePep440(pinned.version, inputs.flag) !== 0) {
    problems.push({
      ...at(pinned.req),
      severity: 'error',
      message: `"${pinned.req.raw}" pins bentoml ${pinned.version} but --bentoml-version asks for ${inputs.flag}`,
      hint: 'drop --bentoml-version, or change the pin in your requirements',
    })
  }
  if (problems.length > 0) throw targetError(problems)

  let version: string
  let source: Target['source']
  if (pinned) {
    version = pinned.version
    source = 'requirements'
  } else if (inputs.flag !== undefined) {
    version = inputs.flag
    source = 'flag'
  } else {
    const fromModels = modelTarget(inputs, warnings)
    if (fromModels !== undefined) {
      version = fromModels
      source = 'models'
    } else {
      version = NEWEST_BENTOML
      source = 'default'
    }
  }

  // The service style bounds the target.
  const where = {file: inputs.serviceAt.file, ...(inputs.serviceAt.line === undefined ? {} : {line: inputs.serviceAt.line})}
  if (inputs.style === 'runner' && !bentomlFacts(version).servesRunnerStyle) {
    if (source === 'requirements' || source === 'flag') {
      const asked = source === 'flag' ? '--bentoml-version' : `"${pinned?.req.raw ?? ''}"`
      throw targetError([
        {
          ...where,
          key: 'service',
          severity: 'error',
          message: `this runner-style service (bentoml.Service(..., runners=[...])) is served only by BentoML up to ${LAST_RUNNER_STYLE_BENTOML}, but the Bento targets ${version} (${asked}): from 1.4.16 on bentoml.Service(runners=...) raises TypeError`,
          hint: RUNNER_HINT,
        },
      ])
    }
    version = LAST_RUNNER_STYLE_BENTOML
    source = 'default'
  }
  if (inputs.style === 'legacy' && !bentomlFacts(version).hasLegacyModule) {
    if (source === 'requirements' || source === 'flag') {
      throw targetError([
        {
          ...where,
          key: 'service',
          severity: 'error',
          message: `bentoml.legacy.Service exists from BentoML ${FIRST_LEGACY_MODULE_BENTOML} on, but the Bento targets ${version}`,
          hint: `target ${FIRST_LEGACY_MODULE_BENTOML} or newer, or write bentoml.Service(...) to target ${LAST_RUNNER_STYLE_BENTOML}`,
        },
      ])
    }
    warnings.push({
      ...where,
      severity: 'warning',
      message: `the models were saved with BentoML ${version}, which has no bentoml.legacy: the Bento targets ${FIRST_LEGACY_MODULE_BENTOML}, the first release that has it`,
      hint: 'pass --bentoml-version to choose another release',
    })
    version = FIRST_LEGACY_MODULE_BENTOML
  }

  // No pin and no flag, but a range excludes the default (`bentoml<1.4`): the newest known release that every range
  // admits and that imports the service.
  const ranges = inputs.requirements.filter((r) => !r.url && exactPin(r.specifier) === null)
  if (source === 'default' && ranges.some((r) => !satisfiesSpecifier(version, r.specifier))) {
    const admitted = KNOWN_BENTOML_VERSIONS.filter((k) => {
      const f = bentomlFacts(k)
      if (inputs.style === 'runner' && !f.servesRunnerStyle) return false
      if (inputs.style === 'legacy' && !f.hasLegacyModule) return false
      return ranges.every((r) => satisfiesSpecifier(k, r.specifier))
    })
    const best = newestVersion(admitted)
    if (best !== undefined) {
      version = best
      source = 'requirements'
    }
  }

  // Every other bentoml requirement must admit the target.
  for (const r of inputs.requirements) {
    if (r.url || exactPin(r.specifier) !== null || satisfiesSpecifier(version, r.specifier)) continue
    problems.push({
      ...at(r),
      severity: 'error',
      message: `"${r.raw}" excludes bentoml ${version}, the target (${describeSource(source, inputs.style)})`,
      hint:
        source === 'default' && inputs.style === 'runner'
          ? RUNNER_HINT
          : 'widen the range, or pass --bentoml-version with a release inside it',
    })
  }
  if (problems.length > 0) throw targetError(problems)

  const savedWith = newestModelVersion(inputs.models)
  if (savedWith && comparePep440(savedWith.version, version) > 0) {
    warnings.push({
      ...modelAt(inputs, savedWith.at),
      severity: 'warning',
      message: `model ${savedWith.tag} was saved with BentoML ${savedWith.version}, newer than the target ${version} (${describeSource(source, inputs.style)}); it may not load`,
      hint: inputs.style === 'runner' ? RUNNER_HINT : 'target the newer release (pin it or pass --bentoml-version)',
    })
  }

  const directReference = inputs.requirements.some((r) => r.url)
  if (directReference) {
    const r = inputs.requirements.find((x) => x.url)!
    warnings.push({
      ...at(r),
      severity: 'warning',
      message: `"${r.raw}" installs bentoml from a direct reference: bento writes the Bento for ${version} and adds no bentoml pin`,
      hint: 'pass --bentoml-version with the release that reference holds',
    })
  }
  return {version, source, facts: bentomlFacts(version), pinnedByUser: pinned !== undefined, directReference, warnings}
}

function describeSource(source: Target['source'], style: ServiceStyle): string {
  switch (source) {
    case 'requirements':
      return 'chosen by your requirements'
    case 'flag':
      return 'from --bentoml-version'
    case 'models':
      return 'the newest BentoML that saved the models'
    default:
      return style === 'runner' ? 'the last release that serves runner-style services' : 'the newest release bento knows'
  }
}

/** `1.4.40`, `1.4.16.dev3+gabc` → `1.4.16` (BentoML's `clean_bentoml_version`: the release part). */
function releaseOf(v: string): string | null {
  const m = /^\s*v?(\d+(?:\.\d+)*)/.exec(v)
  return m?.[1] !== undefined && isPep440Version(m[1]) ? m[1] : null
}

function newestModelVersion(models: TargetInputs['models']): {tag: string; version: string; at: TargetInputs['models'][number]['at']} | undefined {
  let best: {tag: string; version: string; at: TargetInputs['models'][number]['at']} | undefined
  for (const m of models) {
    const v = m.bentomlVersion === null ? null : releaseOf(m.bentomlVersion)
    if (v !== null && (best === undefined || comparePep440(v, best.version) > 0)) best = {tag: m.tag, version: v, at: m.at}
  }
  return best
}

/** Where a message about a model points: where the project names it, else the `models` key of the config file. */
function modelAt(inputs: TargetInputs, at: TargetInputs['models'][number]['at']): Pick<Diagnostic, 'file' | 'line' | 'key'> {
  return at ?? {file: inputs.configFile, key: 'models'}
}

/** The target the models imply: the newest release that saved one of them, as a known release. */
function modelTarget(inputs: TargetInputs, warnings: Diagnostic[]): string | undefined {
  const newest = newestModelVersion(inputs.models)
  if (newest === undefined) return undefined
  if (comparePep440(newest.version, NEWEST_BENTOML) > 0) {
    throw targetError([
      {
        ...modelAt(inputs, newest.at),
        severity: 'error',
        message: `model ${newest.tag} was saved with BentoML ${newest.version}, newer than any release bento knows (${describeKnownVersions()})`,
        hint: `pass --bentoml-version ${NEWEST_BENTOML} (or pin bentoml in your requirements) to write the Bento for a release bento knows`,
      },
    ])
  }
  if (comparePep440(newest.version, OLDEST_MODEL_TARGET) < 0) {
    warnings.push({
      file: inputs.configFile,
      key: 'models',
      severity: 'warning',
      message: `the models were saved with BentoML ${newest.version}, older than any release bento writes for; the Bento targets the default instead`,
      hint: 'pass --bentoml-version to choose the release',
    })
    return undefined
  }
  // A release that is not on PyPI (1.4.9): the next one that is.
  return KNOWN_BENTOML_VERSIONS.find((k) => comparePep440(k, newest.version) >= 0) ?? newestVersion(KNOWN_BENTOML_VERSIONS)
}

function targetError(problems: Diagnostic[]): ConfigError {
  const first = problems[0]
  const where = first ? `${first.file}${first.line ? `:${first.line}` : ''}` : 'the build'
  return new ConfigError(`${where}: cannot choose the BentoML version the Bento targets`, problems)
}
