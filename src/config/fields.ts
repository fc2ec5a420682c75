/**
 * THE field table for bentofile.yaml (BentoML 1.4.15 `BentoBuildConfig`, `DockerOptions`, `PythonOptions`,
 * `CondaOptions`, `ModelSpec`, `BentoEnvSchema`). The validator (engine.ts) and the JSON Schema
 * (schema.ts) are both generated from it.
 */
import {
  ALLOWED_CUDA_VERSION_ARGS,
  DEFAULT_CUDA_VERSION,
  DISTROS,
  ENV_LIST_ITEM_PATTERN,
  ENV_LIST_ITEM_RE,
  ENV_STAGES,
  PYTHON_VERSION_PATTERN,
  PYTHON_VERSION_RE,
} from '../bentoml/config-facts.js'
import {TAG_MAX_LENGTH, TAG_REGEX, TAG_RULE, tagRuleBreaks} from '../bentoml/tag.js'
import {clip, isMapping, isScalar, type Path, type DiagnosticCollector} from './context.js'
import {expandVars} from '../bentoml/pypath.js'
import {parseDotenvEntries} from './dotenv.js'
import {aptPackageProblem, envNameProblem, envValueProblem, imageRefProblem, type RuleProblem} from '../bentoml/image-rules.js'
import {describe, parseStringValue, type SectionField, type StringField, type StringListField} from './engine.js'
import {pyStr} from './py-str.js'
import {closest} from './suggest.js'
import type {CondaDependency, EnvEntry, EnvStage, ModelSpec} from './types.js'

const INCLUDE_OUTSIDE_MESSAGE =
  'Paths outside of the build context directory cannot be included; use a symlink or copy those files into the working directory manually.'

// ---------------------------------------------------------------------------------------------
// Checks shared by several fields

/** A Bento or model tag part: BentoML lowercases it (with a warning), then checks regex and length. */
function checkTagPart(value: string, path: Path, r: DiagnosticCollector, what: string): string {
  const lower = value.toLowerCase()
  if (lower !== value) r.warn(path, `${what} '${clip(value)}' is converted to lowercase: '${clip(lower)}'`, `write '${clip(lower, TAG_MAX_LENGTH)}'`)
  const problems = tagRuleBreaks(lower)
  if (problems.length > 0) {
    const suggestion = lower.replace(/[^-._a-z0-9]+/g, '-').replace(/^[^a-z0-9]+|[^a-z0-9]+$/g, '').slice(0, TAG_MAX_LENGTH)
    r.error(path, `'${clip(value)}' is not a valid ${what}: it ${problems.join(', and ')}`, suggestion ? `for example '${suggestion}'` : 'use letters, digits, and - _ .')
  }
  return value
}

function checkName(value: string, path: Path, r: DiagnosticCollector): string {
  return checkTagPart(value, path, r, 'Bento name')
}

function checkModelTag(value: string, path: Path, r: DiagnosticCollector): void {
  const colon = value.indexOf(':')
  const name = colon === -1 ? value : value.slice(0, colon)
  const version = colon === -1 ? undefined : value.slice(colon + 1)
  if (version === '') {
    r.error(path, `model tag '${clip(value)}' ends with ':'`, `write '${clip(name)}' or '${clip(name)}:latest'`)
    return
  }
  checkTagPart(name, path, r, 'model name')
  if (version !== undefined && version !== 'latest') checkTagPart(version, path, r, 'model version')
}

function checkInclude(value: string, path: Path, r: DiagnosticCollector): string {
  if (value.startsWith('../')) {
    r.error(path, INCLUDE_OUTSIDE_MESSAGE, `'${clip(value)}' is outside the build context; symlink or copy it into the project`)
  }
  return value
}

function checkSetupScript(value: string, path: Path, r: DiagnosticCollector): string {
  if (/[\r\n]/.test(value.trim())) {
    r.error(path, 'setup_script must be the path of an executable script file, not the script text', 'save the commands to a file (e.g. setup.sh, chmod +x) and give its path')
  }
  return value
}

/** Reports a Dockerfile rule problem (image-rules.ts) at `path`; returns whether there was one. */
function rule(problem: RuleProblem | undefined, path: Path, r: DiagnosticCollector, part: 'key' | 'value' = 'value'): boolean {
  if (problem === undefined) return false
  r.error(path, problem.message, problem.hint, part)
  return true
}

