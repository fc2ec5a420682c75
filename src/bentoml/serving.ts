/**
 * What `bentoml serve` does in a Bento image that a Kubernetes manifest must allow for (`bento k8s`). Read from
 * BentoML 1.4.15 and 1.4.40 (the same in both): `_internal/configuration/containers.py`, `_bentoml_sdk/service/
 * factory.py` (`path_prefix` → `endpoints`), `_bentoml_sdk/service/config.py` (`resources`, `traffic`).
 */

/**
 * The directories under `$BENTOML_HOME` BentoML creates (or writes into) at start: `bentoml_home()` runs
 * `validate_or_create_dir(home, bentos, models, envs, tmp)` on first use, and the Prometheus multiprocess directory
 * is `<home>/prometheus_multiproc_dir`. On a read-only root file system each needs a writable volume; seen failing
 * with `OSError: [Errno 30] Read-only file system: '/home/bentoml/bentos'` under `docker run --read-only`. With a tmpfs
 * on each of them and on /tmp (where the server puts its `bentoml-uds-*` sockets), the legacy iris (1.4.15) and the SDK
 * iris (built by `bentoml build` 1.4.40) served as uid 1034 on a read-only root.
 */
export const BENTOML_HOME_WRITES = ['bentos', 'models', 'envs', 'tmp', 'prometheus_multiproc_dir'] as const

/** The health endpoints of a BentoML server (legacy and SDK); a `path_prefix` moves them to `config.endpoints`. */
export const READYZ_PATH = '/readyz'
export const LIVEZ_PATH = '/livez'

/**
 * How long a server may take to answer `/readyz` after start: 60 s, plus 30 s per GiB of models to load (`bento smoke`'s
 * timeout, `bento k8s`'s startupProbe).
 */
export function startAllowanceMs(modelBytes: number): number {
  return 60_000 + Math.ceil((30_000 * modelBytes) / 1024 ** 3)
}

/** `traffic.timeout` when the service sets none (seconds). */
export const DEFAULT_TRAFFIC_TIMEOUT_S = 60

/**
 * `services[].config.resources` keys (`ResourceSchema`): `cpu` in cores when a number (`'100m'`, `'0.5'` as text),
 * `memory` in GiB when a number (`'512Mi'`, `'2Gi'` as text), `gpu` a positive number, `gpu_type` one of
 * `GpuLiteralType` (`nvidia-l4`, `nvidia-tesla-a100`, … `amd-mi300x`).
 */
export interface ServiceResources {
  cpu?: string | number
  memory?: string | number
  gpu?: number
  gpu_type?: string
}

/** `services[].config.traffic` keys (`TrafficSchema`) bento k8s reads. */
export interface ServiceTraffic {
  timeout?: number
  concurrency?: number
  max_concurrency?: number
}

/** The extended resource a `gpu_type` is scheduled by: `amd-*` types are AMD GPUs, every other one NVIDIA's. */
export function gpuResourceName(gpuType: string | undefined): 'nvidia.com/gpu' | 'amd.com/gpu' {
  return gpuType !== undefined && gpuType.startsWith('amd-') ? 'amd.com/gpu' : 'nvidia.com/gpu'
}

/** Legacy (spec 1) runners: `runners[].resource_config`, e.g. `{cpu: 2, nvidia.com/gpu: 1}`. */
export const RUNNER_GPU_KEYS = ['nvidia.com/gpu', 'amd.com/gpu'] as const
