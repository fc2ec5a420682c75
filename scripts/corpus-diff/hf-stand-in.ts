/**
 * A local stand-in of the Hugging Face hub's model-info API on 127.0.0.1, reached by both builds through
 * `HF_ENDPOINT`: `GET /api/models/{repo}/revision/{rev}` and `GET /api/models/{repo}` answer a fixed commit (a
 * digest of repo and revision, so every build of the run sees the same one) and a small file list, as the hub does.
 */
import {createHash} from 'node:crypto'
import {createServer, type Server} from 'node:http'

export interface HfStandIn {
  endpoint: string
  /** Every path asked, in order (for the report: which repositories were resolved). */
  asked: string[]
  close: () => Promise<void>
}

/** The commit the stand-in answers for `repo` at `revision` (a 40-hex commit is answered as it is, as the hub does). */
export function standInSha(repo: string, revision: string): string {
  if (/^[0-9a-f]{40}$/.test(revision)) return revision
  return createHash('sha1').update(`${repo.toLowerCase()}@${revision}`).digest('hex')
}

const SIBLINGS = ['config.json', 'model.safetensors', 'tokenizer.json', 'README.md'].map((rfilename) => ({rfilename, size: 1024}))

export async function startHfStandIn(): Promise<HfStandIn> {
  const asked: string[] = []
  const server: Server = createServer((req, res) => {
    // `HF_ENDPOINT=http://host/` (a trailing slash): huggingface_hub's HfApi(endpoint=…), as BentoML makes it, asks
    // `//api/models/…` (bento strips the slash); answered alike, as a server that merges slashes does.
    const path = decodeURIComponent((req.url ?? '').split('?')[0] ?? '').replace(/^\/+/, '/')
    asked.push(path)
    const m = /^\/api\/models\/(.+?)(?:\/revision\/([^/]+))?$/.exec(path)
    if (req.method !== 'GET' || !m?.[1]) {
      res.writeHead(404, {'content-type': 'application/json'}).end(JSON.stringify({error: 'Repository not found'}))
      return
    }
    const repo = m[1]
    const sha = standInSha(repo, m[2] ?? 'main')
    res.writeHead(200, {'content-type': 'application/json'}).end(JSON.stringify({id: repo, modelId: repo, sha, siblings: SIBLINGS}))
  })
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve))
  const address = server.address()
  const port = typeof address === 'object' && address ? address.port : 0
  return {
    endpoint: `http://127.0.0.1:${port}`,
    asked,
    close: () => new Promise<void>((resolve) => server.close(() => resolve())),
  }
}
