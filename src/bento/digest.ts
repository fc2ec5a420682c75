import {createHash} from 'node:crypto'
import {createReadStream} from 'node:fs'

/** sha256 of a file, streamed (never the whole file in memory). */
export async function hashFile(path: string, onBytes?: (n: number) => void): Promise<string> {
  const h = createHash('sha256')
  const stream = createReadStream(path, {highWaterMark: 1 << 20})
  for await (const chunk of stream) {
    h.update(chunk as Buffer)
    onBytes?.((chunk as Buffer).length)
  }
  return h.digest('hex')
}
