/**
 * BentoML's runtime contract for images (the same in 1.4.15 and 1.4.40: `base.j2`, `base_v2.j2`,
 * `entrypoint.sh`): who runs the service, where the Bento and the venv live, which ports it opens.
 */
export const BENTO_USER = 'bentoml'
export const BENTO_UID = 1034
export const BENTO_GID = 1034
/** `$BENTO_PATH` in the image. */
export const BENTO_PATH = '/home/bentoml/bento'
/** `$BENTOML_HOME` in the image (trailing slash as BentoML writes it). */
export const IMAGE_BENTOML_HOME = '/home/bentoml/'
/** `BENTOML_HF_CACHE_DIR` in spec-2 images: Hugging Face models are baked in under the Bento. */
export const IMAGE_HF_CACHE_DIR = '/home/bentoml/bento/hf-models'
export const IMAGE_VENV = '/app/.venv'
export const SERVE_PORT = 3000
export const METRICS_PORT = 3001
