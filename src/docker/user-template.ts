import {createRequire} from 'node:module'

import type * as Nunjucks from 'nunjucks'

import {BENTO_PATH, BENTO_UID, BENTO_USER, IMAGE_BENTOML_HOME, METRICS_PORT} from '../bentoml/runtime.js'
import {ConfigError, type Diagnostic} from '../errors.js'

/**
 * A user `docker.dockerfile_template`, rendered as BentoML renders it: a Jinja2 template that extends BentoML's
 * generated Dockerfile and overrides its blocks, e.g.
 *
 * ```jinja
 * {% extends bento_base_template %}
 * {% set tools = ["curl", "jq"] | join(" ") %}
 * {% block SETUP_BENTO_COMPONENTS %}
 * {{ super() }}
 * RUN apt-get install -y {{ tools }} && echo "installed into {{ bento__path }}"
 * {% endblock %}
 * ```
 *
 * The engine is nunjucks (a maintained Jinja2 port), loaded only when a Bento has a template, with BentoML's
 * settings (`trim_blocks`, `lstrip_blocks`, no autoescape), Jinja2's `True`/`False`/`None`, slices and the
 * `dict.items()`-style methods, and BentoML 1.4.15's context (`container/generate.py`, `templates/base.j2`):
 * `bento__*`, `__options__*`, `__base_image__`, `__prometheus_port__`, `__is_cuda__`, `expands_bento_path()`,
 * the `bash_quote` filter and `{% import '_macros.j2' as common %}`. A variable BentoML does not define renders as
 * empty text, as in Jinja2.
 *
 * `super()` is bento's own rendering of that block, so an override keeps bento's image contract around it.
 * What cannot give the image BentoML would build is refused with the template's file and line: a Jinja2 tag,
 * filter or test nunjucks lacks (`{% do %}`, `{% break %}`, `{% with %}`, …), a template that does not extend
 * the base, text before `{% extends %}`, a block the base does not have, `{% set bento__user = … %}` and the
 * other `bento__*` settings BentoML lets a template change (bento's runtime contract is fixed).
 */

export const USER_TEMPLATE_BLOCKS = [
  'SETUP_BENTO_BASE_IMAGE',
  'SETUP_BENTO_USER',
  'SETUP_BENTO_ENVARS',
  'SETUP_BENTO_COMPONENTS',
  'SETUP_BENTO_ENTRYPOINT',
] as const
export type UserTemplateBlock = (typeof USER_TEMPLATE_BLOCKS)[number]

/** BentoML's own base templates a user template may name instead of `bento_base_template` (bento builds debian). */
const BASE_TEMPLATE_NAMES = ['base.j2', 'base_debian.j2', 'python_debian.j2', 'cuda_debian.j2'] as const
const BENTO_BASE = 'bento_base_template'
const MACROS = '_macros.j2'

/** BentoML's `_macros.j2`, re-implemented: `mount_cache(target)` and `{% call RUN(enable_buildkit) %}`. */
const MACROS_SOURCE = [
  '{%- macro mount_cache(target, extra_args="") -%}--mount=type=cache,target={{ target }}{{ extra_args }}{%- endmacro -%}',
  '{%- macro RUN(enable_buildkit=True) -%}RUN {% if enable_buildkit %}{{ caller() }}{% endif %}{%- endmacro -%}',
].join('\n')

/** What a template sees of the Bento (a structural subset of the Dockerfile context). */
export interface UserTemplateInputs {
  bentoPath: string
  uid: number
  baseImage: string
  pythonVersion?: string
  distro?: string
  cudaVersion?: string
  systemPackages?: string[]
  env?: ReadonlyArray<{name: string; value: string; stage?: string}>
  setupScript?: boolean
  buildkit?: boolean
}


/** Python's `shlex.quote` (BentoML's `bash_quote` filter). */
export function bashQuote(s: unknown): string {
  const text = String(s)
  if (text === '') return "''"
  if (/^[\w@%+=:,./-]+$/.test(text)) return text
  return `'${text.replace(/'/g, `'"'"'`)}'`
}

/** BentoML's `expands_bento_path(*path, bento_path=BENTO_PATH)`; nunjucks passes keyword arguments last. */
function expandsBentoPath(bentoPath: string) {
  return (...args: unknown[]): string => {
    const last = args[args.length - 1] as {__keywords?: boolean; bento_path?: unknown} | undefined
    const keywords = last !== null && typeof last === 'object' && last.__keywords === true ? (args.pop(), last) : undefined
    return [String(keywords?.bento_path ?? bentoPath), ...args.map(String)].join('/')
  }
}

