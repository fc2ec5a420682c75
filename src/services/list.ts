import {join} from 'node:path'

import {dirSize, humanSize} from '../store/fs-utils.js'
import type {BentoInfo} from '../store/info.js'
import {Store, type StoreItem} from '../store/store.js'
import {formatLocalTime} from './time.js'

export interface BentoRow {
  tag: string
  name: string
  version: string
  path: string
  size: string
  sizeBytes: number
  modelSize: string
  modelSizeBytes: number
  creationTime: string
  creationTimeIso: string
}

/** `bento list`: what `bentoml list` shows (Tag, Size, Model Size, Creation Time), newest first. */
export async function listBentos(opts: {home: string; name?: string}): Promise<{bentos: BentoRow[]; problems: string[]}> {
  const store = Store.bentos(opts.home)
  const models = Store.models(opts.home)
  const items = await store.list(opts.name)
  const problems: string[] = []
  const valid: StoreItem<BentoInfo>[] = []
  for (const item of items) {
    if (item.error) problems.push(item.error.message)
    else valid.push(item)
  }
  valid.sort((a, b) => b.creationTime.getTime() - a.creationTime.getTime())
  const bentos = await Promise.all(
    valid.map(async (b) => {
      const sizeBytes = await dirSize(b.path)
      let modelSizeBytes = 0
      for (const m of b.info.models) {
        if (m.registry === 'huggingface') continue
        const [name, version] = String(m.tag).split(':')
        if (!name || !version) continue
        // The Bento's own models/ first (bento's Bentos are self-contained), then the global store.
        let size = await dirSize(join(b.path, 'models', name, version)).catch(() => 0)
        if (size === 0) size = await dirSize(models.itemPath({name, version})).catch(() => 0)
        if (size === 0) problems.push(`Bento ${b.tag.name}:${b.tag.version}: missing model ${m.tag}`)
        modelSizeBytes += size
      }
      return {
        tag: `${b.tag.name}:${b.tag.version}`,
        name: b.tag.name,
        version: b.tag.version,
        path: b.path,
        size: humanSize(sizeBytes),
        sizeBytes,
        modelSize: humanSize(modelSizeBytes),
        modelSizeBytes,
        creationTime: formatLocalTime(b.creationTime),
        creationTimeIso: b.creationTime.toISOString(),
      }
    }),
  )
  return {bentos, problems}
}
