import {createHash} from 'node:crypto'
import {readFile} from 'node:fs/promises'
import {homedir} from 'node:os'

import {type HfArgs, hfKey, type PlanHfModel} from '../plan.js'
import {DEFAULT_HF_ENDPOINT, hfAuthHeader, hfCacheRefPath, hfHubCache, hfOffline, isHfCommit} from '../../bentoml/huggingface.js'
import {formatTag} from '../../bentoml/tag.js'
import {NotFoundError} from '../../errors.js'
import type {readService} from '../../python/index.js'

/**
 * `HuggingFaceModel(...).to_info()` of BentoML 1.4.40 (`_bentoml_sdk/models/huggingface.py`): the revision is
 * resolved to a commit through the hub's HTTP API (`GET <endpoint>/api/models/<id>/revision/<revision>`, as
 * huggingface_hub's `model_info`), and the tag is `<id lowercased, / → -->:<md5 of the metadata JSON>`.
 * This is the one part of a build that may need the network (or `HF_ENDPOINT` pointing at a mirror), and only for a
 * branch or tag: a revision that is already a commit (40 hex digits) is recorded as it is — the hub would answer
 * that same commit, so the Bento is the same — and with `HF_HUB_OFFLINE=1` a branch or tag is read from the local
 * Hugging Face cache (`<cache>/models--<org>--<name>/refs/<revision>`), as huggingface_hub's `snapshot_download` does.
 */

export interface HfResolveOptions {
  /** `HF_ENDPOINT`, `HF_TOKEN` (`HUGGING_FACE_HUB_TOKEN`), `HF_HUB_OFFLINE` and the cache's variables, from the environment of the build. */
  env: Readonly<Record<string, string | undefined>>
  fetch?: typeof fetch
  signal?: AbortSignal
  /** Where the reference is, for messages. */
  site: {file: string; line?: number}
  /** The user's home (`~`), for the default cache directory. */
  homedir?: string
}

/** Python's `json.dumps(obj, sort_keys=True, separators=(",", ":"))` (ensure_ascii). */
export function pyJsonDumps(value: unknown): string {
  const sorted = (v: unknown): unknown => {
    if (Array.isArray(v)) return v.map(sorted)
    if (v !== null && typeof v === 'object') {
      return Object.fromEntries(
        Object.keys(v as Record<string, unknown>)
          .sort()
          .map((k) => [k, sorted((v as Record<string, unknown>)[k])]),
      )
    }
    return v
  }
  return JSON.stringify(sorted(value)).replace(/[\u0080-\uffff]/g, (c) => `\\u${c.charCodeAt(0).toString(16).padStart(4, '0')}`)
}

