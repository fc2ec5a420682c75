/**
 * A faithful port of python `pathspec`'s "gitwildmatch" dialect (what BentoML uses for `include`, `exclude`
 * and `.bentoignore`). The translation follows pathspec 1.x `GitIgnoreSpecPattern.pattern_to_regex`
 * (registered as "gitwildmatch" for backward compatibility), which a fresh `pip install bentoml==1.4.15`
 * resolves to. Differences from pathspec 0.12.1 are listed in `PATHSPEC_0_12_DIFFERENCES`.
 *
 * Python regex details are reproduced in JavaScript syntax:
 * - `.` in Python never matches `\n` → `[^\n]` (JS `.` also refuses `\r`, U+2028, U+2029).
 * - Python `$` also matches before one trailing `\n` → `(?=\n?$)`.
 * - Matching is `re.search` on the normalized path; every non-override regex starts with `^`.
 * - The `u` flag makes `?` and `[...]` consume one code point, as Python does.
 */
import {ConfigError} from '../errors.js'

/** Where pathspec 0.12.1 (used by BentoML installs from before 2026) behaves differently; for the docs. */
export const PATHSPEC_0_12_DIFFERENCES = [
  '0.12 strips leading whitespace from patterns; 1.x keeps it (" foo" matches a file named " foo").',
  '0.12 treats an unclosed "[" as a literal; 1.x discards a pattern with invalid range notation.',
  '0.12 treats "!/" as matching nothing; 1.x treats it as a negated "**/".',
] as const

/** A pattern pathspec rejects (BentoML raises `GitWildMatchPatternError`). */
export class GitWildMatchError extends ConfigError {
  readonly pattern: string
  readonly reason: string
  constructor(pattern: string, reason: string) {
    super(`invalid gitwildmatch pattern ${JSON.stringify(pattern)}: ${reason}`)
    this.pattern = pattern
    this.reason = reason
  }
}

const ANY = '[^\\n]'
/** Python's `$` without MULTILINE: end of string, or before a final newline. */
const PY_END = '(?=\\n?$)'
const DIR_MARK_OPT = `(?:/|${PY_END})`

/** `str.isspace()` characters, which `str.rstrip()` removes (differs from JS `trimEnd`). */
const PY_WHITESPACE = new Set([
  '\t', '\n', '\v', '\f', '\r', '\x1c', '\x1d', '\x1e', '\x1f', ' ', '\x85', '\xa0', '\u1680',
  '\u2000', '\u2001', '\u2002', '\u2003', '\u2004', '\u2005', '\u2006', '\u2007', '\u2008', '\u2009', '\u200a',
  '\u2028', '\u2029', '\u202f', '\u205f', '\u3000',
])

function pyRstrip(s: string): string {
  let end = s.length
  while (end > 0 && PY_WHITESPACE.has(s[end - 1] as string)) end--
  return s.slice(0, end)
}

/** Characters that must be escaped to be literal in a `u`-flag regex outside a class. */
const SYNTAX = new Set(['^', '$', '\\', '.', '*', '+', '?', '(', ')', '[', ']', '{', '}', '|', '/'])

function escapeChar(c: string): string {
  return SYNTAX.has(c) ? `\\${c}` : c
}

class RangeError_ extends Error {}

/**
 * One path segment glob → regex (pathspec `_translate_segment_glob(pattern, 'raise')`).
 * Throws `RangeError_` for an unclosed bracket expression (pathspec discards such patterns).
 */
function translateSegmentGlob(segment: string): string {
  const chars = Array.from(segment)
  const end = chars.length
  let escape = false
  let regex = ''
  let i = 0
  while (i < end) {
    const char = chars[i] as string
    i += 1
    if (escape) {
      escape = false
      regex += escapeChar(char)
    } else if (char === '\\') {
      escape = true
    } else if (char === '*') {
      regex += '[^/]*'
    } else if (char === '?') {
      regex += '[^/]'
    } else if (char === '[') {
      let j = i
      if (j < end && (chars[j] === '!' || chars[j] === '^')) j += 1
      if (j < end && chars[j] === ']') j += 1
      while (j < end && chars[j] !== ']') j += 1
      if (j >= end) throw new RangeError_(`invalid range notation in ${JSON.stringify(segment)}`)
      j += 1
      let expr = '['
      if (chars[i] === '!' || chars[i] === '^') {
        expr += '^'
        i += 1
      }
      // Python keeps backslashes literal (they are doubled); a leading `]` is literal in Python but would
      // close (or empty) the class in JavaScript, so it is escaped.
      let body = chars.slice(i, j - 1).join('').replaceAll('\\', '\\\\')
      if (body.startsWith(']')) body = `\\${body}`
      expr += `${body}]`
      regex += expr
      i = j
    } else {
      regex += escapeChar(char)
    }
  }
  if (escape) throw new Error(`Escape character found with no next character to escape: ${JSON.stringify(segment)}`)
  return regex
}