/** An environment variable for the image: a valid, unreserved name and a value a Dockerfile can hold. */
function checkEnvVar(name: string, value: string, namePath: Path, valuePath: Path, r: DiagnosticCollector, namePart: 'key' | 'value' = 'value'): void {
  rule(envNameProblem(name), namePath, r, namePart)
  rule(envValueProblem(name, value), valuePath, r)
}

function checkAptPackage(value: string, path: Path, r: DiagnosticCollector): string {
  rule(aptPackageProblem(value), path, r)
  return value
}

function checkImageRef(value: string, path: Path, r: DiagnosticCollector): string {
  rule(imageRefProblem(value), path, r)
  return value
}

// ---------------------------------------------------------------------------------------------
// Custom fields

function parseModels(value: unknown, path: Path, r: DiagnosticCollector): ModelSpec[] {
  if (value === null || value === undefined) return []
  if (!Array.isArray(value)) {
    r.error(path, `expected a list of model tags, got ${describe(value, r.source(path))}`, 'write "- name:version" items, or "- tag: name:version" with alias/filter')
    return []
  }
  const out: ModelSpec[] = []
  value.forEach((item, i) => {
    const itemPath = [...path, i]
    if (typeof item === 'string') {
      checkModelTag(item, itemPath, r)
      out.push({tag: item})
      return
    }
    if (!isMapping(item)) {
      r.error(itemPath, `expected a model tag or {tag, alias, filter}, got ${describe(item, r.source(itemPath))}`, 'quote the tag: "name:version"')
      return
    }
    const spec: Partial<ModelSpec> = {}
    for (const [k, v] of Object.entries(item)) {
      const keyPath = [...itemPath, k]
      if (k !== 'tag' && k !== 'alias' && k !== 'filter') {
        const guess = closest(k, ['tag', 'alias', 'filter'], {keys: true})
        r.error(keyPath, `unknown key '${clip(k)}' in a models entry`, guess ? `did you mean '${guess}'?` : 'known keys: tag, alias, filter', 'key')
        continue
      }
      if (v === null && k !== 'tag') continue
      const s = parseStringValue(v, keyPath, r, false)
      if (s !== undefined) spec[k] = s
    }
    if (!('tag' in item)) r.error(itemPath, 'models entry has no tag', 'add "tag: name:version"')
    else if (spec.tag !== undefined) {
      checkModelTag(spec.tag, [...itemPath, 'tag'], r)
      out.push({...spec, tag: spec.tag})
    }
  })
  return out
}

function parseEnvs(value: unknown, path: Path, r: DiagnosticCollector): EnvEntry[] {
  if (value === null || value === undefined) {
    r.warn(path, 'is null; using []', 'remove the key or list entries')
    return []
  }
  if (!Array.isArray(value)) {
    const hint = isMapping(value) ? 'envs is a list: "- name: KEY" then "value: VALUE" on the next line' : 'write a list of {name, value} entries'
    r.error(path, `expected a list of {name, value} entries, got ${describe(value, r.source(path))}`, hint)
    return []
  }
  const out: EnvEntry[] = []
  value.forEach((item, i) => {
    const itemPath = [...path, i]
    if (!isMapping(item)) {
      const hint =
        typeof item === 'string' && item.includes('=')
          ? `write "- name: ${item.slice(0, item.indexOf('='))}" and "value: ${item.slice(item.indexOf('=') + 1)}"`
          : 'write "- name: KEY" and "value: VALUE"'
      r.error(itemPath, `expected an entry with name and value, got ${describe(item, r.source(itemPath))}`, hint)
      return
    }
    let name: string | undefined
    if (!('name' in item) || item.name === null || item.name === undefined) {
      r.error(itemPath, 'envs entry has no name', 'add "name: VARIABLE_NAME"')
    } else {
      name = parseStringValue(item.name, [...itemPath, 'name'], r, true)
    }
    let entryValue = ''
    if ('value' in item) {
      const valuePath = [...itemPath, 'value']
      const v = item.value
      if (typeof v === 'string') entryValue = v
      else if (v === null || v === undefined) {
        entryValue = 'None'
        r.warn(valuePath, `value is null; BentoML stores the string 'None'`, 'write value: "" for an empty value, or remove the key')
      } else if (isScalar(v)) {
        const source = r.source(valuePath)
        entryValue = pyStr(v, source)
        r.warn(valuePath, `value ${describe(v, source)} is not a string; BentoML stores '${entryValue}'`, `quote it: '${source?.trim() ?? entryValue}'`)
      } else {
        r.error(valuePath, `expected a string, got ${describe(v)}`, 'env values are plain strings')
      }
    }
    let stage: EnvStage = 'all'
    if ('stage' in item && item.stage !== null && item.stage !== undefined) {
      const stagePath = [...itemPath, 'stage']
      const s = parseStringValue(item.stage, stagePath, r, false)
      if (s !== undefined) {
        if ((ENV_STAGES as readonly string[]).includes(s)) stage = s as EnvStage
        else r.error(stagePath, `'${clip(s)}' is not one of ${ENV_STAGES.map((e) => `'${e}'`).join(', ')}`, `use one of: ${ENV_STAGES.join(', ')}`)
      }
    }
    const extra = Object.keys(item).filter((k) => k !== 'name' && k !== 'value' && k !== 'stage')
    for (const k of extra) {
      const guess = closest(k, ['name', 'value', 'stage'], {keys: true})
      r.warn([...itemPath, k], `unknown key '${clip(k)}' in an envs entry is ignored`, guess ? `did you mean '${guess}'?` : 'envs entries have name, value and stage', 'key')
    }
    if (name !== undefined) {
      checkEnvVar(name, entryValue, [...itemPath, 'name'], [...itemPath, 'value'], r)
      out.push({name, value: entryValue, stage})
    }
  })
  return out
}

