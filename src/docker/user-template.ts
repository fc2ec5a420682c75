import {ConfigError, type Diagnostic} from '../errors.js'

/**
 * The BentoML-compatible subset of Jinja accepted in `docker.dockerfile_template`:
 *
 * ```jinja
 * {% extends bento_base_template %}
 * {% block SETUP_BENTO_COMPONENTS %}
 * {{ super() }}
 * RUN echo "installed into {{ bento__path }}"
 * {% endblock %}
 * ```
 *
 * - `{% extends bento_base_template %}` is required and comes first;
 * - `{% block NAME %}…{% endblock [NAME] %}` for the block names in `USER_TEMPLATE_BLOCKS` (not nested);
 * - inside a block: `{{ super() }}` (our rendering of that block) and the variables in `USER_TEMPLATE_VARIABLES`;
 * - `{# comments #}` anywhere, `{%-`/`-%}` accepted; whitespace outside blocks is ignored.
 *
 * Anything else is a `ConfigError` naming the file and line: we would rather refuse than silently
 * produce a different image than BentoML would.
 */

export const USER_TEMPLATE_BLOCKS = [
  'SETUP_BENTO_BASE_IMAGE',
  'SETUP_BENTO_USER',
  'SETUP_BENTO_ENVARS',
  'SETUP_BENTO_COMPONENTS',
  'SETUP_BENTO_ENTRYPOINT',
] as const
export type UserTemplateBlock = (typeof USER_TEMPLATE_BLOCKS)[number]

/** Template variables BentoML exposes that we support, with the values of our runtime contract. */
export function userTemplateVariables(ctx: {bentoPath: string; uid: number; baseImage: string}): Record<string, string> {
  return {
    bento__path: ctx.bentoPath,
    bento__home: '/home/bentoml/',
    bento__user: 'bentoml',
    bento__uid_gid: String(ctx.uid),
    bento__entrypoint: `${ctx.bentoPath}/env/docker/entrypoint.sh`,
    __base_image__: ctx.baseImage,
  }
}
export const USER_TEMPLATE_VARIABLES = [
  'bento__path',
  'bento__home',
  'bento__user',
  'bento__uid_gid',
  'bento__entrypoint',
  '__base_image__',
] as const

type Part = {kind: 'text'; text: string} | {kind: 'super'; inline: boolean} | {kind: 'var'; name: string}

/** Parsed user template: for each block it overrides, the parts to render. */
export interface ParsedUserTemplate {
  file: string
  blocks: Partial<Record<UserTemplateBlock, Part[]>>
}

