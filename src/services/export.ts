import type {Cleanup} from '../cleanup.js'
import {exportBento, type ModelDirRef} from '../bento/archive/index.js'
import {hashFile} from '../bento/digest.js'
import {locateBentoModels} from '../bento/models-of.js'
import {NotFoundError} from '../errors.js'
import {recoverHome} from '../store/recover.js'
import type {BentoInfo} from '../store/info.js'
import {Store, type StoreItem} from '../store/store.js'
import {formatTag} from '../store/tag.js'

/** `bento export TAG OUT`: the Bento plus every model it uses (`models`, `services[].models`), as one deterministic archive. */
export async function exportBentoService(opts: {home: string; tag: string; out: string; signal?: AbortSignal; cleanup?: Cleanup}): Promise<{
  tag: string
  path: string
  format: string
  size: number
  sha256: string
}> {
  await recoverHome(opts.home)
  // Held for reading until the archive is written: a `bento delete` of this version waits for it (store/readers.ts).
  const reader = await Store.bentos(opts.home).openReader(opts.tag, {purpose: 'export', cleanup: opts.cleanup})
  try {
    return await exportItem(opts, reader.item)
  } finally {
    await reader.release()
  }
}

async function exportItem(
  opts: {home: string; out: string; signal?: AbortSignal; cleanup?: Cleanup},
  bento: StoreItem<BentoInfo>,
): Promise<{tag: string; path: string; format: string; size: number; sha256: string}> {
  const models = Store.models(opts.home)
  const modelDirs: ModelDirRef[] = []
  // Hugging Face models are not bundled, as BentoML (they come from the hub at containerize time).
  for (const m of locateBentoModels(bento.path, bento.info, opts.home)) {
    if (m.inBento) continue
    if (m.dir === null) {
      throw new NotFoundError(`Model "${m.tag}" of Bento "${formatTag(bento.tag)}" is not in the model store`, {
        code: 'E_MODEL_NOT_FOUND',
        hint: `the archive must carry every model (bento.yaml ${m.from}): save or import the model, then export again`,
        data: {model: m.tag},
      })
    }
    // Read through the store, so a corrupt model.yaml is reported here (E_MODEL_CORRUPT), not at import.
    const item = await models.get(m.tag)
    modelDirs.push({name: m.name, version: m.version, dir: item.path})
  }
  const result = await exportBento({bentoDir: bento.path, modelDirs, out: opts.out, signal: opts.signal, cleanup: opts.cleanup})
  return {
    tag: formatTag(bento.tag),
    path: result.path,
    format: result.format,
    size: result.bytes,
    sha256: await hashFile(result.path),
  }
}
