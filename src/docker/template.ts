/**
 * A deliberately tiny template language for the files under `templates/` (Dockerfile.template, install.sh).
 *
 * Syntax (everything else is literal text):
 *
 * | tag | meaning |
 * | --- | --- |
 * | `{{ path }}` | the value at `path` (`a.b.c`, `this`, `this.name`, `@last`) converted with `String()`; it must not be null/undefined |
 * | `{{ path \| filter }}` | the value passed through one filter: `json` (JSON string literal), `sh` (POSIX shell single-quoted word), `dq` (Dockerfile double-quoted string: `"`, `\` and `$` escaped), `shwords` (a string[] shell-quoted and joined with spaces) |
 * | `{{#if path}}…{{else}}…{{/if}}` | truthy test (`[]` and `''` are false) |
 * | `{{#each path}}…{{/each}}` | loop over an array; inside, `this` is the item, `@index`, `@first` and `@last` are set |
 * | `{{#block NAME}}…{{/block}}` | a named section that a caller may replace (see `overrides` in `renderTemplate`) |
 * | `{{! comment }}`, `{{!-- comment that may contain }} --}}` | dropped |
 *
 * A control tag (`#…`, `/…`, `else`, `!…`) that stands alone on its line removes the whole line, as in
 * Mustache, so templates stay readable without leaving blank lines behind.
 *
 * Errors in a template are reported as `TemplateSyntaxError` with the 1-based line of the offending tag.
 */

export class TemplateSyntaxError extends Error {
  readonly line: number
  constructor(message: string, line: number) {
    super(`line ${line}: ${message}`)
    this.name = 'TemplateSyntaxError'
    this.line = line
  }
}

type Filter = 'json' | 'sh' | 'dq' | 'shwords'
const FILTERS: readonly string[] = ['json', 'sh', 'dq', 'shwords']

export type TemplateNode =
  | {kind: 'text'; text: string}
  | {kind: 'var'; path: string; filter?: Filter; line: number}
  | {kind: 'if'; path: string; then: TemplateNode[]; else: TemplateNode[]; line: number}
  | {kind: 'each'; path: string; body: TemplateNode[]; line: number}
  | {kind: 'block'; name: string; body: TemplateNode[]; line: number}

interface Token {
  kind: 'text' | 'tag'
  text: string
  line: number
}

const TAG = /\{\{!--[\s\S]*?--\}\}|\{\{([\s\S]*?)\}\}/g

/** The 1-based line of an index, for indices asked in increasing order: each character is counted once. */
function lineCounter(source: string): (index: number) => number {
  let at = 0
  let line = 1
  return (index) => {
    for (; at < index; at++) if (source.charCodeAt(at) === 10) line++
    return line
  }
}

function isControl(inner: string): boolean {
  const t = inner.trim()
  return t.startsWith('#') || t.startsWith('/') || t.startsWith('!') || t === 'else'
}

/** Split into text and tag tokens, applying the standalone-line rule for control tags. */
function tokenize(source: string): Token[] {
  const tokens: Token[] = []
  const lineAt = lineCounter(source)
  let last = 0
  // `cut` marks text already consumed by a standalone control tag's trailing newline.
  for (const m of source.matchAll(TAG)) {
    const start = m.index
    let end = start + m[0].length
    const inner = m[1] ?? '!'
    let textEnd = start
    if (isControl(inner)) {
      const lineStart = source.lastIndexOf('\n', start - 1) + 1
      const nl = source.indexOf('\n', end)
      const lineEnd = nl === -1 ? source.length : nl
      const before = source.slice(Math.max(lineStart, last), start)
      const after = source.slice(end, lineEnd)
      if (lineStart >= last && /^[ \t]*$/.test(before) && /^[ \t\r]*$/.test(after)) {
        textEnd = lineStart
        end = nl === -1 ? source.length : nl + 1
      }
    }
    if (textEnd > last) tokens.push({kind: 'text', text: source.slice(last, textEnd), line: lineAt(last)})
    tokens.push({kind: 'tag', text: inner, line: lineAt(start)})
    last = end
  }
  if (last < source.length) tokens.push({kind: 'text', text: source.slice(last), line: lineAt(last)})
  return tokens
}