/** Internal shape of a compiled pattern, kept for directory pruning. */
export interface CompiledGitWildMatch {
  regex: RegExp | null
  include: boolean
  /** The pattern as given. */
  pattern: string
  /**
   * For segment patterns: regex source without its tail (`^…`), and whether the normalized pattern ends with
   * `**` (then a match needs at least one more path segment). `null` for override patterns.
   */
  core: {source: string; trailingGlobstar: boolean; anchoredSegments: string[] | null; re: RegExp; segRes: RegExp[] | null} | null
}

function normalizeSegments(isDirPattern: boolean, segs: string[]): {segs: string[] | null; override: string | null} {
  if (!segs[0]) {
    segs.shift()
  } else if (segs.length === 1 || (segs.length === 2 && !segs[1])) {
    if (segs[0] !== '**') segs.unshift('**')
  }
  if (segs.length === 0) throw new Error('Pattern normalized to nothing.')
  if (!segs[segs.length - 1]) segs[segs.length - 1] = '**'
  for (let i = segs.length - 1; i > 0; i--) {
    if (segs[i - 1] === '**' && segs[i] === '**') segs.splice(i, 1)
  }
  const n = segs.length
  if (n === 1 && segs[0] === '**') return {segs: null, override: isDirPattern ? '/' : ANY}
  if (n === 2 && segs[0] === '**' && segs[1] === '*') return {segs: null, override: ANY}
  if (n === 3 && segs[0] === '**' && segs[1] === '*' && segs[2] === '**') return {segs: null, override: '/'}
  return {segs, override: null}
}

/** Compile one gitwildmatch pattern. `regex` is `null` for blank lines, comments and discarded patterns. */
export function compileGitWildMatch(pattern: string): {regex: RegExp | null; include: boolean} {
  const {regex, include} = compileDetailed(pattern)
  return {regex, include}
}

const NULL_PATTERN = (pattern: string): CompiledGitWildMatch => ({regex: null, include: false, pattern, core: null})

export function compileDetailed(pattern: string): CompiledGitWildMatch {
  let p = pattern.endsWith('\\ ') ? pattern : pyRstrip(pattern)
  if (!p || p.startsWith('#') || p === '/') return NULL_PATTERN(pattern)
  let include = true
  if (p.startsWith('!')) {
    include = false
    p = p.slice(1)
  }
  const origSegs = p.split('/')
  const isDirPattern = !origSegs[origSegs.length - 1]
  let normalized: {segs: string[] | null; override: string | null}
  try {
    normalized = normalizeSegments(isDirPattern, origSegs)
  } catch (e) {
    throw new GitWildMatchError(pattern, (e as Error).message)
  }
  if (normalized.override !== null) {
    return {regex: new RegExp(normalized.override, 'u'), include, pattern, core: null}
  }
  const segs = normalized.segs as string[]
  const parts: string[] = []
  const segRegexes: string[] = []
  let needSlash = false
  const end = segs.length - 1
  try {
    segs.forEach((seg, i) => {
      if (seg === '**') {
        if (i === 0) {
          parts.push(`^(?:${ANY}+/)?`)
        } else if (i < end) {
          parts.push(`(?:/${ANY}+)?`)
          needSlash = true
        } else {
          parts.push('/')
        }
        segRegexes.push('**')
      } else {
        if (i === 0) parts.push('^')
        if (needSlash) parts.push('/')
        const segRegex = seg === '*' ? '[^/]+' : translateSegmentGlob(seg)
        parts.push(segRegex)
        segRegexes.push(segRegex)
        if (i === end) parts.push(DIR_MARK_OPT)
        needSlash = true
      }
    })
  } catch (e) {
    if (e instanceof RangeError_) return NULL_PATTERN(pattern)
    throw new GitWildMatchError(pattern, (e as Error).message)
  }
  let regex: RegExp
  try {
    regex = new RegExp(parts.join(''), 'u')
  } catch (e) {
    // Python's `re` rejects the same bracket expressions (e.g. a reversed range `[z-a]`).
    throw new GitWildMatchError(pattern, (e as Error).message)
  }
  const trailingGlobstar = segs[end] === '**'
  // Drop the tail (`/` after a trailing `**`, or the optional directory mark after a last segment).
  const coreParts = parts.slice(0, -1)
  // Anchored (first segment is not `**`) and free of bracket expressions up to the first `**`: then each
  // segment regex can only match inside one path segment, which lets pruning prove "no match below".
  let anchoredSegments: string[] | null = null
  if (segs[0] !== '**') {
    const upTo = segRegexes.indexOf('**')
    const head = upTo === -1 ? segRegexes : segRegexes.slice(0, upTo)
    const headSegs = upTo === -1 ? segs : segs.slice(0, upTo)
    if (!headSegs.some((s) => s.includes('['))) anchoredSegments = head
  }
  const source = coreParts.join('')
  const core = {
    source,
    trailingGlobstar,
    anchoredSegments,
    re: new RegExp(`${source}$`, 'u'),
    segRes: anchoredSegments?.map((r) => new RegExp(`^(?:${r})$`, 'u')) ?? null,
  }
  return {regex, include, pattern, core}
}

