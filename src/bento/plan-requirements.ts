/**
 * The Bento's Python requirements as the plan (./plan.ts) writes them: the user's `bentoml` lines the target is chosen
 * from, requirements.txt for spec 1, the image's requirements for spec 2 (each ending with the model frameworks'
 * packages, `bentoml==<target>` and `setuptools<81` where needed), and the pip options of the bentofile.
 */
import {exactPin} from '../bentoml/pep440.js'
import type {BentomlRequirement, Target} from '../bentoml/target.js'
import {normalizePackageName, parseRequirements} from '../python/requirements.js'
import type {PlanConfig, PlanInputs, PlanModel} from './plan-types.js'
import type {PlanImage} from './sdk.js'

/**
 * The user's `bentoml` requirement lines, from every line the Bento's requirements are made of: an SDK image's
 * requirements (its python_packages / requirements_file / pyproject_toml calls and the bentofile merged into it,
 * plus python.packages beside requirements_txt, which targets before 1.4.19 install), else requirements_txt when
 * set (nested -r files inlined), else python.packages (pyproject `[project].dependencies` included).
 */
export function bentomlRequirements(inputs: PlanInputs): BentomlRequirement[] {
  const out: BentomlRequirement[] = []
  const lines = (text: string, siteOf: (line: number) => {file: string; line?: number; key?: string}): void => {
    for (const r of parseRequirements(text)) {
      if (r.name === 'bentoml') out.push({raw: r.raw, specifier: r.specifier, url: r.url, ...siteOf(r.line)})
    }
  }
  const packages = (): void => {
    for (const [i, line] of (inputs.config.python.packages ?? []).entries()) {
      lines(line, () => ({file: inputs.configFile, key: `python.packages[${i}]`}))
    }
  }
  const image = inputs.service.kind === 'sdk' && inputs.sdk !== undefined ? inputs.image : null
  const req = inputs.extras.requirementsTxt
  if (image) {
    const sites = image.requirementSites ?? []
    lines(image.info.python_requirements, (n) => {
      const s = sites[n - 1]
      return {file: s?.file ?? inputs.configFile, ...(s?.line === undefined ? {} : {line: s.line}), ...(s?.key === undefined ? {} : {key: s.key})}
    })
    if (inputs.config.python.requirements_txt) packages()
  } else if (req) {
    lines(req.text, (n) => req.sites?.[n - 1] ?? {file: req.rel, line: n})
  } else {
    packages()
  }
  return out
}

/** PEP 503 normalized name of a requirement line, or null for options, URLs without a name, blanks. */
export function requirementName(line: string): string | null {
  return parseRequirements(line)[0]?.name ?? null
}

/** Packages the model frameworks need, from `context.framework_versions` (format §3). */
function frameworkRequirements(models: PlanModel[]): Array<{name: string; line: string}> {
  const out = new Map<string, string>()
  for (const m of models) {
    for (const [pkg, ver] of Object.entries(m.frameworkVersions)) {
      const n = normalizePackageName(pkg)
      if (!out.has(n)) out.set(n, ver ? `${pkg}==${ver}` : pkg)
    }
  }
  return [...out].map(([name, line]) => ({name, line}))
}

/**
 * requirements.txt as `bentoml build` writes it before locking: the user's lines (requirements_txt, else
 * python.packages), then the model frameworks' packages the user does not name (bento's addition), then
 * `bentoml==<target>` unless the user pins it exactly or installs it from a direct reference (BentoML appends its own
 * version the same way, extras and ranges of the user's line kept), and `setuptools<81` where the target needs it.
 */
export function buildRequirements(inputs: PlanInputs, target: Target): string[] {
  const {config} = inputs
  const lines: string[] = []
  if (inputs.extras.requirementsTxt) {
    lines.push(...inputs.extras.requirementsTxt.text.split(/\r?\n/).map((l) => l.trimEnd()))
    while (lines.length > 0 && lines[lines.length - 1] === '') lines.pop()
  } else {
    lines.push(...(config.python.packages ?? []))
  }
  return withBentoRequirements(lines, inputs, target)
}

/**
 * What every Bento's requirements end with (spec 1 and spec 2): the model frameworks' packages the user's lines do
 * not name, `bentoml==<target>` unless the user pinned it, and `setuptools<81` where the target needs it.
 */
function withBentoRequirements(userLines: string[], inputs: PlanInputs, target: Target): string[] {
  const lines = [...userLines]
  const named = new Set(lines.map(requirementName).filter((n): n is string => n !== null))
  for (const fw of frameworkRequirements(inputs.models)) {
    if (!named.has(fw.name)) {
      lines.push(fw.line)
      named.add(fw.name)
    }
  }
  // The user's exact pin is the target (chooseTarget): the Bento then carries it alone, never a second bentoml line.
  if (!target.directReference && !lines.some(isExactBentomlPin)) lines.push(`bentoml==${target.version}`)
  if (target.facts.needsSetuptoolsBelow81 && !named.has('setuptools')) lines.push('setuptools<81')
  return lines
}

function isExactBentomlPin(line: string): boolean {
  const r = parseRequirements(line)[0]
  return r?.name === 'bentoml' && !r.url && exactPin(r.specifier) !== null
}

export function pipArgs(config: PlanConfig): string[] {
  const p = config.python
  const args: string[] = []
  if (p.index_url) args.push('--index-url', p.index_url)
  if (p.no_index) args.push('--no-index')
  for (const h of p.trusted_host ?? []) args.push('--trusted-host', h)
  for (const l of p.find_links ?? []) args.push('--find-links', l)
  for (const u of p.extra_index_url ?? []) args.push('--extra-index-url', u)
  if (p.pip_args) args.push(...p.pip_args.split(/\s+/).filter(Boolean))
  return args
}

/**
 * Spec 2: the image's Python requirements (bentofile index options, requirements_txt or packages, in BentoML's
 * order), then the model frameworks' packages, `bentoml==<target>` and `setuptools<81` as for spec 1.
 */
export function imageRequirements(inputs: PlanInputs, image: PlanImage, target: Target): string[] {
  const lines = image.info.python_requirements.split('\n').map((l) => l.trimEnd())
  while (lines.length > 0 && lines[lines.length - 1] === '') lines.pop()
  // The merge followed 1.4.19+, which ignores the bentofile's packages when requirements_txt is set; older targets
  // install them after the requirements file (populate_image_from_build_config in 1.4.15).
  const {requirements_txt: requirementsTxt, packages} = inputs.config.python
  if (requirementsTxt && packages && packages.length > 0 && !target.facts.imageIgnoresPackagesWithRequirementsTxt) lines.push(...packages)
  return withBentoRequirements(lines, inputs, target)
}