function parseDockerEnv(value: unknown, path: Path, r: DiagnosticCollector): Record<string, string> | null {
  // `_convert_env`: a falsy value means "no env".
  if (!value || (Array.isArray(value) && value.length === 0) || (isMapping(value) && Object.keys(value).length === 0)) return null
  if (typeof value === 'string') {
    // `os.path.expanduser(os.path.expandvars(env))`: the caller's readFile expands `~`.
    const file = expandVars(value, r.options.environ ?? {})
    const content = r.options.readFile?.(file)
    if (r.options.readFile === undefined) {
      r.warn(path, `is a dotenv file path ('${clip(value)}'); it is read when the config is loaded from disk`)
      return null
    }
    if (content === undefined) {
      r.error(path, `'${clip(value)}' is not a valid '.env' file path`, 'create the file (relative to the project directory), or write env as a mapping')
      return null
    }
    // Variables expand from the environment of the build, as BentoML's parse_dotenv reads os.environ.
    const out: Record<string, string> = {}
    for (const entry of parseDotenvEntries(content, r.options.environ ?? {})) {
      // A problem inside the dotenv file is reported at its own line.
      for (const problem of [envNameProblem(entry.key), envValueProblem(entry.key, entry.value)]) {
        if (problem) r.diagnostics.push({file, line: entry.line, col: 1, key: entry.key, severity: 'error', ...problem})
      }
      out[entry.key] = entry.value
    }
    return out
  }
  if (Array.isArray(value)) {
    const out: Record<string, string> = {}
    value.forEach((item, i) => {
      const itemPath = [...path, i]
      if (typeof item !== 'string' || !ENV_LIST_ITEM_RE.test(item)) {
        r.error(
          itemPath,
          `All value in \`env\` list must follow format ENV=VALUE (got ${describe(item, r.source(itemPath))})`,
          'values may contain only letters, digits and . _ - , /; use a mapping (KEY: value) for anything else',
        )
        return
      }
      const eq = item.indexOf('=')
      checkEnvVar(item.slice(0, eq), item.slice(eq + 1), itemPath, itemPath, r)
      out[item.slice(0, eq)] = item.slice(eq + 1)
    })
    return out
  }
  if (isMapping(value)) {
    const out: Record<string, string> = {}
    for (const [k, v] of Object.entries(value)) {
      if (!isScalar(v)) {
        r.error([...path, k], `expected a string value, got ${describe(v)}`, 'env values are plain strings')
        continue
      }
      out[k] = pyStr(v, r.source([...path, k]))
      checkEnvVar(k, out[k], [...path, k], [...path, k], r, 'key')
    }
    return out
  }
  r.error(path, `\`env\` must be either a list, a dict, or a path to a dot environment file, got ${describe(value, r.source(path))}`)
  return null
}

