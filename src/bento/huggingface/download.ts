import {createWriteStream} from 'node:fs'
import {mkdir, rename, rm, symlink, writeFile} from 'node:fs/promises'
import path from 'node:path'
import {Readable} from 'node:stream'
import {pipeline} from 'node:stream/promises'

import {DEFAULT_HF_ENDPOINT, hfAuthHeader, hfRepoFolder} from '../../bentoml/huggingface.js'
import {NotFoundError, UsageError} from '../../errors.js'
import type {Reporter} from '../../reporter.js'

/**
 * Hugging Face models of a Bento (`registry: huggingface` entries, BentoML's `HuggingFaceModel`): fetched from the
 * hub's HTTP API into the layout `huggingface_hub.snapshot_download` writes, which is what BentoML bakes into an
 * image under `$BENTO_PATH/hf-models/` and what the model loads from at run time (`BENTOML_HF_CACHE_DIR`):
 *
 *     models--<org>--<name>/blobs/<etag>                       the file contents
 *     models--<org>--<name>/snapshots/<commit>/<path>           symlinks to ../../blobs/<etag>
 *
 * What is fetched is what bento.yaml recorded: `metadata.model_id`, the commit `metadata.revision`, the
 * `metadata.endpoint` (the hub, or an `HF_ENDPOINT` mirror, at build time) and the `include` / `exclude` patterns
 * (fnmatch, as `huggingface_hub.utils.filter_repo_objects`). The token of the environment is sent when set (gated
 * repositories), by the rule build uses (`hfToken` in bentoml/huggingface.ts: `HF_TOKEN`, else `HUGGING_FACE_HUB_TOKEN`).
 */

export interface HfModelRef {
  /** bento.yaml tag, `<org>--<name>:<md5 of the metadata>`. */
  tag: string
  modelId: string
  revision: string
  endpoint: string
  include: string[] | null
  exclude: string[] | null
}

export {hfRepoFolder}

function patterns(v: unknown): string[] | null {
  if (v === null || v === undefined) return null
  if (typeof v === 'string') return [v]
  return Array.isArray(v) ? v.map(String) : null
}

/** The reference as BentoML's `HuggingFaceModel.from_info` rebuilds it from a bento.yaml entry. */
export function hfModelRef(entry: {tag: string; name: string; metadata?: Record<string, unknown>}): HfModelRef {
  const m = entry.metadata ?? {}
  return {
    tag: entry.tag,
    modelId: typeof m.model_id === 'string' && m.model_id ? m.model_id : entry.name.replace(/--/g, '/'),
    revision: typeof m.revision === 'string' && m.revision ? m.revision : 'main',
    endpoint: (typeof m.endpoint === 'string' && m.endpoint ? m.endpoint : DEFAULT_HF_ENDPOINT).replace(/\/+$/, ''),
    include: patterns(m.include),
    exclude: patterns(m.exclude),
  }
}

/** Python's `fnmatch.fnmatch` (case-sensitive on POSIX): `*` also matches `/`. */
function fnmatchRegExp(pattern: string): RegExp {
  let re = ''
  for (let i = 0; i < pattern.length; i++) {
    const c = pattern[i]!
    if (c === '*') re += '.*'
    else if (c === '?') re += '.'
    else if (c === '[') {
      const end = pattern.indexOf(']', i + 2)
      if (end === -1) re += '\\['
      else {
        let body = pattern.slice(i + 1, end).replace(/\\/g, '\\\\')
        if (body.startsWith('!')) body = `^${body.slice(1)}`
        re += `[${body}]`
        i = end
      }
    } else re += c.replace(/[.+^${}()|\\/]/g, '\\$&')
  }
  return new RegExp(`^${re}$`, 's')
}

/** `filter_repo_objects`: keep a path matching some `include` (all when null) and no `exclude`; `dir/` means `dir/*`. */
export function filterRepoFiles(files: string[], include: string[] | null, exclude: string[] | null): string[] {
  const norm = (ps: string[] | null): RegExp[] | null => (ps === null ? null : ps.map((p) => fnmatchRegExp(p.endsWith('/') ? `${p}*` : p)))
  const inc = norm(include)
  const exc = norm(exclude) ?? []
  return files.filter((f) => (inc === null || inc.some((r) => r.test(f))) && !exc.some((r) => r.test(f)))
}

function headers(env: NodeJS.ProcessEnv): Record<string, string> {
  return {'user-agent': 'bento (huggingface_hub-compatible)', ...hfAuthHeader(env)}
}