/** pathspec `normalize_file`: drop one leading `/` or `./`. */
export function normalizeFile(file: string): string {
  if (file.startsWith('/')) return file.slice(1)
  if (file.startsWith('./')) return file.slice(2)
  return file
}

/** What a spec decides for every file strictly below a directory. */
export type DirVerdict = 'all-match' | 'none-match' | 'mixed'

/** A list of gitwildmatch patterns; the last matching pattern decides (`!` negates), as in pathspec. */
export class PathSpec {
  readonly patterns: readonly CompiledGitWildMatch[]

  private constructor(patterns: CompiledGitWildMatch[]) {
    this.patterns = patterns
  }

  /**
   * Compile lines (empty strings are skipped, as pathspec's `from_lines` does). Invalid patterns are
   * collected into one `ConfigError`; `describe(i)` says where line `i` came from (file, line, key).
   */
  static fromLines(
    lines: readonly string[],
    describe?: (index: number) => {file: string; line?: number; key?: string},
  ): PathSpec {
    const patterns: CompiledGitWildMatch[] = []
    const problems: GitWildMatchError[] = []
    const where: Array<{file: string; line?: number; key?: string}> = []
    lines.forEach((line, index) => {
      if (!line) return
      try {
        patterns.push(compileDetailed(line))
      } catch (e) {
        if (!(e instanceof GitWildMatchError)) throw e
        problems.push(e)
        where.push(describe?.(index) ?? {file: '<patterns>', key: `[${index}]`})
      }
    })
    if (problems.length > 0) {
      const diagnostics = problems.map((e, k) => ({
        ...where[k],
        file: where[k]?.file ?? '<patterns>',
        message: e.message,
        hint: 'Fix the pattern (gitignore syntax; escape special characters with a backslash) or remove it.',
        severity: 'error' as const,
      }))
      throw new ConfigError('Invalid file patterns', diagnostics)
    }
    return new PathSpec(patterns)
  }

  matchFile(relPosixPath: string): boolean {
    const file = normalizeFile(relPosixPath)
    for (let i = this.patterns.length - 1; i >= 0; i--) {
      const p = this.patterns[i] as CompiledGitWildMatch
      if (p.regex !== null && p.regex.test(file)) return p.include
    }
    return false
  }

  /**
   * Decide `matchFile` for every file strictly below directory `dir` (a non-empty normalized relative path)
   * when that can be proven: `all-match` / `none-match`, else `mixed`. Sound, not complete.
   */
  dirVerdict(dir: string): DirVerdict {
    let allTrue: boolean | undefined
    let allFalse: boolean | undefined
    // "every file matches" holds if, scanning from the last pattern, a positive pattern covering the whole
    // directory comes before any negation that might match something below it; symmetric for "none".
    for (let i = this.patterns.length - 1; i >= 0 && (allTrue === undefined || allFalse === undefined); i--) {
      const p = this.patterns[i] as CompiledGitWildMatch
      if (p.regex === null) continue
      const covers = coversDir(p, dir)
      const can = covers || mayMatchBelow(p, dir)
      if (p.include) {
        if (allTrue === undefined && covers) allTrue = true
        if (allFalse === undefined && can) allFalse = false
      } else {
        if (allFalse === undefined && covers) allFalse = true
        if (allTrue === undefined && can) allTrue = false
      }
    }
    if (allTrue === true) return 'all-match'
    if (allFalse !== false) return 'none-match'
    return 'mixed'
  }
}

function prefixes(dir: string): string[] {
  const segs = dir.split('/')
  return segs.map((_, k) => segs.slice(0, k + 1).join('/'))
}

/** Does the pattern's regex match every path `dir/…`? (Sufficient: its core matches `dir` or an ancestor.) */
function coversDir(p: CompiledGitWildMatch, dir: string): boolean {
  if (p.regex === null) return false
  if (p.core === null) return true // `[^\n]` and `/` both match any `dir/x`
  const core = p.core.re
  return prefixes(dir).some((prefix) => core.test(prefix))
}

/** May the pattern match some path `dir/…`? `false` only when provably not. */
function mayMatchBelow(p: CompiledGitWildMatch, dir: string): boolean {
  if (p.regex === null) return false
  const anchored = p.core?.segRes
  if (!anchored) return true
  const segs = dir.split('/')
  for (let i = 0; i < anchored.length && i < segs.length; i++) {
    if (!(anchored[i] as RegExp).test(segs[i] as string)) return false
  }
  return true
}
