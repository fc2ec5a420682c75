import {readFile} from 'node:fs/promises'
import {join} from 'node:path'

import {recoverHome} from '../store/recover.js'
import {Store} from '../store/store.js'

/** `bento get TAG`: the bento.yaml as written, its parsed content and the path. */
export async function getBento(opts: {home: string; tag: string}): Promise<{tag: string; path: string; yaml: string; info: Record<string, unknown>}> {
  await recoverHome(opts.home)
  const item = await Store.bentos(opts.home).get(opts.tag)
  return {
    tag: `${item.tag.name}:${item.tag.version}`,
    path: item.path,
    yaml: await readFile(join(item.path, 'bento.yaml'), 'utf8'),
    info: item.info.raw,
  }
}
