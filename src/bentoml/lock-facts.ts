/**
 * How `bentoml build` 1.4.40 locks Python requirements (bentoml-1.4.40.md §1g; `build_config.py:612-651`,
 * `_bentoml_sdk/images.py:300-336`): what bento's lock mirrors, and where the Bento holds the result.
 */

/** `uv pip compile` options BentoML passes (both specs); bento adds `--generate-hashes`, `--python-version`, `--python-platform`. */
export const BENTOML_UV_COMPILE_ARGS = ['--no-header', '--emit-index-url', '--emit-find-links', '--no-annotate'] as const

/** BentoML's lock target when the build host is not Linux x86_64 (`DEFAULT_LOCK_PLATFORM`). */
export const BENTOML_DEFAULT_LOCK_PLATFORM = 'x86_64-manylinux_2_36'

/** Spec 1: the lock is `env/python/requirements.lock.txt` (install.sh prefers it); requirements.txt stays unlocked. */
export const SPEC1_LOCK_FILE = 'env/python/requirements.lock.txt'

/**
 * Spec 2: the lock is `env/python/requirements.txt` and `image.python_requirements` in bento.yaml; the unlocked lines
 * are `env/python/requirements.in`.
 */
export const SPEC2_LOCK_FILE = 'env/python/requirements.txt'