function parsePythonVersion(value: unknown, path: Path, r: DiagnosticCollector): string | null {
  if (value === null || value === undefined) return null
  let text: string
  if (typeof value === 'string') text = value
  else if (typeof value === 'number') {
    const source = r.source(path)?.trim()
    text = pyStr(value, source)
    if (source !== undefined && source !== text) {
      r.error(path, `python_version ${clip(source)} is read by YAML as the number ${clip(text)}`, `quote it: python_version: "${clip(source)}"`)
      return null
    }
    r.warn(path, `python_version ${clip(text)} is an unquoted YAML number; read as '${clip(text)}'`, `quote it: python_version: "${clip(text)}"`)
  } else {
    r.error(path, `expected a version string such as "3.11", got ${describe(value, r.source(path))}`, 'write python_version: "3.11"')
    return null
  }
  const match = PYTHON_VERSION_RE.exec(text)
  if (!match) {
    r.error(path, `Invalid build option: docker.python_version="${clip(text)}", python version must follow standard python semver format, e.g. 3.8.15`, 'write major.minor, e.g. "3.11"')
    return null
  }
  const target = `${match[1]}.${match[2]}`
  if (target !== text) {
    r.warn(path, `BentoML will install the latest 'python${target}' instead of the specified 'python${text}'`, 'to use the exact Python version, use docker.base_image')
  }
  return target
}

function parseCudaVersion(value: unknown, path: Path, r: DiagnosticCollector): string | null {
  if (value === null || value === undefined || value === '' || value === 'None') return null
  const allowed = Object.keys(ALLOWED_CUDA_VERSION_ARGS)
  const supported = `Supported cuda versions are ${allowed.join(', ')} and default`
  let text: string
  if (typeof value === 'string') text = value
  else if (typeof value === 'number') {
    const source = r.source(path)?.trim()
    if (!Number.isInteger(value) || (source !== undefined && /[.eE]/.test(source))) {
      r.error(path, `cuda_version ${clip(source ?? String(value))} is a YAML number, not a version string`, `quote it: cuda_version: "${clip(source ?? String(value))}"`)
      return null
    }
    text = String(value)
  } else {
    r.error(path, `expected a CUDA version string, got ${describe(value, r.source(path))}`, supported)
    return null
  }
  if (text === 'default') return DEFAULT_CUDA_VERSION
  const full = ALLOWED_CUDA_VERSION_ARGS[text]
  if (full === undefined) {
    const guess = closest(text, allowed)
    r.error(path, `Unsupported cuda version: "${clip(text)}". ${supported}`, guess ? `did you mean '${guess}'?` : 'remove cuda_version, or use docker.base_image for other CUDA versions')
    return null
  }
  return full
}

function parseCondaDependencies(value: unknown, path: Path, r: DiagnosticCollector): CondaDependency[] | null {
  if (value === null || value === undefined) return null
  if (!Array.isArray(value)) {
    r.error(path, `Expected 'conda.dependencies' to be a list of dependencies, got ${describe(value, r.source(path))}`, 'write "- package" items')
    return null
  }
  const out: CondaDependency[] = []
  let pipSeen = false
  value.forEach((item, i) => {
    const itemPath = [...path, i]
    if (isMapping(item)) {
      const keys = Object.keys(item)
      if (pipSeen || keys.length !== 1 || keys[0] !== 'pip') {
        r.error(itemPath, 'Expected dictionary under `conda.dependencies` to ONLY have key `pip`', 'use a single "- pip: [...]" entry')
        return
      }
      pipSeen = true
      const pip = item.pip
      if (!Array.isArray(pip)) {
        r.error([...itemPath, 'pip'], `expected a list of pip requirements, got ${describe(pip, r.source([...itemPath, 'pip']))}`)
        return
      }
      const bad = pip.map((p, j) => [p, j] as const).filter(([p]) => typeof p !== 'string')
      for (const [p, j] of bad) r.error([...itemPath, 'pip', j], `Expected 'conda.pip' values to be strings, got ${describe(p, r.source([...itemPath, 'pip', j]))}`, 'quote the value')
      out.push({pip: pip.filter((p): p is string => typeof p === 'string')})
      return
    }
    if (item === null || item === undefined) {
      r.error(itemPath, 'list item is empty (null)', 'remove the empty "-" line')
      return
    }
    const s = parseStringValue(item, itemPath, r, true, 'a conda package spec')
    if (s !== undefined) out.push(s)
  })
  return out
}

// ---------------------------------------------------------------------------------------------
// The table

type StringExtra = Partial<Omit<StringField, 'kind'>>
type ListExtra = Partial<Omit<StringListField, 'kind'>>

const str = (description: string, extra: StringExtra = {}): StringField => ({
  kind: 'string',
  coerce: true,
  nullable: true,
  default: null,
  description,
  ...extra,
})
const strictStr = (description: string, extra: StringExtra = {}): StringField =>
  str(description, {coerce: false, ...extra})
