import {BaseSequencer, type TestSpecification} from 'vitest/node'

/** The parallel tiers' order: their longest files (real BentoML, Python, `bentoml serve`) first. */
const ORDER = ['e2e-bentoml', 'needs-root', 'unit']

/**
 * Vitest's order (failed first, then longest first by the last run's durations, or largest file first without
 * them, as in a fresh clone), with the e2e-bentoml files ahead of the unit ones: they are the long ones, and the
 * run ends when the last long file started late ends.
 */
export class TierSequencer extends BaseSequencer {
  override async sort(files: TestSpecification[]): Promise<TestSpecification[]> {
    const sorted = await super.sort(files)
    const rank = (s: TestSpecification): number => {
      const i = ORDER.indexOf(s.project.name)
      return i < 0 ? ORDER.length : i
    }
    return sorted
      .map((spec, i) => ({spec, i}))
      .sort((a, b) => rank(a.spec) - rank(b.spec) || a.i - b.i)
      .map(({spec}) => spec)
  }
}
