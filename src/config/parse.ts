/** parseBuildConfig: text → every diagnostic at once, and the normalized config when there is no error. */
import type {Diagnostic} from '../errors.js'
import {isMapping, DiagnosticCollector, type SourceMap} from './context.js'
import {describe, validateSection} from './engine.js'
import {BENTOFILE_SPEC} from './fields.js'
import {applyDefaults, checkSemantics, type RawConfig} from './normalize.js'
import {buildTable, parseToml, tomlSourceMap} from './toml-source.js'
import type {BuildConfig, ConfigKind, ParseOptions} from './types.js'
import {parseYamlSource} from './yaml-source.js'

export interface ParseResult {
  /** Present only when there is no error diagnostic. */
  config?: BuildConfig
  /** Errors and warnings, in file order per check. */
  diagnostics: Diagnostic[]
  /** Where each key of the file is, for problems found later (the service, the models). With `config`. */
  sourceMap?: SourceMap
  /**
   * The file's options before `with_defaults()`, as validated. With `config`. BentoML merges an SDK image with
   * these (`populate_image_from_build_config` runs before `with_defaults`): a default must not override the image.
   */
  raw?: RawConfig
}

/** Pure: parses, validates and normalizes one build config file's text. Never throws on bad input. */
export function parseBuildConfig(text: string, fileName: string, kind: ConfigKind = 'bentofile', options: ParseOptions = {}): ParseResult {
  return kind === 'pyproject' ? parsePyproject(text, fileName, options) : parseBentofile(text, fileName, options)
}

function parseBentofile(text: string, file: string, options: ParseOptions): ParseResult {
  const source = parseYamlSource(text, file)
  if (source.diagnostics.some((d) => d.severity === 'error')) return {diagnostics: source.diagnostics}
  const r = new DiagnosticCollector(file, source.sourceMap, options)
  r.diagnostics.push(...source.diagnostics)
  if (source.empty) {
    r.diagnostics.push({
      file,
      message: "the file is empty",
      hint: 'add at least the service, e.g. service: "service:svc"',
      severity: 'error',
    })
    return {diagnostics: r.diagnostics}
  }
  if (!isMapping(source.value)) {
    r.error([], `expected a mapping of build options at the top level, got ${describe(source.value, r.source([]))}`, 'write key: value lines such as service: "service:svc"')
    return {diagnostics: r.diagnostics}
  }
  return finish(source.value, r, options)
}

function finish(value: Record<string, unknown>, r: DiagnosticCollector, options: ParseOptions, after?: (config: BuildConfig) => void): ParseResult {
  const raw = validateSection(BENTOFILE_SPEC, value, [], r) as RawConfig
  checkSemantics(raw, r)
  if (r.hasErrors) return {diagnostics: r.diagnostics}
  const config = applyDefaults(raw, options)
  after?.(config)
  return {config, diagnostics: r.diagnostics, sourceMap: r.sourceMap, raw}
}

function parsePyproject(text: string, file: string, options: ParseOptions): ParseResult {
  const parsed = parseToml(text, file)
  if (!parsed.document) return {diagnostics: parsed.diagnostics}
  const document = parsed.document
  const table: Record<string, unknown> = {...(buildTable(document) ?? {})}
  const project = isMapping(document.project) ? document.project : {}
  // `config.setdefault("name", data["project"]["name"])`
  const nameFromProject = !('name' in table) && 'name' in project
  if (nameFromProject) table.name = project.name
  const toolPython = isMapping(table.python) ? table.python : {}
  const toolPackages = Array.isArray(toolPython.packages) ? toolPython.packages.length : 0
  // python.packages[i] past the tool's own entries are [project].dependencies: located at their line there.
  const sourceMap = tomlSourceMap(text, {nameFromProject, toolPackages})
  const r = new DiagnosticCollector(file, sourceMap, options)

  // `[project].dependencies` are appended to python.packages (which becomes a list even when empty).
  let dependencies: string[] = []
  if ('dependencies' in project) {
    const deps = project.dependencies
    const line = text.split(/\r\n|\r|\n/).findIndex((l) => /^\s*dependencies\s*=/.test(l))
    const where = line === -1 ? {} : {line: line + 1, col: 1}
    if (Array.isArray(deps) && deps.every((d): d is string => typeof d === 'string')) dependencies = deps
    else {
      r.diagnostics.push({
        file,
        ...where,
        key: 'project.dependencies',
        message: 'expected a list of requirement strings',
        hint: 'write dependencies = ["package>=1.0"]',
        severity: 'error',
      })
    }
  }
  return finish(table, r, options, (config) => {
    config.python.packages = [...(config.python.packages ?? []), ...dependencies]
  })
}
