/** Tar archives as lists of entries, for tests that take a Bento archive apart and put a changed one together. */
import tar from 'tar-stream'

export interface TarEntry {
  header: tar.Header
  content: Buffer
}

export async function readTar(bytes: Buffer): Promise<TarEntry[]> {
  const extract = tar.extract()
  const out: TarEntry[] = []
  const done = (async () => {
    for await (const entry of extract) {
      const parts: Buffer[] = []
      for await (const chunk of entry) parts.push(Buffer.from(chunk as Uint8Array))
      out.push({header: entry.header, content: Buffer.concat(parts)})
    }
  })()
  extract.end(bytes)
  await done
  return out
}

/**
 * The entries as a tar archive. tar-stream refuses some headers outright (too long a name): by default that is an
 * error; with `leaveOutRefused` (fuzzing) that entry is left out.
 */
export async function writeTar(entries: TarEntry[], opts: {leaveOutRefused?: boolean} = {}): Promise<Buffer> {
  const pack = tar.pack()
  const chunks: Buffer[] = []
  const reading = (async () => {
    for await (const chunk of pack) chunks.push(Buffer.from(chunk as Uint8Array))
  })()
  for (const e of entries) {
    await new Promise<void>((resolve, reject) => {
      const isFile = (e.header.type ?? 'file') === 'file'
      const header = {...e.header, size: isFile ? e.content.length : 0}
      const cb = (err?: Error | null): void => (err && !opts.leaveOutRefused ? reject(err) : resolve())
      try {
        if (isFile) pack.entry(header, e.content, cb)
        else pack.entry(header, cb)
      } catch (error) {
        if (opts.leaveOutRefused) resolve()
        else reject(error as Error)
      }
    })
  }
  pack.finalize()
  await reading
  return Buffer.concat(chunks)
}