const list = (description: string, extra: ListExtra = {}): StringListField => ({
  kind: 'string-list',
  coerceItems: true,
  default: null,
  description,
  ...extra,
})
const strictList = (description: string, extra: ListExtra = {}): StringListField =>
  list(description, {coerceItems: false, ...extra})

const stringOrNull = {type: ['string', 'null']}
const stringList = {type: 'array', items: {type: 'string'}}

export const DOCKER_SECTION: SectionField = {
  kind: 'section',
  description: 'Options for the container image (`bentoml containerize`). Unknown keys are rejected.',
  fields: {
    distro: str('Linux distribution of the base image. Default `debian` (ignored when `base_image` is set).', {
      enum: DISTROS,
      default: 'debian',
    }),
    python_version: {
      kind: 'custom',
      description:
        'Python version in the image, `major.minor` (a patch level is dropped with a warning). Default: the Python running the build. Supported: 3.9–3.13. Quote it: `"3.10"` unquoted is the number 3.1.',
      schema: {anyOf: [{type: 'string', pattern: PYTHON_VERSION_PATTERN}, {type: 'number'}, {type: 'null'}], examples: ['3.11']},
      parse: parsePythonVersion,
    },
    cuda_version: {
      kind: 'custom',
      description: `Deprecated. CUDA version for GPU images (debian, ubi8). \`default\` means ${DEFAULT_CUDA_VERSION}; a short form such as \`11.6\` selects the full version. Quote it.`,
      deprecated: 'docker.cuda_version is deprecated in BentoML; prefer docker.base_image',
      default: null,
      schema: {anyOf: [{enum: [...Object.keys(ALLOWED_CUDA_VERSION_ARGS), 'default']}, {enum: [11, 12]}, {type: 'null'}]},
      parse: parseCudaVersion,
    },
    env: {
      kind: 'custom',
      description:
        'Environment variables for the image: a mapping, a list of `KEY=VALUE` strings, or the path of a dotenv file. Superseded by top-level `envs` (used to fill it when unset).',
      deprecated: 'use top-level envs',
      default: null,
      schema: {
        anyOf: [
          {type: 'object', additionalProperties: {type: ['string', 'number', 'boolean', 'null']}},
          {type: 'array', items: {type: 'string', pattern: ENV_LIST_ITEM_PATTERN}},
          {type: 'string', description: 'path of a .env file'},
          {type: 'null'},
        ],
      },
      parse: parseDockerEnv,
    },
    system_packages: list('System packages installed with the distro package manager (ignored when `base_image` is set).', {itemCheck: checkAptPackage}),
    setup_script: str('Path of an executable script run while building the image (copied to env/docker/setup_script).', {check: checkSetupScript}),
    base_image: str('A custom base image; `distro`, `python_version`, `cuda_version` and `system_packages` are then ignored.', {check: checkImageRef}),
    dockerfile_template: str('Path of a Jinja Dockerfile template extending BentoML’s (copied to env/docker/Dockerfile.template).'),
  },
}

export const PYTHON_SECTION: SectionField = {
  kind: 'section',
  description: 'Python packages for the Bento. Unknown keys are rejected.',
  fields: {
    requirements_txt: strictStr('Path of a requirements.txt file; when set, `packages` is ignored.'),
    packages: strictList('pip requirement lines, e.g. `scikit-learn==1.5.0`.'),
    lock_packages: {
      kind: 'boolean',
      nullable: true,
      default: true,
      description: 'Lock versions into requirements.lock.txt. Default: true unless `pack_git_packages` is false.',
    },
    pack_git_packages: {kind: 'boolean', nullable: true, default: true, description: 'Pack git+ requirements as wheels. Default true.'},
    index_url: strictStr('pip --index-url.'),
    no_index: {kind: 'boolean', nullable: true, default: null, description: 'pip --no-index.'},
    trusted_host: strictList('pip --trusted-host (a string or a list).', {wrapString: true}),
    find_links: strictList('pip --find-links (a string or a list).', {wrapString: true}),
    extra_index_url: strictList('pip --extra-index-url (a string or a list).', {wrapString: true}),
    pip_args: strictStr('Extra pip arguments, split on whitespace.'),
    wheels: strictList('Paths of wheel files copied into env/python/wheels/.'),
    is_src_layout: {
      kind: 'boolean',
      nullable: true,
      default: false,
      description:
        'Copy the files under `src/` to the root of the Bento’s src/ (a pyproject `src` layout). BentoML 1.4.38+; default: true when the config is a pyproject.toml with a `src/` directory beside it.',
    },
  },
}

