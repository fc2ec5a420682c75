/**
 * BentoML's runtime contract for images (the same in 1.4.15 and 1.4.40: `base.j2`, `base_v2.j2`,
 * `entrypoint.sh`): who runs the service, where the Bento and the venv live, which ports it opens. The Dockerfile
 * renderer feeds these to templates/Dockerfile.template (which holds none of them) and to a user template's
 * variables; templates/entrypoint.sh is shipped verbatim and a test holds it to the same values.
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
/** BentoML's default `grpc.metrics.port` (a user template's `__prometheus_port__`). */
export const METRICS_PORT = 3001
