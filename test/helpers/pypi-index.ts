import {createHash} from 'node:crypto'
import {createReadStream} from 'node:fs'
import {readdir, readFile} from 'node:fs/promises'
import {createServer, type Server} from 'node:http'
import {createServer as createHttpsServer} from 'node:https'
import type {AddressInfo} from 'node:net'
import {join} from 'node:path'

/**
 * A PEP 503 "simple" package index over a directory of wheels (the provisioned wheelhouse), on 127.0.0.1 at a free
 * port; with `auth`, every request needs HTTP basic auth with that user and password (401 otherwise).
 */
export interface LocalIndex {
  url: string
  port: number
  /** Requests served (path), for tests that check the index was (not) asked. */
  requests: string[]
  /**
   * From now on serve `project`'s files tampered with (a zip comment added: still a valid wheel), at other URLs (so no HTTP cache of the good
   * file answers) and listed with the tampered file's sha256, as a compromised index would: only a lock's hashes
   * catch it. `restore` serves the good files again.
   */
  tamper: (project: string) => void
  restore: () => void
  close: () => Promise<void>
}

/**
 * Other bytes that are still a valid wheel (uv and pip unpack it before they compare hashes, or while): a zip comment
 * written into the end-of-central-directory record.
 */
function tamperedZip(bytes: Buffer): Buffer {
  const eocd = bytes.length - 22
  if (eocd < 0 || bytes.readUInt32LE(eocd) !== 0x06054b50 || bytes.readUInt16LE(eocd + 20) !== 0) throw new Error('tamper: not a zip without a comment')
  const comment = Buffer.from('tampered by the test index')
  const out = Buffer.concat([bytes, comment])
  out.writeUInt16LE(comment.length, eocd + 20)
  return out
}

function normalize(name: string): string {
  return name.toLowerCase().replace(/[-_.]+/g, '-')
}

/**
 * With `tls` the index speaks HTTPS with that certificate; with `host` it listens there (e.g. the Docker bridge's
 * gateway, which a build's RUN steps can reach) instead of 127.0.0.1; with `port` on that port (rejects when taken);
 * with `preferredPort` on that port when it is free, else on any.
 */
export async function startLocalIndex(
  dir: string,
  opts: {auth?: {user: string; password: string}; tls?: {key: string; cert: string}; host?: string; port?: number; preferredPort?: number} = {},
): Promise<LocalIndex> {
  const files = (await readdir(dir)).filter((f) => f.endsWith('.whl') || f.endsWith('.tar.gz'))
  const byProject = new Map<string, Array<{file: string; sha256: string}>>()
  for (const file of files) {
    const project = normalize(file.endsWith('.whl') ? (file.split('-')[0] as string) : file.replace(/-[0-9][^-]*\.tar\.gz$/, ''))
    const sha256 = createHash('sha256').update(await readFile(join(dir, file))).digest('hex')
    byProject.set(project, [...(byProject.get(project) ?? []), {file, sha256}])
  }
  const expected = opts.auth ? 'Basic ' + Buffer.from(`${opts.auth.user}:${opts.auth.password}`).toString('base64') : null
  const requests: string[] = []
  const tampered = new Set<string>()
  const tamperedBytes = async (file: string): Promise<Buffer> => tamperedZip(await readFile(join(dir, file)))
  const handler = (req: import('node:http').IncomingMessage, res: import('node:http').ServerResponse): void => {
    const path = decodeURIComponent((req.url ?? '/').split('?')[0] as string)
    requests.push(path)
    if (expected !== null && req.headers.authorization !== expected) {
      res.writeHead(401, {'WWW-Authenticate': 'Basic realm="test index"'}).end()
      return
    }
    const simple = /^\/simple\/([^/]+)\/?$/.exec(path)
    if (simple) {
      const entries = byProject.get(normalize(simple[1] as string))
      if (!entries) {
        res.writeHead(404).end('not found')
        return
      }
      const bad = tampered.has(normalize(simple[1] as string))
      void Promise.all(entries.map(async (e) => (bad ? {...e, sha256: createHash('sha256').update(await tamperedBytes(e.file)).digest('hex')} : e))).then((shown) => {
        const links = shown.map((e) => `<a href="/${bad ? 'tampered' : 'files'}/${encodeURIComponent(e.file)}#sha256=${e.sha256}">${e.file}</a><br/>`).join('\n')
        res.writeHead(200, {'Content-Type': 'text/html'}).end(`<!DOCTYPE html><html><body>\n${links}\n</body></html>\n`)
      })
      return
    }
    const bad = /^\/tampered\/([^/]+)$/.exec(path)?.[1]
    if (bad !== undefined && files.includes(bad)) {
      void tamperedBytes(bad).then((bytes) => res.writeHead(200, {'Content-Type': 'application/octet-stream'}).end(bytes))
      return
    }
    if (path === '/simple/' || path === '/simple') {
      const links = [...byProject.keys()].map((p) => `<a href="/simple/${p}/">${p}</a><br/>`).join('\n')
      res.writeHead(200, {'Content-Type': 'text/html'}).end(`<!DOCTYPE html><html><body>\n${links}\n</body></html>\n`)
      return
    }
    const file = /^\/files\/([^/]+)$/.exec(path)?.[1]
    if (file !== undefined && files.includes(file)) {
      res.writeHead(200, {'Content-Type': 'application/octet-stream'})
      createReadStream(join(dir, file)).pipe(res)
      return
    }
    res.writeHead(404).end('not found')
  }
  const server: Server = opts.tls ? createHttpsServer(opts.tls, handler) : createServer(handler)
  const host = opts.host ?? '127.0.0.1'
  const listen = (port: number): Promise<void> =>
    new Promise<void>((resolve, reject) => {
      server.once('error', reject)
      server.listen(port, host, () => {
        server.off('error', reject)
        resolve()
      })
    })
  if (opts.preferredPort !== undefined) {
    // A port that is the same from run to run keeps a Bento whose lock names the index byte-identical, so its image
    // layers come from the build cache; taken (another run), any free port.
    await listen(opts.preferredPort).catch(() => listen(0))
  } else {
    await listen(opts.port ?? 0)
  }
  const port = (server.address() as AddressInfo).port
  return {
    url: `${opts.tls ? 'https' : 'http'}://${host}:${port}/simple`,
    port,
    requests,
    tamper: (project) => tampered.add(normalize(project)),
    restore: () => tampered.clear(),
    close: () => new Promise<void>((resolve) => server.close(() => resolve())),
  }
}
