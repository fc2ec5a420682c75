/**
 * Bento arguments (`bentoml.use_arguments()`), merged as `bentoml build` 1.4.40 merges them
 * (`bentoml_cli/utils.py` `set_build_args` / `set_build_args_from_file`, `BentoBuildConfig.__attrs_post_init__`):
 *
 * - `--arg KEY=VALUE` (repeatable): split at the first `=`; a later `--arg` with the same key wins; values stay strings
 *   (pydantic coerces them against the model's annotations).
 * - `--arg-file FILE.yaml`: a YAML mapping; values keep their YAML types.
 * - Every source is merged with `set_arguments(new, override=False)`: what is already set wins. Click runs the two
 *   options' callbacks in the order they first appear on the command line, so of `--arg` and `--arg-file` the one
 *   written first wins a shared key; then the bentofile's `args` come last: the command line wins over the file.
 *
 * The merged dict is what `bento.yaml` records under `args:` and what `use_arguments()` sees. Pure.
 */

/** One command-line source, in the order it first appears on the command line. */
export type BentoArgSource = {kind: 'arg'; values: readonly string[]} | {kind: 'file'; path: string; data: unknown}

export class BentoArgError extends Error {
  constructor(
    message: string,
    readonly hint: string,
  ) {
    super(message)
    this.name = 'BentoArgError'
  }
}

/** `--arg` values as BentoML parses them. Throws `BentoArgError` for an item without `=`. */
export function parseArgFlags(values: readonly string[]): Record<string, string> {
  const out: Record<string, string> = {}
  for (const item of values) {
    const eq = item.indexOf('=')
    if (eq === -1) {
      throw new BentoArgError(`Invalid argument format: ${item}. Must be in the form of key=value`, `write --arg ${item}=VALUE`)
    }
    out[item.slice(0, eq)] = item.slice(eq + 1)
  }
  return out
}

function fileArgs(path: string, data: unknown): Record<string, unknown> {
  // An empty file is `None` in BentoML (which then fails with a TypeError); both are a clear error here.
  if (data === null || data === undefined || typeof data !== 'object' || Array.isArray(data)) {
    throw new BentoArgError(`--arg-file ${path}: the file must hold a YAML mapping of argument names to values`, 'write one `name: value` per line')
  }
  return data as Record<string, unknown>
}

/** The merged Bento arguments: command-line sources (first-appearing first), then the bentofile's `args`. */
export function mergeBentoArgs(sources: readonly BentoArgSource[], configArgs: Readonly<Record<string, unknown>> = {}): Record<string, unknown> {
  let merged: Record<string, unknown> = {}
  const setArguments = (next: Record<string, unknown>): void => {
    // set_arguments(next, override=False): `next |= current`, the values already set win.
    merged = {...next, ...merged}
  }
  for (const s of sources) setArguments(s.kind === 'arg' ? parseArgFlags(s.values) : fileArgs(s.path, s.data))
  if (Object.keys(configArgs).length > 0) setArguments({...configArgs})
  return merged
}

/**
 * The order `--arg` and `--arg-file` first appear in `argv` (Click processes option callbacks in that order).
 * Recognises `--arg X`, `--arg=X`, `--arg-file X`, `--arg-file=X`; stops at `--`.
 */
export function argSourceOrder(argv: readonly string[]): Array<'arg' | 'file'> {
  const order: Array<'arg' | 'file'> = []
  for (const a of argv) {
    if (a === '--') break
    const kind = a === '--arg' || a.startsWith('--arg=') ? 'arg' : a === '--arg-file' || a.startsWith('--arg-file=') ? 'file' : undefined
    if (kind !== undefined && !order.includes(kind)) order.push(kind)
  }
  return order
}
