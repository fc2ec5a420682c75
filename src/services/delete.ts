import type {Cleanup} from '../cleanup.js'
import {InterruptedError} from '../errors.js'
import {recoverHome} from '../store/recover.js'
import {Store} from '../store/store.js'
import {formatTag} from '../store/tag.js'

/** `bento delete TAG`: remove one version (atomically); `latest` moves to the newest remaining one (BentoML's rule). */
export async function deleteBento(opts: {home: string; tag: string; signal?: AbortSignal; cleanup?: Cleanup}): Promise<{
  deleted: string
  latest: string | null
}> {
  await recoverHome(opts.home)
  const store = Store.bentos(opts.home, {cleanup: opts.cleanup})
  if (opts.signal?.aborted) throw new InterruptedError('Interrupted before anything was deleted.')
  const tag = await store.delete(opts.tag)
  let latest: string | null = null
  try {
    const item = await store.get(tag.name)
    latest = formatTag(item.tag)
  } catch {
    latest = null
  }
  return {deleted: formatTag(tag), latest}
}