/**
 * The variables BentoML 1.4.15 renders templates with (`get_templates_variables` and the top-level `{% set %}`s of
 * `base.j2`), valued by bento's runtime contract. `__options__*` mirror the Bento's docker options; where the Bento
 * only knows a file was given (`setup_script`), the value is its path inside the Bento.
 */
export function userTemplateVariables(ctx: UserTemplateInputs): Record<string, unknown> {
  const pythonVersion = ctx.pythonVersion ?? null
  const defaultBase = ctx.cudaVersion === undefined && pythonVersion !== null ? `python:${pythonVersion}-slim` : undefined
  const env = (ctx.env ?? []).filter((e) => (e.stage ?? 'all') !== 'build')
  const buildkit = ctx.buildkit ?? true
  return {
    __options__distro: ctx.distro ?? 'debian',
    __options__python_version: pythonVersion,
    __options__cuda_version: ctx.cudaVersion ?? null,
    __options__env: env.length > 0 ? Object.fromEntries(env.map((e) => [e.name, e.value])) : null,
    __options__system_packages: ctx.systemPackages && ctx.systemPackages.length > 0 ? [...ctx.systemPackages] : null,
    __options__setup_script: ctx.setupScript ? 'env/docker/setup_script' : null,
    __options__base_image: ctx.baseImage === defaultBase || ctx.cudaVersion !== undefined ? null : ctx.baseImage,
    __options__dockerfile_template: 'env/docker/Dockerfile.template',
    bento__uid_gid: ctx.uid,
    bento__user: BENTO_USER,
    bento__home: IMAGE_BENTOML_HOME,
    bento__path: ctx.bentoPath,
    bento__add_header: true,
    bento__buildkit_frontend: 'docker/dockerfile:1.2.1',
    bento__enable_buildkit: buildkit,
    bento__entrypoint: `${ctx.bentoPath}/env/docker/entrypoint.sh`,
    __enable_buildkit__: buildkit,
    __prometheus_port__: METRICS_PORT,
    __base_image__: ctx.baseImage,
    __conda_python_version__: pythonVersion,
    __is_cuda__: ctx.cudaVersion !== undefined,
    expands_bento_path: expandsBentoPath(ctx.bentoPath),
  }
}

/** A template that passed the static checks, ready to render. */
export interface ParsedUserTemplate {
  file: string
  /** The blocks the template overrides, in file order. */
  blocks: UserTemplateBlock[]
  /** The compiled template (opaque outside this module). */
  readonly compiled: unknown
}

// ---------------------------------------------------------------------------------------------
// The engine, loaded on first use.

interface AstNode {
  typename: string
  lineno: number
  colno: number
  fields: readonly string[]
  [field: string]: unknown
}

interface NunjucksInternals {
  parser: {parse(src: string, extensions: unknown[], opts: Record<string, unknown>): AstNode}
  installJinjaCompat(): void
  runtime: {suppressValue(value: unknown, autoescape: boolean): unknown; SafeString: new (s: string) => object}
}

