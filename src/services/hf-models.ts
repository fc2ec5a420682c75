import {createHash} from 'node:crypto'

import {type HfArgs, hfKey, type PlanHfModel} from '../bento/plan.js'
import {NotFoundError} from '../errors.js'

/**
 * `HuggingFaceModel(...).to_info()` of BentoML 1.4.40 (`_bentoml_sdk/models/huggingface.py`): the revision is
 * resolved to a commit through the hub's HTTP API (`GET <endpoint>/api/models/<id>/revision/<revision>`, as
 * huggingface_hub's `model_info`), and the tag is `<id lowercased, / → -->:<md5 of the metadata JSON>`.
 * This is the one part of a build that needs the network (or `HF_ENDPOINT` pointing at a mirror).
 */

export const DEFAULT_HF_ENDPOINT = 'https://huggingface.co'

export interface HfResolveOptions {
  /** `HF_ENDPOINT`, `HF_TOKEN` (`HUGGING_FACE_HUB_TOKEN`) from the environment of the build. */
  env: Readonly<Record<string, string | undefined>>
  fetch?: typeof fetch
  signal?: AbortSignal
  /** Where the reference is, for messages. */
  site: {file: string; line?: number}
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
  return {tag: `${id.replace(/\//g, '--')}:${hash}`, metadata}
}

export async function resolveHfModel(modelId: string, args: HfArgs | undefined, opts: HfResolveOptions): Promise<PlanHfModel> {
  const a: HfArgs = args ?? {revision: 'main', endpoint: null, include: null, exclude: null}
  // attrs factory: os.getenv("HF_ENDPOINT") when endpoint= is not given.
  const endpoint = a.endpoint ?? (opts.env.HF_ENDPOINT || null)
  const base = (endpoint ?? DEFAULT_HF_ENDPOINT).replace(/\/+$/, '')
  const url = `${base}/api/models/${modelId}/revision/${encodeURIComponent(a.revision)}`
  const token = opts.env.HF_TOKEN || opts.env.HUGGING_FACE_HUB_TOKEN
  const where = `${opts.site.file}${opts.site.line ? `:${opts.site.line}` : ''}`
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
      headers: {accept: 'application/json', ...(token ? {authorization: `Bearer ${token}`} : {})},
      signal: opts.signal ?? AbortSignal.timeout(30_000),
    })
  } catch (error) {
    const cause = (error as {cause?: {code?: string; message?: string}}).cause
    const why = cause?.code ?? cause?.message ?? (error as Error).message
    throw fail(
      `the hub cannot be reached (${why})`,
      'BentoML records the commit the revision points at, so this build needs the hub: connect to the network, or set HF_ENDPOINT to a reachable mirror',
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
  return {key: hfKey(modelId, args), ...hfModelInfo(modelId, a, commit, endpoint)}
}
