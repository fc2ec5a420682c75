import {existsSync} from 'node:fs'
import path from 'node:path'

import {formatTag, splitTag} from '../bentoml/tag.js'
import type {BentoInfo, BentoModelRef} from '../store/info.js'

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

function useOf(ref: BentoModelRef, from: string): BentoModelUse | null {
  const written = splitTag(ref.tag.trim())
  if (written.name === '' || written.version === null) return null
  const tag = {name: written.name.toLowerCase(), version: written.version}
  return {
    tag: formatTag(tag),
    ...tag,
    registry: ref.registry === 'huggingface' ? 'huggingface' : 'bentoml',
    module: ref.module,
    from,
    ...(ref.metadata === undefined ? {} : {metadata: ref.metadata}),
    ...(ref.alias ? {alias: ref.alias} : {}),
  }
}

/** What the models-of rule reads of a Bento (the fast listing summary has these too). */
export type BentoModelLists = Pick<BentoInfo, 'models' | 'services'>

/** Every model a Bento uses, from its typed bento.yaml: pure, in BentoML's `all_models` order. */
export function modelsOfBento(bento: BentoModelLists): BentoModelUse[] {
  const byTag = new Map<string, BentoModelUse>()
  const add = (e: BentoModelUse | null): void => {
    if (e) byTag.set(e.tag, e)
  }
  bento.models.forEach((m, i) => add(useOf(m, `models[${i}]`)))
  bento.services.forEach((s, i) => s.models.forEach((m, j) => add(useOf(m, `services[${i}].models[${j}]`))))
  return [...byTag.values()]
}

/** The store models of a Bento (Hugging Face ones are left out) with where their bytes are. No reads but `stat`. */
export function locateBentoModels(bentoDir: string, bento: BentoModelLists, home: string): LocatedModel[] {
  return modelsOfBento(bento)
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
export function huggingFaceModelsOf(bento: BentoModelLists): BentoModelUse[] {
  return modelsOfBento(bento).filter((m) => m.registry === 'huggingface')
}
