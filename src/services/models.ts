import {readFile} from 'node:fs/promises'
import {join} from 'node:path'

import {dirSize, humanSize} from '../store/fs-utils.js'
import {recoverHome} from '../store/recover.js'
import {Store} from '../store/store.js'
import {formatTag} from '../store/tag.js'
import {formatLocalTime} from './time.js'

export interface ModelRow {
  tag: string
  module: string
  size: string
  sizeBytes: number
  creationTime: string
  creationTimeIso: string
  path: string
}

/** `bento models list`: Tag, Module, Size, Creation Time, newest first (as `bentoml models list`). */
export async function listModels(opts: {home: string; name?: string}): Promise<{models: ModelRow[]; problems: string[]}> {
  await recoverHome(opts.home)
  const items = await Store.models(opts.home).list(opts.name)
  const problems: string[] = []
  const rows: Array<ModelRow & {t: number}> = []
  for (const item of items) {
    if (item.error) {
      problems.push(item.error.message)
      continue
    }
    const sizeBytes = await dirSize(item.path)
    rows.push({
      tag: formatTag(item.tag),
      module: item.info.module,
      size: humanSize(sizeBytes),
      sizeBytes,
      creationTime: formatLocalTime(item.creationTime),
      creationTimeIso: item.creationTime.toISOString(),
      path: item.path,
      t: item.creationTime.getTime(),
    })
  }
  rows.sort((a, b) => b.t - a.t)
  return {models: rows.map(({t: _t, ...r}) => r), problems}
}

export async function getModel(opts: {home: string; tag: string}): Promise<{tag: string; path: string; yaml: string; info: unknown}> {
  await recoverHome(opts.home)
  const item = await Store.models(opts.home).get(opts.tag)
  const {creationTime: _c, ...info} = item.info
  return {
    tag: formatTag(item.tag),
    path: item.path,
    yaml: await readFile(join(item.path, 'model.yaml'), 'utf8'),
    info,
  }
}
