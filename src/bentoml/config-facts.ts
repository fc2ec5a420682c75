/**
 * bentofile facts from BentoML v1.4.15 (`container/frontend/dockerfile/__init__.py`,
 * `bento/build_config.py`). Where 1.4.40 differs, the comment says so; what differs by target
 * version is in versions.ts.
 */

/** `CONTAINER_SUPPORTED_DISTROS`. */
export const DISTROS = ['debian', 'alpine', 'ubi8', 'amazonlinux'] as const

/** `SUPPORTED_PYTHON_VERSIONS` (HEAD adds 3.14). */
export const SUPPORTED_PYTHON_VERSIONS = ['3.9', '3.10', '3.11', '3.12', '3.13'] as const

/** Per distro: supported Python versions and whether CUDA / conda (miniconda) images exist. */
export const DISTRO_SPECS: Readonly<Record<(typeof DISTROS)[number], {python: readonly string[]; cuda: boolean; conda: boolean}>> = {
  // amazonlinux lists only 3.8, which DistroSpec itself rejects: the distro is unusable in 1.4.15.
  amazonlinux: {python: ['3.8'], cuda: false, conda: false},
  ubi8: {python: SUPPORTED_PYTHON_VERSIONS, cuda: true, conda: false},
  debian: {python: SUPPORTED_PYTHON_VERSIONS, cuda: true, conda: true},
  alpine: {python: SUPPORTED_PYTHON_VERSIONS, cuda: false, conda: true},
}

/** `ALLOWED_CUDA_VERSION_ARGS`: what the user may write → the full version installed. */
export const ALLOWED_CUDA_VERSION_ARGS: Readonly<Record<string, string>> = {
  '12': '12.1.1',
  '12.1': '12.1.1',
  '12.1.1': '12.1.1',
  '12.1.0': '12.1.0',
  '12.0': '12.0.1',
  '12.0.1': '12.0.1',
  '12.0.0': '12.0.0',
  '11': '11.8.0',
  '11.8': '11.8.0',
  '11.8.0': '11.8.0',
  '11.7': '11.7.1',
  '11.7.1': '11.7.1',
  '11.6': '11.6.2',
  '11.6.2': '11.6.2',
  '11.4': '11.4.3',
  '11.4.3': '11.4.3',
  '11.2': '11.2.2',
  '11.2.2': '11.2.2',
}

/** `DEFAULT_CUDA_VERSION` at v1.4.15 (`12.8.1` at HEAD). */
export const DEFAULT_CUDA_VERSION = '11.6.2'
export const DEFAULT_DISTRO = 'debian'
/**
 * The Python of a Bento whose build config, image and project (`requires-python`, `.python-version`) say none.
 * BentoML uses the Python running `bentoml build`; bento runs none. The one home of this default.
 */
export const DEFAULT_PYTHON_VERSION = '3.11'

/** `_convert_python_version`; `\w` as Python's Unicode word class. */
export const PYTHON_VERSION_RE = /^(\d)\.(\d{0,2})(?:\.[\p{L}\p{N}_]+)?$/u

/** `_convert_env` for list items. */
export const ENV_LIST_ITEM_RE = /^([\p{L}\p{N}_]+)=(?:[.\p{L}\p{N}_\-,/]+)$/u

export const ENV_STAGES = ['all', 'build', 'runtime'] as const

/** The same two patterns for JSON Schema (ECMA-262 without the `u` flag: `\w` is ASCII there). */
export const PYTHON_VERSION_PATTERN = '^(\\d)\\.(\\d{0,2})(?:\\.\\w+)?$'
export const ENV_LIST_ITEM_PATTERN = '^(\\w+)=(?:[.\\w\\-,/]+)$'
