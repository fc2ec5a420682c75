import {ConfigError, type Diagnostic} from '../errors.js'
import type {Path, Position} from './context.js'

/** A requirement line's site in the project: module keys as project files, bentofile keys with their line, else the service file. */
export function projectSite(
  s: {file?: string; line?: number; key?: string},
  serviceFile: string | undefined,
  configFile: string,
  projectFile: (moduleFile: string) => string,
  locate: (path: Path) => Position | undefined,
): {file: string; line?: number; key?: string} {
  if (s.file !== undefined) return {...s, file: projectFile(s.file)}
  if (s.key === undefined) return serviceFile === undefined ? {file: configFile} : {file: projectFile(serviceFile)}
  const line = locate(keyPath(s.key))?.line
  return {file: configFile, key: s.key, ...(line === undefined ? {} : {line})}
}

/** `python.wheels[0]` → ['python', 'wheels', 0]. */
export function keyPath(key: string): Path {
  return [...key.matchAll(/([^.[\]]+)|\[(\d+)\]/g)].map((m) => (m[2] === undefined ? (m[1] ?? '') : Number(m[2])))
}

/** Diagnostics about the build config file without a line get the line of their key in it. */
export function locateDiagnostics(ds: Diagnostic[], configFile: string, locate: (path: Path) => Position | undefined): Diagnostic[] {
  return ds.map((d) => {
    if (d.file !== configFile || d.line !== undefined || d.key === undefined) return d
    const at = locate(keyPath(d.key))
    return at ? {...d, line: at.line, col: at.col} : d
  })
}

/** A ConfigError about the config file, its diagnostics located; anything else unchanged. */
export function withLines(error: unknown, configFile: string, locate: (path: Path) => Position | undefined): unknown {
  if (!(error instanceof ConfigError) || !error.diagnostics.some((d) => d.file === configFile && d.line === undefined)) return error
  return new ConfigError(error.message.split('\n')[0] ?? error.message, locateDiagnostics(error.diagnostics, configFile, locate), {
    hint: error.hint,
    cause: error.cause,
  })
}
