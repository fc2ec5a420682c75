import {existsSync} from 'node:fs'
import path from 'node:path'

/**
 * THE rule for "every model a Bento uses", shared by `list` (Model Size), `export`, `import` and `containerize`.
 *
 * As BentoML's `BentoInfo.all_models` (1.4.40 `bento.py`): the top-level `models:` entries, then every
 * `services[].models` entry, keyed by tag — a later entry with the same tag replaces the earlier one but keeps its
 * place. Each entry is either a store model (`registry: bentoml`, the default) or a Hugging Face model
 * (`registry: huggingface`, whose bytes live on the hub and go to `hf-models/` in an image).
 *
 * Where the bytes of a store model are: the Bento's own `models/<name>/<version>/` (bento's Bentos and imported
 * ones carry them), else `$BENTOML_HOME/models/<name>/<version>/` (Bentos written by `bentoml build`).
 */

export interface BentoModelUse {
  /** `name:version` as written (lower-cased name, as BentoML's Tag). */
  tag: string
  name: string
  version: string
  registry: 'bentoml' | 'huggingface'
  module: string
  /** Where the entry was found, e.g. `models[0]` or `services[1].models[0]` (the last one, when repeated). */
  from: string
  /** Hugging Face: `{model_id, revision, endpoint, include, exclude}` as recorded in bento.yaml. */
  metadata?: Record<string, unknown>
  alias?: string
}

export interface LocatedModel extends BentoModelUse {
  /** The model directory (with model.yaml), or null when neither the Bento nor the store has it. */
  dir: string | null
  /** True when `dir` is inside the Bento. */
  inBento: boolean
}

function isRecord(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v) && !(v instanceof Date)
}

function str(v: unknown): string {
  if (v === undefined || v === null) return ''
  return v instanceof Date ? v.toISOString() : String(v)
}

function entryOf(raw: unknown, from: string): BentoModelUse | null {
  // Pre-1.0.0a7 bento.yaml: a plain list of tag strings.
  const entry: Record<string, unknown> = typeof raw === 'string' ? {tag: raw} : isRecord(raw) ? raw : {}
  const tag = str(entry.tag).trim()
  const colon = tag.indexOf(':')
  if (tag === '' || colon <= 0) return null
  const name = tag.slice(0, colon).toLowerCase()
  const version = tag.slice(colon + 1)
  const registry = str(entry.registry) === 'huggingface' ? 'huggingface' : 'bentoml'
  return {
    tag: `${name}:${version}`,
    name,
    version,
    registry,
    module: str(entry.module),
    from,
    ...(isRecord(entry.metadata) ? {metadata: entry.metadata} : {}),
    ...(typeof entry.alias === 'string' && entry.alias ? {alias: entry.alias} : {}),
  }
}

/** Every model a Bento uses, from its bento.yaml (as parsed): pure, in BentoML's `all_models` order. */
export function modelsOfBento(raw: Record<string, unknown>): BentoModelUse[] {
  const byTag = new Map<string, BentoModelUse>()
  const add = (e: BentoModelUse | null): void => {
    if (e) byTag.set(e.tag, e)
  }
  if (Array.isArray(raw.models)) raw.models.forEach((m, i) => add(entryOf(m, `models[${i}]`)))
  if (Array.isArray(raw.services)) {
    raw.services.forEach((s, i) => {
      if (isRecord(s) && Array.isArray(s.models)) s.models.forEach((m, j) => add(entryOf(m, `services[${i}].models[${j}]`)))
    })
  }
  return [...byTag.values()]
}

/** The store models of a Bento (Hugging Face ones are left out) with where their bytes are. No reads but `stat`. */
export function locateBentoModels(bentoDir: string, raw: Record<string, unknown>, home: string): LocatedModel[] {
  return modelsOfBento(raw)
    .filter((m) => m.registry === 'bentoml')
    .map((m) => {
      const inside = path.join(bentoDir, 'models', m.name, m.version)
      if (existsSync(path.join(inside, 'model.yaml'))) return {...m, dir: inside, inBento: true}
      const global = path.join(home, 'models', m.name, m.version)
      if (existsSync(path.join(global, 'model.yaml'))) return {...m, dir: global, inBento: false}
      return {...m, dir: null, inBento: false}
    })
}

/** The Hugging Face models of a Bento. */
export function huggingFaceModelsOf(raw: Record<string, unknown>): BentoModelUse[] {
  return modelsOfBento(raw).filter((m) => m.registry === 'huggingface')
}
