import {readFile} from 'node:fs/promises'
import {join} from 'node:path'

import {recoverHome} from '../store/recover.js'
import {Store} from '../store/store.js'
import {formatTag} from '../store/tag.js'

/** `bento get TAG`: the bento.yaml as written, the whole document as parsed (`info`) and the path. */
export async function getBento(opts: {home: string; tag: string}): Promise<{tag: string; path: string; yaml: string; info: Record<string, unknown>}> {
  await recoverHome(opts.home)
  const item = await Store.bentos(opts.home).get(opts.tag)
  return {
    tag: formatTag(item.tag),
    path: item.path,
    yaml: await readFile(join(item.path, 'bento.yaml'), 'utf8'),
    info: item.info.raw,
  }
}