/** The bento.yaml entry for a resolved reference: BentoML's tag and metadata. */
export function hfModelInfo(modelId: string, args: HfArgs, commit: string, endpoint: string | null): Omit<PlanHfModel, 'key'> {
  const id = modelId.toLowerCase()
  const metadata = {model_id: id, revision: commit, endpoint: endpoint ?? DEFAULT_HF_ENDPOINT, include: args.include, exclude: args.exclude}
  const hash = createHash('md5').update(pyJsonDumps(metadata)).digest('hex')
  return {tag: formatTag({name: id.replace(/\//g, '--'), version: hash}), metadata}
}

export async function resolveHfModel(modelId: string, args: HfArgs | undefined, opts: HfResolveOptions): Promise<PlanHfModel> {
  const a: HfArgs = args ?? {revision: 'main', endpoint: null, include: null, exclude: null}
  // attrs factory: os.getenv("HF_ENDPOINT") when endpoint= is not given.
  const endpoint = a.endpoint ?? (opts.env.HF_ENDPOINT || null)
  const base = (endpoint ?? DEFAULT_HF_ENDPOINT).replace(/\/+$/, '')
  const url = `${base}/api/models/${modelId}/revision/${encodeURIComponent(a.revision)}`
  const where = `${opts.site.file}${opts.site.line ? `:${opts.site.line}` : ''}`
  const key = hfKey(modelId, args)
  if (isHfCommit(a.revision)) return {key, ...hfModelInfo(modelId, a, a.revision, endpoint)}
  const cache = hfHubCache(opts.env, opts.homedir ?? homedir())
  const pin = `pin the commit, HuggingFaceModel("${modelId}", revision="<40-hex commit>"), which needs no hub`
  if (hfOffline(opts.env)) return {key, ...hfModelInfo(modelId, a, await commitFromCache(modelId, a.revision, cache, where, pin), endpoint)}
  const fail = (why: string, hint: string, cause?: unknown): NotFoundError =>
    new NotFoundError(`Hugging Face model "${modelId}" (${where}): cannot resolve revision "${a.revision}" through ${base}: ${why}`, {
      code: 'E_HF_HUB',
      hint,
      data: {modelId, revision: a.revision, endpoint: base, url},
      ...(cause === undefined ? {} : {cause}),
    })
  let res: Response
  try {
    res = await (opts.fetch ?? fetch)(url, {
      headers: {accept: 'application/json', ...hfAuthHeader(opts.env)},
      signal: opts.signal ?? AbortSignal.timeout(30_000),
    })
  } catch (error) {
    const cause = (error as {cause?: {code?: string; message?: string}}).cause
    const why = cause?.code ?? cause?.message ?? (error as Error).message
    throw fail(
      `the hub cannot be reached (${why})`,
      `BentoML records the commit the revision points at, which the hub answers: ${pin}; or set HF_HUB_OFFLINE=1 to read it from the local Hugging Face cache (${cache}, filled by downloading the model once); or connect to the network, or set HF_ENDPOINT to a reachable mirror`,
      error,
    )
  }
  if (!res.ok) {
    const hint =
      res.status === 401 || res.status === 403
        ? 'the repository is gated or private: set HF_TOKEN to a token that can read it'
        : res.status === 404
          ? 'check the model id and revision (and HF_TOKEN for private repositories)'
          : 'try again later, or set HF_ENDPOINT to a mirror'
    throw fail(`HTTP ${res.status}`, hint)
  }
  let body: unknown
  try {
    body = await res.json()
  } catch (error) {
    throw fail('the answer is not JSON', 'check that HF_ENDPOINT points at a Hugging Face hub', error)
  }
  const sha = (body as {sha?: unknown} | null)?.sha
  const commit = typeof sha === 'string' && sha !== '' ? sha : a.revision
  return {key, ...hfModelInfo(modelId, a, commit, endpoint)}
}

/** `HF_HUB_OFFLINE=1`: the commit huggingface_hub recorded for the revision when it downloaded the model. */
async function commitFromCache(modelId: string, revision: string, cache: string, where: string, pin: string): Promise<string> {
  const ref = hfCacheRefPath(cache, modelId, revision)
  const fail = (why: string): NotFoundError =>
    new NotFoundError(`Hugging Face model "${modelId}" (${where}): cannot resolve revision "${revision}" offline (HF_HUB_OFFLINE): ${why}`, {
      code: 'E_HF_HUB',
      hint: `${pin}; or fill the Hugging Face cache (${cache}) by downloading the model once, e.g. \`hf download ${modelId} --revision ${revision}\`; or unset HF_HUB_OFFLINE to ask the hub`,
      data: {modelId, revision, offline: true, cache, ref},
    })
  if (revision.split('/').some((p) => p === '..' || p === '')) throw fail(`"${revision}" is no branch or tag name`)
  let text: string
  try {
    text = await readFile(ref, 'utf8')
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code
    throw fail(code === 'ENOENT' || code === 'ENOTDIR' ? `${ref} does not exist` : `${ref} cannot be read (${code ?? (error as Error).message})`)
  }
  // huggingface_hub reads the file as it is (it writes the commit without a newline).
  if (!isHfCommit(text)) throw fail(`${ref} does not hold a commit (40 hex digits)`)
  return text
}

/** Every Hugging Face model of the SDK services, resolved on the hub (the one step of a build that needs the network). */
export async function resolveHfModels(
  service: ReturnType<typeof readService>,
  opts: {env: Readonly<Record<string, string | undefined>>; signal?: AbortSignal},
): Promise<PlanHfModel[]> {
  const out = new Map<string, PlanHfModel>()
  for (const svc of service.services) {
    for (const m of svc.models) {
      if (m.registry !== 'huggingface') continue
      const key = hfKey(m.tag, m.hf)
      if (out.has(key)) continue
      const site = {file: svc.file, line: m.line ?? svc.line}
      out.set(key, await resolveHfModel(m.tag, m.hf, {env: opts.env, site, ...(opts.signal ? {signal: opts.signal} : {})}))
    }
  }
  return [...out.values()]
}
