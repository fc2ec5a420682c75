import {Store} from '../store/store.js'

/** `bento delete TAG`: remove one version; `latest` moves to the newest remaining one (BentoML's rule). */
export async function deleteBento(opts: {home: string; tag: string}): Promise<{deleted: string; latest: string | null}> {
  const store = Store.bentos(opts.home)
  const tag = await store.delete(opts.tag)
  let latest: string | null = null
  try {
    const item = await store.get(tag.name)
    latest = `${item.tag.name}:${item.tag.version}`
  } catch {
    latest = null
  }
  return {deleted: `${tag.name}:${tag.version}`, latest}
}
