/**
 * The huggingface_hub rules that BentoML's `HuggingFaceModel` follows, read from huggingface_hub's source
 * (`constants.py`, `utils/_auth.py`, `_snapshot_download.py`, `file_download.py`) and BentoML 1.4.40's
 * `_bentoml_sdk/models/huggingface.py`: the default endpoint, the token of the environment, offline mode, the cache
 * directory and its layout, what a commit looks like. Build (`bento/huggingface/resolve.ts`) and containerize
 * (`bento/huggingface/download.ts`) both take them from here. Pure: the environment is passed in.
 */
import path from 'node:path'

type Env = Readonly<Record<string, string | undefined>>

/** BentoML's `DEFAULT_HF_ENDPOINT` (recorded in bento.yaml when neither `endpoint=` nor `HF_ENDPOINT` is set). */
export const DEFAULT_HF_ENDPOINT = 'https://huggingface.co'

/** huggingface_hub's `REGEX_COMMIT_HASH` (`fullmatch`): a revision that is already a commit, nothing to resolve. */
export function isHfCommit(revision: string): boolean {
  return /^[0-9a-f]{40}$/.test(revision)
}

/**
 * `_get_token_from_environment`: `HF_TOKEN or HUGGING_FACE_HUB_TOKEN` (Python's `or`: an empty `HF_TOKEN` falls
 * through), then `_clean_token` (CR/LF removed, whitespace stripped, empty → none). huggingface_hub's further
 * sources (the token file under `HF_HOME`, OIDC, Colab) are not read.
 */
export function hfToken(env: Env): string | null {
  const raw = env.HF_TOKEN || env.HUGGING_FACE_HUB_TOKEN
  if (raw === undefined) return null
  return raw.replace(/[\r\n]/g, '').trim() || null
}

/** `Authorization` for requests to the hub, when a token is set. */
export function hfAuthHeader(env: Env): Record<string, string> {
  const token = hfToken(env)
  return token ? {authorization: `Bearer ${token}`} : {}
}

/** `constants.HF_HUB_OFFLINE`: `HF_HUB_OFFLINE or TRANSFORMERS_OFFLINE`, true for 1/ON/YES/TRUE (any case). */
export function hfOffline(env: Env): boolean {
  const v = env.HF_HUB_OFFLINE || env.TRANSFORMERS_OFFLINE
  return v !== undefined && ['1', 'ON', 'YES', 'TRUE'].includes(v.toUpperCase())
}

/** `os.path.expanduser` (`~`, `~/…` from `HOME`) then `os.path.expandvars` (`$NAME`, `${NAME}` when set). */
function expandPath(p: string, env: Env, homedir: string): string {
  const home = env.HOME || homedir
  const user = p === '~' ? home : p.startsWith('~/') ? home.replace(/\/+$/, '') + p.slice(1) : p
  return user.replace(/\$(\w+)|\$\{([^}]+)\}/g, (whole, a: string | undefined, b: string | undefined) => env[a ?? b ?? ''] ?? whole)
}

/**
 * huggingface_hub's cache directory (`constants.HF_HUB_CACHE`): `HF_HUB_CACHE`, else `HUGGINGFACE_HUB_CACHE`, else
 * `$HF_HOME/hub` with `HF_HOME` defaulting to `$XDG_CACHE_HOME/huggingface` and that to `~/.cache/huggingface`.
 * An empty variable counts as unset (huggingface_hub would take it as the current directory).
 */
export function hfHubCache(env: Env, homedir: string): string {
  const set = (name: string): string | undefined => env[name] || undefined
  const defaultHome = path.join(expandPath('~', env, homedir), '.cache')
  const hfHome = expandPath(set('HF_HOME') ?? path.join(set('XDG_CACHE_HOME') ?? defaultHome, 'huggingface'), env, homedir)
  return expandPath(set('HF_HUB_CACHE') ?? set('HUGGINGFACE_HUB_CACHE') ?? path.join(hfHome, 'hub'), env, homedir)
}

/** `models--<org>--<name>`: huggingface_hub's repo folder name (`repo_folder_name`, the id as written). */
export function hfRepoFolder(modelId: string): string {
  return `models--${modelId.split('/').join('--')}`
}

/** Where huggingface_hub records the commit a branch or tag pointed at when it was downloaded: `<repo>/refs/<revision>`. */
export function hfCacheRefPath(cacheDir: string, modelId: string, revision: string): string {
  return path.join(cacheDir, hfRepoFolder(modelId), 'refs', revision)
}
