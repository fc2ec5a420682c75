import {basename} from 'node:path'

import {BaseSequencer, type TestSpecification} from 'vitest/node'

/** The parallel tiers' order: their longest files (real BentoML, Python, `bentoml serve`) first. */
const ORDER = ['e2e-bentoml', 'needs-root', 'unit']

/**
 * Seconds each e2e-docker file took, measured two files at a time (`npx vitest run --project e2e-docker` on the 2-core
 * machine with the tools provisioned, 2026-12-06, under a load of 12–16 from other work: absolute figures run high,
 * the order is what counts). The tier runs them longest first, so the run does not end with a long file started
 * last. A fresh clone has no vitest cache, so the order comes from here; a file missing from the table (a new one)
 * counts as DEFAULT_DOCKER_SECONDS. Update the figures when a file changes a lot.
 */
export const DOCKER_SECONDS: Readonly<Record<string, number>> = {
  // Measured in whole .ci/run runs (2026-12-06, two slots, warm build cache).
  'interop-matrix-containerize.docker.test.ts': 95,
  'containerize.docker.test.ts': 150,
  'containerize-locked.docker.test.ts': 115,
  'smoke.docker.test.ts': 100,
  'big-model.docker.test.ts': 60,
  'push.docker.test.ts': 55,
  'k8s-play.docker.test.ts': 50,
  'containerize-ca-cert.docker.test.ts': 40,
  'ci-recipe.docker.test.ts': 45,
  'containerize-image-sdk.docker.test.ts': 30,
  'containerize-sdk.docker.test.ts': 28,
  'prune-homes.docker.test.ts': 13,
  'user-template-image.docker.test.ts': 12,
}
export const DEFAULT_DOCKER_SECONDS = 60

/** The Docker files in the order they start: longest (by DOCKER_SECONDS) first, the file name breaking ties. */
export function dockerOrder<T>(files: readonly T[], path: (f: T) => string): T[] {
  const secs = (f: T): number => DOCKER_SECONDS[basename(path(f))] ?? DEFAULT_DOCKER_SECONDS
  return [...files].sort((a, b) => secs(b) - secs(a) || basename(path(a)).localeCompare(basename(path(b))))
}

/**
 * The parallel tiers: vitest's order (failed first, then longest first by the last run's durations, or largest file
 * first without them, as in a fresh clone), with the e2e-bentoml files ahead of the unit ones: they are the long
 * ones, and the run ends when the last long file started late ends. The e2e-docker tier (a pool of its own):
 * `dockerOrder`.
 */
export class TierSequencer extends BaseSequencer {
  override async sort(files: TestSpecification[]): Promise<TestSpecification[]> {
    const docker = files.filter((s) => s.project.name === 'e2e-docker')
    const sorted = await super.sort(files.filter((s) => s.project.name !== 'e2e-docker'))
    const rank = (s: TestSpecification): number => {
      const i = ORDER.indexOf(s.project.name)
      return i < 0 ? ORDER.length : i
    }
    return [
      ...sorted
        .map((spec, i) => ({spec, i}))
        .sort((a, b) => rank(a.spec) - rank(b.spec) || a.i - b.i)
        .map(({spec}) => spec),
      ...dockerOrder(docker, (s) => s.moduleId),
    ]
  }
}
