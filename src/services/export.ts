import {existsSync} from 'node:fs'
import {join} from 'node:path'

import {exportBento, type ModelDirRef} from '../bento/archive.js'
import {hashFile} from '../bento/digest.js'
import {NotFoundError} from '../errors.js'
import {Store} from '../store/store.js'

/** `bento export TAG OUT`: the Bento plus every model it names, as one deterministic archive. */
export async function exportBentoService(opts: {home: string; tag: string; out: string}): Promise<{
  tag: string
  path: string
  format: string
  size: number
  sha256: string
}> {
  const bento = await Store.bentos(opts.home).get(opts.tag)
  const models = Store.models(opts.home)
  const modelDirs: ModelDirRef[] = []
  for (const m of bento.info.models) {
    if (m.registry === 'huggingface') continue
    const [name, version] = String(m.tag).split(':') as [string, string]
    if (existsSync(join(bento.path, 'models', name, version, 'model.yaml'))) continue
    const item = await models.get(String(m.tag)).catch((error: unknown) => {
      throw new NotFoundError(`Model "${m.tag}" of Bento "${bento.tag.name}:${bento.tag.version}" is not in the model store`, {
        code: 'E_MODEL_NOT_FOUND',
        hint: 'the archive must carry every model: save or import the model, then export again',
        cause: error,
      })
    })
    modelDirs.push({name, version, dir: item.path})
  }
  const result = await exportBento({bentoDir: bento.path, modelDirs, out: opts.out})
  return {
    tag: `${bento.tag.name}:${bento.tag.version}`,
    path: result.path,
    format: result.format,
    size: result.bytes,
    sha256: await hashFile(result.path),
  }
}
