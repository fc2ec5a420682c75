import {importBento} from '../bento/archive.js'
import {ensureHome} from '../store/home.js'

/** `bento import ARCHIVE`: strict extraction, models into the model store, the Bento into the Bento store. */
export async function importBentoService(opts: {home: string; archive: string}): Promise<{
  tag: string
  path: string
  models: Array<{tag: string; imported: boolean}>
  missingModels: string[]
}> {
  await ensureHome(opts.home)
  const r = await importBento({archive: opts.archive, home: opts.home})
  const fmt = (t: {name: string; version: string}): string => `${t.name}:${t.version}`
  return {
    tag: fmt(r.tag),
    path: r.path,
    models: [...r.modelsInstalled.map((t) => ({tag: fmt(t), imported: true})), ...r.modelsSkipped.map((t) => ({tag: fmt(t), imported: false}))],
    missingModels: r.missingModels,
  }
}