export const CONDA_SECTION: SectionField = {
  kind: 'section',
  description: 'Conda environment (debian and alpine only). Unknown keys are rejected.',
  fields: {
    environment_yml: str('Path of a conda environment.yml; when set, `channels`, `dependencies` and `pip` are ignored.'),
    channels: list('Conda channels. Default `["conda-forge"]` when dependencies or pip are given.'),
    dependencies: {
      kind: 'custom',
      description: 'Conda packages; may contain one `{pip: [...]}` entry.',
      default: null,
      schema: {
        type: ['array', 'null'],
        items: {anyOf: [{type: 'string'}, {type: 'object', properties: {pip: stringList}, required: ['pip'], additionalProperties: false}]},
      },
      parse: parseCondaDependencies,
    },
    pip: list('pip packages installed into the conda environment.'),
  },
}

const SECTIONS = {docker: DOCKER_SECTION, python: PYTHON_SECTION, conda: CONDA_SECTION} as const

/** Hints for top-level keys that people write by mistake. */
function topLevelHints(): Record<string, string> {
  const hints: Record<string, string> = {
    version: 'the Bento version is generated; pass --version to `bento build` to choose it',
    runners: 'runners are declared in the service code, not in bentofile.yaml',
    monitoring: 'runtime configuration belongs in a BentoML configuration file (BENTOML_CONFIG), not in bentofile.yaml',
    logging: 'runtime configuration belongs in a BentoML configuration file (BENTOML_CONFIG), not in bentofile.yaml',
    env: "did you mean 'envs'? It is a list: \"- name: KEY\" then \"value: VALUE\"",
    model: "did you mean 'models'? It is a list of model tags",
  }
  for (const [section, spec] of Object.entries(SECTIONS)) {
    for (const key of Object.keys(spec.fields)) hints[key] ??= `'${key}' belongs under '${section}:' (${section}.${key})`
  }
  return hints
}

export const BENTOFILE_SPEC: SectionField = {
  kind: 'section',
  description: 'BentoML build configuration (bentofile.yaml), as read by BentoML 1.4.15. Unknown keys are rejected.',
  unknownKeyHints: topLevelHints(),
  fields: {
    service: {
      kind: 'string',
      coerce: true,
      nullable: false,
      default: '',
      description: 'Import string of the service: `module:attribute` or `file.py:attribute`. If empty, `service.py` is tried.',
      examples: ['service:svc'],
    },
    name: str(`Bento name (${TAG_RULE}). Default: the service name.`, {
      pattern: TAG_REGEX.source,
      maxLength: TAG_MAX_LENGTH,
      check: checkName,
    }),
    description: str('Bento description (becomes README.md): inline text, or `file: ./path`.'),
    labels: {kind: 'label-map', default: {}, description: 'Key/value labels; values are stored as strings.'},
    include: list('gitwildmatch patterns of files to copy into the Bento. Default `["*"]`. No `../` paths.', {
      default: ['*'],
      itemCheck: checkInclude,
    }),
    exclude: list('gitwildmatch patterns excluded after `include`. Default `[]`.', {default: []}),
    docker: DOCKER_SECTION,
    python: PYTHON_SECTION,
    conda: CONDA_SECTION,
    models: {
      kind: 'custom',
      default: [],
      description: 'Models to pack; replaces the models found on the service. A tag string or `{tag, alias, filter}`.',
      schema: {
        type: 'array',
        items: {
          anyOf: [
            {type: 'string'},
            {
              type: 'object',
              properties: {tag: {type: 'string'}, alias: stringOrNull, filter: stringOrNull},
              required: ['tag'],
              additionalProperties: false,
            },
          ],
        },
      },
      parse: parseModels,
    },
    envs: {
      kind: 'custom',
      default: [],
      description: 'Environment variables: `{name, value, stage}`; `stage` (all, build, runtime) exists in BentoML 1.4.31+.',
      schema: {
        type: 'array',
        items: {
          type: 'object',
          properties: {
            name: {type: 'string'},
            value: {type: ['string', 'number', 'boolean', 'null'], default: ''},
            stage: {enum: [...ENV_STAGES], default: 'all'},
          },
          required: ['name'],
        },
      },
      parse: parseEnvs,
    },
    args: {kind: 'any-map', default: {}, description: 'Template arguments (`bentoml.use_arguments`).'},
  },
}