const PATH = /^(@index|@first|@last|this(\.[A-Za-z_][\w-]*)*|[A-Za-z_][\w]*(\.[A-Za-z_][\w-]*)*)$/

function checkPath(path: string, line: number): string {
  if (!PATH.test(path)) throw new TemplateSyntaxError(`invalid name "${path}"`, line)
  return path
}

/** Parse a template into a tree. Throws TemplateSyntaxError. */
export function parseTemplate(source: string): TemplateNode[] {
  const tokens = tokenize(source)
  let pos = 0

  function parseUntil(closers: string[]): {nodes: TemplateNode[]; closer?: string; line: number} {
    const nodes: TemplateNode[] = []
    while (pos < tokens.length) {
      const tok = tokens[pos++] as Token
      if (tok.kind === 'text') {
        nodes.push({kind: 'text', text: tok.text})
        continue
      }
      const t = tok.text.trim()
      if (t.startsWith('!')) continue
      if (t === 'else' || t.startsWith('/')) {
        if (closers.includes(t)) return {nodes, closer: t, line: tok.line}
        throw new TemplateSyntaxError(`unexpected {{${t}}}`, tok.line)
      }
      if (t.startsWith('#')) {
        const [kw, arg, ...rest] = t.slice(1).trim().split(/\s+/)
        if (arg === undefined || rest.length > 0) throw new TemplateSyntaxError(`{{#${kw}}} takes exactly one argument`, tok.line)
        if (kw === 'if') {
          const first = parseUntil(['else', '/if'])
          if (first.closer === undefined) throw new TemplateSyntaxError('{{#if}} is never closed with {{/if}}', tok.line)
          let elseNodes: TemplateNode[] = []
          if (first.closer === 'else') {
            const second = parseUntil(['/if'])
            if (second.closer === undefined) throw new TemplateSyntaxError('{{#if}} is never closed with {{/if}}', tok.line)
            elseNodes = second.nodes
          }
          nodes.push({kind: 'if', path: checkPath(arg, tok.line), then: first.nodes, else: elseNodes, line: tok.line})
        } else if (kw === 'each' || kw === 'block') {
          const body = parseUntil([`/${kw}`])
          if (body.closer === undefined) throw new TemplateSyntaxError(`{{#${kw}}} is never closed with {{/${kw}}}`, tok.line)
          if (kw === 'each') nodes.push({kind: 'each', path: checkPath(arg, tok.line), body: body.nodes, line: tok.line})
          else {
            if (!/^[A-Z][A-Z0-9_]*$/.test(arg)) throw new TemplateSyntaxError(`block names are UPPER_SNAKE_CASE, got "${arg}"`, tok.line)
            nodes.push({kind: 'block', name: arg, body: body.nodes, line: tok.line})
          }
        } else {
          throw new TemplateSyntaxError(`unknown section {{#${kw}}} (use #if, #each or #block)`, tok.line)
        }
        continue
      }
      const [pathPart, filterPart, ...more] = t.split('|').map((s) => s.trim())
      if (more.length > 0) throw new TemplateSyntaxError('only one filter per placeholder is supported', tok.line)
      if (filterPart !== undefined && !FILTERS.includes(filterPart)) {
        throw new TemplateSyntaxError(`unknown filter "${filterPart}" (known: ${FILTERS.join(', ')})`, tok.line)
      }
      nodes.push({kind: 'var', path: checkPath(pathPart ?? '', tok.line), filter: filterPart as Filter | undefined, line: tok.line})
    }
    return {nodes, line: tokens[pos - 1]?.line ?? 1}
  }

  const result = parseUntil([])
  return result.nodes
}

