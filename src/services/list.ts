import {modelsOfBento} from '../bento/models-of.js'
import {humanSize} from '../store/fs-utils.js'
import {recoverHome} from '../store/recover.js'
import {Store, type StoreItem} from '../store/store.js'
import {type BentoSummary, dirSizes, readBentoSummary} from '../store/summary.js'
import {formatTag} from '../store/tag.js'
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
  await recoverHome(opts.home)
  const store = new Store(opts.home, 'bentos', readBentoSummary)
  const models = Store.models(opts.home)
  const items = await store.list(opts.name)
  const problems: string[] = []
  const valid: StoreItem<BentoSummary>[] = []
  for (const item of items) {
    if (item.error) problems.push(item.error.message)
    else valid.push(item)
  }
  valid.sort((a, b) => b.creationTime.getTime() - a.creationTime.getTime())
  const globalModelSize = new Map<string, number>()
  const bentos = valid.map((b) => {
    const sizes = dirSizes(b.path)
    let modelSizeBytes = 0
    for (const m of modelsOfBento(b.info)) {
      if (m.registry === 'huggingface') continue
      const {tag, name, version} = m
      // The Bento's own models/ first (bento's Bentos are self-contained), then the global store.
      let size = sizes.models.get(tag) ?? 0
      if (size === 0) {
        if (!globalModelSize.has(tag)) globalModelSize.set(tag, dirSizes(models.itemPath({name, version})).total)
        size = globalModelSize.get(tag) ?? 0
      }
      if (size === 0) problems.push(`Bento ${formatTag(b.tag)}: missing model ${tag}`)
      modelSizeBytes += size
    }
    return {
      tag: formatTag(b.tag),
      name: b.tag.name,
      version: b.tag.version,
      path: b.path,
      size: humanSize(sizes.total),
      sizeBytes: sizes.total,
      modelSize: humanSize(modelSizeBytes),
      modelSizeBytes,
      creationTime: formatLocalTime(b.creationTime),
      creationTimeIso: b.creationTime.toISOString(),
    }
  })
  return {bentos, problems}
}