const TAG = /\{#[\s\S]*?#\}|\{%(-?)([\s\S]*?)(-?)%\}|\{\{(-?)([\s\S]*?)(-?)\}\}/g

function lineAt(source: string, index: number): number {
  let line = 1
  for (let i = 0; i < index; i++) if (source.charCodeAt(i) === 10) line++
  return line
}

export function parseUserTemplate(content: string, file: string): ParsedUserTemplate {
  const problems: Diagnostic[] = []
  const fail = (index: number, message: string, hint?: string): void => {
    problems.push({file, line: lineAt(content, index), key: 'docker.dockerfile_template', message, hint, severity: 'error'})
  }
  const blocks: ParsedUserTemplate['blocks'] = {}
  let extended = false
  let current: {name: UserTemplateBlock | undefined; parts: Part[]; start: number} | undefined
  let last = 0

  const pushText = (text: string, index: number): void => {
    if (text === '') return
    if (current) current.parts.push({kind: 'text', text})
    else if (text.trim() !== '') {
      const offset = index + (text.length - text.trimStart().length)
      fail(offset, 'text outside a {% block %} is ignored by Jinja', 'move it inside one of the blocks, e.g. {% block SETUP_BENTO_COMPONENTS %}{{ super() }} … {% endblock %}')
    }
  }

  for (const m of content.matchAll(TAG)) {
    const start = m.index
    let end = start + m[0].length
    const isExpr = m[0].startsWith('{{')
    const inner = ((isExpr ? m[5] : m[2]) ?? '').trim()
    const isSuper = isExpr && /^super\(\s*\)$/.test(inner)
    // Standalone statement/comment/super() lines disappear entirely (Jinja trim_blocks + lstrip_blocks).
    let textEnd = start
    let standalone = false
    if (!isExpr || isSuper) {
      const lineStart = content.lastIndexOf('\n', start - 1) + 1
      const nl = content.indexOf('\n', end)
      const lineEnd = nl === -1 ? content.length : nl
      if (lineStart >= last && /^[ \t]*$/.test(content.slice(lineStart, start)) && /^[ \t\r]*$/.test(content.slice(end, lineEnd))) {
        textEnd = lineStart
        end = nl === -1 ? content.length : nl + 1
        standalone = true
      }
    }
    pushText(content.slice(last, textEnd), last)
    last = end

    if (m[0].startsWith('{#')) continue
    if (isExpr) {
      if (!current) {
        fail(start, `{{ ${inner} }} outside a {% block %} is ignored by Jinja`)
      } else if (isSuper) {
        current.parts.push({kind: 'super', inline: !standalone})
      } else if ((USER_TEMPLATE_VARIABLES as readonly string[]).includes(inner)) {
        current.parts.push({kind: 'var', name: inner})
      } else {
        fail(start, `unsupported expression {{ ${inner} }}`, `supported: {{ super() }}, ${USER_TEMPLATE_VARIABLES.map((v) => `{{ ${v} }}`).join(', ')}`)
      }
      continue
    }
    const words = inner.split(/\s+/)
    const [kw, arg, ...rest] = words
    if (kw === 'extends') {
      if (arg !== 'bento_base_template' || rest.length > 0) {
        fail(start, `{% ${inner} %}: only {% extends bento_base_template %} is supported`)
      } else if (extended || current || Object.keys(blocks).length > 0) {
        fail(start, '{% extends bento_base_template %} must come first, once')
      }
      extended = true
    } else if (kw === 'block') {
      if (current) fail(start, 'nested {% block %} is not supported', `close {% block ${current.name ?? ''} %} with {% endblock %} first`)
      if (arg === undefined || rest.length > 0) {
        fail(start, '{% block %} needs exactly one name')
      } else if (!(USER_TEMPLATE_BLOCKS as readonly string[]).includes(arg)) {
        fail(start, `unknown block "${arg}"`, `known blocks: ${USER_TEMPLATE_BLOCKS.join(', ')}`)
      } else if (blocks[arg as UserTemplateBlock]) {
        fail(start, `block "${arg}" is defined twice`)
      }
      const name = (USER_TEMPLATE_BLOCKS as readonly string[]).includes(arg ?? '') ? (arg as UserTemplateBlock) : undefined
      current = {name, parts: [], start}
    } else if (kw === 'endblock') {
      if (!current) fail(start, '{% endblock %} without a matching {% block %}')
      else {
        if (arg !== undefined && arg !== current.name) fail(start, `{% endblock ${arg} %} closes {% block ${current.name ?? '?'} %}`)
        if (current.name && !blocks[current.name]) blocks[current.name] = current.parts
        current = undefined
      }
    } else {
      fail(start, `unsupported statement {% ${inner} %}`, 'only {% extends bento_base_template %}, {% block NAME %} and {% endblock %} are supported')
    }
  }
  pushText(content.slice(last), last)
  if (current) fail(current.start, `{% block ${current.name ?? ''} %} is never closed with {% endblock %}`)
  if (!extended) {
    problems.unshift({
      file,
      line: 1,
      key: 'docker.dockerfile_template',
      message: 'the template does not start with {% extends bento_base_template %}',
      hint: 'BentoML templates extend the generated Dockerfile: begin the file with {% extends bento_base_template %} and override blocks',
      severity: 'error',
    })
  }
  if (problems.length > 0) {
    throw new ConfigError(`Unsupported docker.dockerfile_template ${file}`, problems, {
      hint: 'bento supports {% extends bento_base_template %}, {% block NAME %}…{{ super() }}…{% endblock %}, and the bento__* variables',
    })
  }
  return {file, blocks}
}

/** Overrides for `renderNodes`: each user block rendered with `super()` = our rendering of that block. */
export function userTemplateOverrides(
  parsed: ParsedUserTemplate,
  variables: Record<string, string>,
): Record<string, (original: string) => string> {
  const out: Record<string, (original: string) => string> = {}
  for (const [name, parts] of Object.entries(parsed.blocks)) {
    out[name] = (original) =>
      parts
        .map((p) => {
          if (p.kind === 'text') return p.text
          if (p.kind === 'var') return variables[p.name] ?? ''
          return p.inline ? original.replace(/\n$/, '') : original
        })
        .join('')
  }
  return out
}