function normalizeEtag(etag: string | null): string | null {
  if (!etag) return null
  return etag.replace(/^W\//, '').replace(/^"|"$/g, '')
}

function unreachable(ref: HfModelRef, url: string, cause: unknown): UsageError {
  return new UsageError(`Cannot fetch the Hugging Face model ${ref.modelId}@${ref.revision} from ${ref.endpoint}: ${(cause as Error)?.message ?? String(cause)}`, {
    cause,
    hint: `containerize bakes Hugging Face models into the image, so it needs the hub (${url}); on a machine without it, use a mirror that was recorded at build time (HF_ENDPOINT), and set HF_TOKEN for gated models`,
    data: {model: ref.tag, url},
  })
}

async function get(ref: HfModelRef, url: string, env: NodeJS.ProcessEnv, init: RequestInit = {}): Promise<Response> {
  let r: Response
  try {
    r = await fetch(url, {...init, headers: {...headers(env), ...(init.headers as Record<string, string> | undefined)}})
  } catch (error) {
    throw unreachable(ref, url, error)
  }
  if (r.status === 401 || r.status === 403 || r.status === 404) {
    throw new NotFoundError(`Hugging Face model ${ref.modelId}@${ref.revision}: ${url} answered ${r.status}`, {
      code: 'E_MODEL_NOT_FOUND',
      hint: r.status === 404 ? 'check the model id and revision recorded in bento.yaml' : 'the repository is gated or private: set HF_TOKEN',
      data: {model: ref.tag, url, status: r.status},
    })
  }
  if (!r.ok && !(r.status >= 300 && r.status < 400)) throw unreachable(ref, url, new Error(`HTTP ${r.status}`))
  return r
}

/**
 * Download a Hugging Face model into `dest/<repo folder>/` in huggingface_hub's cache layout, streaming each file to
 * disk (never buffering it). Returns the repo folder's path.
 */
export async function downloadHfModel(ref: HfModelRef, dest: string, opts: {env: NodeJS.ProcessEnv; reporter: Reporter; signal?: AbortSignal}): Promise<string> {
  const repo = encodeURI(ref.modelId)
  const infoUrl = `${ref.endpoint}/api/models/${repo}/revision/${encodeURIComponent(ref.revision)}`
  const info = (await (await get(ref, infoUrl, opts.env, {signal: opts.signal})).json()) as {sha?: string; siblings?: Array<{rfilename?: string}>}
  const commit = info.sha ?? ref.revision
  const all = (info.siblings ?? []).map((s) => s.rfilename).filter((f): f is string => typeof f === 'string')
  const files = filterRepoFiles(all, ref.include, ref.exclude)
  const root = path.join(dest, hfRepoFolder(ref.modelId))
  await mkdir(path.join(root, 'blobs'), {recursive: true})
  for (const [i, file] of files.entries()) {
    if (file.split('/').some((p) => p === '..' || p === '') || file.startsWith('/')) {
      throw unreachable(ref, infoUrl, new Error(`the hub listed an unsafe file name "${file}"`))
    }
    const url = `${ref.endpoint}/${repo}/resolve/${encodeURIComponent(commit)}/${file.split('/').map(encodeURIComponent).join('/')}`
    // As huggingface_hub: the etag of the first answer (X-Linked-Etag for LFS files, whose body is a redirect) names the blob.
    const head = await get(ref, url, opts.env, {method: 'HEAD', redirect: 'manual', signal: opts.signal})
    const etag = normalizeEtag(head.headers.get('x-linked-etag') ?? head.headers.get('etag'))
    if (!etag || !/^[A-Za-z0-9._-]+$/.test(etag)) throw unreachable(ref, url, new Error('no usable ETag in the answer'))
    const blob = path.join(root, 'blobs', etag)
    opts.reporter.status(`Fetching ${ref.modelId} ${file} (${i + 1}/${files.length})`)
    const body = await get(ref, url, opts.env, {signal: opts.signal})
    if (!body.body) throw unreachable(ref, url, new Error('empty answer'))
    const tmp = `${blob}.incomplete`
    await pipeline(Readable.fromWeb(body.body as never), createWriteStream(tmp))
    await rename(tmp, blob)
    const link = path.join(root, 'snapshots', commit, file)
    await mkdir(path.dirname(link), {recursive: true})
    await rm(link, {force: true})
    await symlink(path.relative(path.dirname(link), blob), link)
  }
  if (commit !== ref.revision) {
    await mkdir(path.join(root, 'refs'), {recursive: true})
    await writeFile(path.join(root, 'refs', ref.revision), commit)
  }
  return root
}