/** Names of all `{{#block}}` sections, in order. */
export function templateBlocks(nodes: TemplateNode[]): string[] {
  const out: string[] = []
  const walk = (ns: TemplateNode[]): void => {
    for (const n of ns) {
      if (n.kind === 'block') out.push(n.name)
      if (n.kind === 'block' || n.kind === 'each') walk(n.body)
      if (n.kind === 'if') {
        walk(n.then)
        walk(n.else)
      }
    }
  }
  walk(nodes)
  return out
}

/** POSIX shell single-quoting: safe for any string, including empty and multi-line ones. */
export function shellQuote(s: string): string {
  if (s !== '' && /^[A-Za-z0-9_@%+=:,./-]+$/.test(s)) return s
  return `'${s.replaceAll("'", `'"'"'`)}'`
}

/** A Dockerfile double-quoted string for ENV/ARG/LABEL: `"` and `\` escaped, `$` escaped so no substitution happens. */
export function dockerfileQuote(s: string): string {
  if (/[\r\n]/.test(s)) throw new Error('a Dockerfile value cannot contain a line break')
  return `"${s.replace(/[\\"$]/g, (c) => `\\${c}`)}"`
}

function applyFilter(value: unknown, filter: Filter | undefined, path: string, line: number): string {
  switch (filter) {
    case undefined:
      return String(value)
    case 'json':
      return JSON.stringify(typeof value === 'string' ? value : String(value))
    case 'sh':
      return shellQuote(String(value))
    case 'dq':
      return dockerfileQuote(String(value))
    case 'shwords':
      if (!Array.isArray(value)) throw new TemplateSyntaxError(`"${path}" is not a list (filter shwords)`, line)
      return value.map((v) => shellQuote(String(v))).join(' ')
  }
}

type Scope = {root: Record<string, unknown>; item?: unknown; index?: number; length?: number}

function lookup(scope: Scope, path: string, line: number): unknown {
  if (path === '@index') return scope.index
  if (path === '@first') return scope.index === 0
  if (path === '@last') return scope.length !== undefined && scope.index === scope.length - 1
  const parts = path.split('.')
  let cur: unknown = parts[0] === 'this' ? scope.item : scope.root[parts[0] as string]
  if (parts[0] === 'this' && !('item' in scope)) throw new TemplateSyntaxError('"this" used outside {{#each}}', line)
  for (const p of parts.slice(1)) {
    cur = cur !== null && typeof cur === 'object' ? (cur as Record<string, unknown>)[p] : undefined
  }
  return cur
}

function truthy(v: unknown): boolean {
  if (Array.isArray(v)) return v.length > 0
  return Boolean(v)
}

/**
 * Render a parsed template. `overrides[NAME]` replaces block NAME; it receives the block's own rendering
 * (for `super()`).
 */
export function renderNodes(
  nodes: TemplateNode[],
  data: Record<string, unknown>,
  overrides: Record<string, (original: string) => string> = {},
): string {
  const render = (ns: TemplateNode[], scope: Scope): string => {
    let out = ''
    for (const n of ns) {
      switch (n.kind) {
        case 'text':
          out += n.text
          break
        case 'var': {
          const v = lookup(scope, n.path, n.line)
          if (v === undefined || v === null) throw new TemplateSyntaxError(`"${n.path}" has no value`, n.line)
          out += applyFilter(v, n.filter, n.path, n.line)
          break
        }
        case 'if':
          out += render(truthy(lookup(scope, n.path, n.line)) ? n.then : n.else, scope)
          break
        case 'each': {
          const list = lookup(scope, n.path, n.line)
          if (!Array.isArray(list)) throw new TemplateSyntaxError(`"${n.path}" is not a list`, n.line)
          list.forEach((item, index) => {
            out += render(n.body, {root: scope.root, item, index, length: list.length})
          })
          break
        }
        case 'block': {
          const own = render(n.body, scope)
          const override = overrides[n.name]
          out += override ? override(own) : own
          break
        }
      }
    }
    return out
  }
  return render(nodes, {root: data})
}

/** Parse and render in one go. */
export function renderTemplate(
  source: string,
  data: Record<string, unknown>,
  overrides?: Record<string, (original: string) => string>,
): string {
  return renderNodes(parseTemplate(source), data, overrides)
}