/** Python's `repr` of a template value (inside lists and dicts). */
function pyRepr(value: unknown): string {
  if (typeof value !== 'string') return pyStr(value)
  const quote = value.includes("'") && !value.includes('"') ? '"' : "'"
  const body = value.replace(/\\/g, '\\\\').replace(/\n/g, '\\n').replace(/\r/g, '\\r').replace(/\t/g, '\\t')
  return quote + (quote === "'" ? body.replace(/'/g, "\\'") : body) + quote
}

/** Python's `str` of a template value, as Jinja2 prints `{{ value }}`: True, False, None, ['a', 'b'], {'k': 'v'}. */
function pyStr(value: unknown): string {
  if (value === undefined) return ''
  if (value === null) return 'None'
  if (value === true) return 'True'
  if (value === false) return 'False'
  if (Array.isArray(value)) return `[${value.map(pyRepr).join(', ')}]`
  if (typeof value === 'object' && Object.getPrototypeOf(value) === Object.prototype) {
    return `{${Object.entries(value).map(([k, v]) => `${pyRepr(k)}: ${pyRepr(v)}`).join(', ')}}`
  }
  return String(value)
}

type Engine = typeof Nunjucks & NunjucksInternals & {[COMPAT]?: true}
const COMPAT = Symbol.for('bento.nunjucks.jinja-compat')
const ENGINE_OPTIONS = {autoescape: false, trimBlocks: true, lstripBlocks: true, throwOnUndefined: false}

function engine(): Engine {
  const nunjucks = createRequire(import.meta.url)('nunjucks') as Engine
  // Jinja2's True/False/None, slices and list/dict methods, and values printed as Python prints them: these
  // patch nunjucks' runtime, so once per process.
  if (!nunjucks[COMPAT]) {
    nunjucks.installJinjaCompat()
    const {runtime} = nunjucks
    const suppressValue = runtime.suppressValue.bind(runtime)
    runtime.suppressValue = (value, autoescape) =>
      suppressValue(typeof value === 'string' || value instanceof runtime.SafeString ? value : pyStr(value), autoescape)
    nunjucks[COMPAT] = true
  }
  return nunjucks
}

const SUPER = '\u0000bento:super\u0000'
const begin = (b: string): string => `\u0000bento:begin:${b}\u0000`
const end = (b: string): string => `\u0000bento:end:${b}\u0000`

/** The base the user template extends: each block renders a marker for `super()`, framed so it can be cut out. */
const BASE_SOURCE = USER_TEMPLATE_BLOCKS.map((b) => `${begin(b)}{% block ${b} %}${SUPER}{% endblock %}${end(b)}`).join('')

class TemplateProblem extends Error {}

function environment(nunjucks: Engine): Nunjucks.Environment {
  const loader = {
    getSource(name: string): {src: string; path: string; noCache: boolean} {
      if (name === BENTO_BASE || (BASE_TEMPLATE_NAMES as readonly string[]).includes(name)) return {src: BASE_SOURCE, path: name, noCache: true}
      if (name === MACROS) return {src: MACROS_SOURCE, path: name, noCache: true}
      throw new TemplateProblem(
        `template "${name}" cannot be loaded: a template can extend bento_base_template (or BentoML's ${BASE_TEMPLATE_NAMES.join(', ')}) and import ${MACROS}`,
      )
    },
  }
  const env = new nunjucks.Environment(loader as unknown as Nunjucks.ILoader, ENGINE_OPTIONS)
  env.addFilter('bash_quote', bashQuote)
  env.addFilter('tojson', (v: unknown) => JSON.stringify(v))
  env.addFilter('items', (v: unknown) => (v !== null && typeof v === 'object' ? Object.entries(v) : []))
  env.addFilter('unique', (v: unknown) => (Array.isArray(v) ? [...new Set(v)] : v))
  env.addFilter('min', (v: unknown) => (Array.isArray(v) ? v.reduce((a: unknown, b: unknown) => ((b as number) < (a as number) ? b : a)) : v))
  env.addFilter('max', (v: unknown) => (Array.isArray(v) ? v.reduce((a: unknown, b: unknown) => ((b as number) > (a as number) ? b : a)) : v))
  // Jinja2's tests that nunjucks names differently or lacks (addTest exists in nunjucks 3, not in its typings).
  const tests = env as unknown as {addTest(name: string, test: (...args: unknown[]) => boolean): void}
  tests.addTest('none', (v: unknown) => v === null)
  tests.addTest('boolean', (v: unknown) => typeof v === 'boolean')
  tests.addTest('true', (v: unknown) => v === true)
  tests.addTest('false', (v: unknown) => v === false)
  tests.addTest('integer', (v: unknown) => Number.isInteger(v))
  tests.addTest('float', (v: unknown) => typeof v === 'number' && !Number.isInteger(v))
  tests.addTest('sequence', (v: unknown) => Array.isArray(v) || typeof v === 'string')
  tests.addTest('in', (v: unknown, seq: unknown) => (Array.isArray(seq) || typeof seq === 'string' ? seq.includes(v as string) : seq !== null && typeof seq === 'object' && String(v) in seq))
  return env
}

// ---------------------------------------------------------------------------------------------
// Static checks

/** Jinja2 statements nunjucks does not have, with what to write instead. */
const MISSING_TAGS: Readonly<Record<string, string>> = {
  do: 'use {% set %} (e.g. {% set items = items + [x] %})',
  break: 'filter the list before the loop instead (e.g. with | select or an {% if %} inside it)',
  continue: 'put an {% if %} around the loop body instead',
  with: 'use {% set %} at the top of the block',
  debug: 'remove it',
  trans: 'write the text directly',
  autoescape: 'remove it (Dockerfiles are not escaped)',
}

function children(node: AstNode): AstNode[] {
  const out: AstNode[] = []
  const visit = (v: unknown): void => {
    if (Array.isArray(v)) v.forEach(visit)
    else if (v !== null && typeof v === 'object' && typeof (v as AstNode).typename === 'string') out.push(v as AstNode)
  }
  for (const f of node.fields) visit(node[f])
  return out
}

function walk(node: AstNode, f: (n: AstNode) => void): void {
  f(node)
  for (const c of children(node)) walk(c, f)
}

const symbolName = (n: unknown): string | undefined =>
  n !== null && typeof n === 'object' && (n as AstNode).typename === 'Symbol' ? String((n as AstNode).value) : undefined

function checkAst(root: AstNode, env: Nunjucks.Environment, fail: (line: number, message: string, hint?: string) => void): UserTemplateBlock[] {
  const top = root.children as AstNode[]
  const extendsAt = top.findIndex((n) => n.typename === 'Extends')
  if (extendsAt === -1) {
    fail(1, 'the template does not extend bento_base_template', 'BentoML templates extend the generated Dockerfile: begin the file with {% extends bento_base_template %} and override blocks')
  } else {
    const ext = top[extendsAt] as AstNode
    const target = ext.template as AstNode
    const name = symbolName(target) ?? (target.typename === 'Literal' ? String(target.value) : undefined)
    if (name !== BENTO_BASE && !(BASE_TEMPLATE_NAMES as readonly string[]).includes(name ?? '')) {
      fail(ext.lineno + 1, `{% extends ${name ?? '…'} %}: only {% extends bento_base_template %} (or BentoML's ${BASE_TEMPLATE_NAMES.join(', ')}) can be extended`)
    }
    if (top.slice(extendsAt + 1).some((n) => n.typename === 'Extends')) fail(ext.lineno + 1, '{% extends %} is given twice')
    // Jinja2 prints what comes before {% extends %} at the top of the Dockerfile; nunjucks drops it.
    for (const n of top.slice(0, extendsAt)) {
      if (n.typename !== 'Output') continue
      const text = children(n).some((c) => c.typename !== 'TemplateData' || String(c.value).trim() !== '')
      if (text) fail(n.lineno + 1, 'text before {% extends %} would go before the FROM line', 'start the file with {% extends bento_base_template %} (comments and {% set %} may come first)')
    }
  }

  const blocks: UserTemplateBlock[] = []
  for (const n of top) {
    if (n.typename === 'Block') {
      const name = symbolName(n.name) ?? ''
      if (!(USER_TEMPLATE_BLOCKS as readonly string[]).includes(name)) {
        fail(n.lineno + 1, `unknown block "${name}"`, `the base template's blocks are ${USER_TEMPLATE_BLOCKS.join(', ')}`)
      } else blocks.push(name as UserTemplateBlock)
    }
    if (n.typename === 'Set') {
      for (const t of (n.targets as AstNode[] | undefined) ?? []) {
        const name = symbolName(t) ?? ''
        if (name.startsWith('bento__')) {
          fail(
            n.lineno + 1,
            `{% set ${name} %} changes the image's runtime contract, which bento keeps fixed (user ${BENTO_USER}, uid ${BENTO_UID}, ${BENTO_PATH})`,
            'remove the {% set %}; override a block instead',
          )
        }
      }
    }
  }

  const filters = env as unknown as {filters: Record<string, unknown>; tests: Record<string, unknown>}
  walk(root, (n) => {
    // `{% for x in xs if cond %}`: nunjucks reads `xs if cond` as an inline if (cond about an unbound x): no filtering.
    if (n.typename === 'For' && (n.arr as AstNode | undefined)?.typename === 'InlineIf') {
      fail(n.lineno + 1, 'a loop filter ({% for x in items if condition %}) is a Jinja2 feature nunjucks reads differently', 'put an {% if %} inside the loop, or filter first: {% for x in items | reject("equalto", "git") %}')
    }
    if (n.typename === 'Filter') {
      const name = symbolName(n.name) ?? ''
      if (!(name in filters.filters)) fail(n.lineno + 1, `the Jinja2 filter "${name}" is not available in bento's template engine (nunjucks)`)
    } else if (n.typename === 'Is') {
      const name = symbolName(n.right) ?? symbolName((n.right as AstNode | undefined)?.name)
      if (name !== undefined && !(name in filters.tests)) fail(n.lineno + 1, `the Jinja2 test "is ${name}" is not available in bento's template engine (nunjucks)`)
    }
  })
  return blocks
}

/** "[Line 5, Column 14]" of a nunjucks error message; `zeroBased` for render-time errors. */
function errorPosition(e: unknown, zeroBased: boolean): {line?: number; message: string} {
  const err = e as {message?: string; lineno?: number}
  const raw = String(err.message ?? e)
  const positions = [...raw.matchAll(/\[Line (\d+), Column (\d+)\]/g)]
  const last = positions[positions.length - 1]
  const line = typeof err.lineno === 'number' && !zeroBased ? err.lineno : last ? Number(last[1]) + (zeroBased ? 1 : 0) : undefined
  const message = (raw.split('\n').pop() ?? raw).trim().replace(/^(Error|Template render error):\s*/, '')
  return {line, message}
}

function explain(message: string): {message: string; hint?: string} {
  const tag = /^unknown block tag: (\w+)$/.exec(message)
  if (tag?.[1] !== undefined) {
    const name = tag[1]
    return {message: `{% ${name} %} is a Jinja2 tag bento's template engine (nunjucks) does not have`, hint: MISSING_TAGS[name] ?? 'rewrite the template without it'}
  }
  const call = /^Unable to call `(.+)`, which is undefined or falsey$/.exec(message)
  if (call?.[1] !== undefined) {
    return {message: `${call[1].replace(/\["(\w+)"\]$/, '.$1')}() is not defined in bento's template engine (nunjucks)`, hint: 'Python methods of strings are not available: use filters (| upper, | replace, | trim, …)'}
  }
  return {message: `${message} (bento's template engine is nunjucks, a Jinja2 port)`}
}

function configError(file: string, problems: Array<{line?: number; message: string; hint?: string}>): ConfigError {
  const diagnostics: Diagnostic[] = problems.map((p) => ({
    file,
    ...(p.line === undefined ? {} : {line: p.line}),
    key: 'docker.dockerfile_template',
    message: p.message,
    ...(p.hint === undefined ? {} : {hint: p.hint}),
    severity: 'error',
  }))
  return new ConfigError(`Unsupported docker.dockerfile_template ${file}`, diagnostics, {
    hint: "bento renders Jinja2 templates that extend bento_base_template with nunjucks; see the README's dockerfile_template section",
  })
}

/** Check and compile a user template; throws `ConfigError` (file, line) for what bento cannot render as BentoML would. */
export function parseUserTemplate(content: string, file: string): ParsedUserTemplate {
  const nunjucks = engine()
  const env = environment(nunjucks)
  let root: AstNode
  try {
    root = nunjucks.parser.parse(content, [], ENGINE_OPTIONS)
  } catch (e) {
    const {line, message} = errorPosition(e, false)
    throw configError(file, [{line, ...explain(message)}])
  }
  const problems: Array<{line?: number; message: string; hint?: string}> = []
  const blocks = checkAst(root, env, (line, message, hint) => {
    if (!problems.some((p) => p.line === line && p.message === message)) problems.push({line, message, hint})
  })
  if (problems.length > 0) throw configError(file, problems)
  let compiled: Nunjucks.Template
  try {
    compiled = new nunjucks.Template(content, env, file, true)
  } catch (e) {
    const {line, message} = errorPosition(e, false)
    throw configError(file, [{line, ...explain(message)}])
  }
  return {file, blocks, compiled}
}

/** `parts` joined by `original`, without doubling the line break of a `{{ super() }}` line. */
function withSuper(text: string, original: string): string {
  const parts = text.split(SUPER)
  let out = parts[0] ?? ''
  for (const part of parts.slice(1)) {
    out += original
    out += original.endsWith('\n') && part.startsWith('\n') ? part.slice(1) : part
  }
  return out
}

/**
 * Render the template once with `variables` and return, for each block it overrides, a function of bento's own
 * rendering of that block (`super()`) to the block's text. Throws `ConfigError` (file, line) when rendering fails.
 */
export function userTemplateOverrides(parsed: ParsedUserTemplate, variables: Record<string, unknown>): Record<string, (original: string) => string> {
  let output: string
  try {
    output = (parsed.compiled as Nunjucks.Template).render({...variables, [BENTO_BASE]: BENTO_BASE})
  } catch (e) {
    if (e instanceof TemplateProblem) throw configError(parsed.file, [{message: e.message}])
    const {line, message} = errorPosition(e, true)
    throw configError(parsed.file, [{line, ...explain(message)}])
  }
  const out: Record<string, (original: string) => string> = {}
  for (const block of USER_TEMPLATE_BLOCKS) {
    const from = output.indexOf(begin(block))
    const to = output.indexOf(end(block))
    if (from === -1 || to === -1) continue
    const text = output.slice(from + begin(block).length, to)
    if (text !== SUPER) out[block] = (original) => withSuper(text, original)
  }
  return out
}
