import {readFile} from 'node:fs/promises'

import {BentoArgError, type BentoArgSource, mergeBentoArgs} from '../bentoml/args.js'
import {parseYamlSource} from '../config/yaml-source.js'
import {formatDiagnostic, UsageError} from '../errors.js'

/**
 * `--arg KEY=VALUE` (repeatable) and `--arg-file FILE` (absolute path) of `bentoml build`, with the order they first
 * appear on the command line (the first wins a shared key); merged over the build config's `args`.
 */
export interface BuildArgs {
  order: ReadonlyArray<'arg' | 'file'>
  values: readonly string[]
  file?: string
}

/** The command line's Bento arguments: the `--arg-file` read as PyYAML reads it. Bad input is a usage error (exit 2), as BentoML's. */
export async function readArgSources(args: BuildArgs | undefined): Promise<BentoArgSource[]> {
  if (!args) return []
  const out: BentoArgSource[] = []
  for (const kind of args.order) {
    if (kind === 'arg') {
      out.push({kind, values: args.values})
      continue
    }
    const file = args.file ?? ''
    let text: string
    try {
      text = await readFile(file, 'utf8')
    } catch (error) {
      throw new UsageError(`--arg-file ${file}: ${(error as NodeJS.ErrnoException).code === 'ENOENT' ? 'no such file' : 'cannot be read'}`, {
        hint: 'pass a YAML file of `name: value` lines',
      })
    }
    const parsed = parseYamlSource(text, file)
    const bad = parsed.diagnostics.find((d) => d.severity === 'error')
    if (bad) throw new UsageError(`--arg-file ${file}: Invalid YAML file: ${formatDiagnostic(bad)}`, {hint: 'fix the YAML, or pass the values with --arg KEY=VALUE'})
    out.push({kind, path: file, data: parsed.empty ? null : parsed.value})
  }
  return out
}

export function mergeArgs(sources: readonly BentoArgSource[], configArgs: Readonly<Record<string, unknown>>): Record<string, unknown> {
  try {
    return mergeBentoArgs(sources, configArgs)
  } catch (error) {
    if (error instanceof BentoArgError) throw new UsageError(error.message, {hint: error.hint})
    throw error
  }
}
