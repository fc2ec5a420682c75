/**
 * The tiers in forks (unit, needs-root, e2e-bentoml) run at a lower CPU priority than the Docker tier
 * (vitest.config.ts). On a machine the suite keeps busy, the Docker files are the longest path of the run (two at a
 * time, each waiting on builds and containers that compete with the forks for the CPU); the forks have slack. Nice
 * BENTO_FORKS_NICE (default 5: about a quarter of a Docker process's share when both want the CPU; 0 turns it off)
 * for the fork's main thread and every process it starts from then on (the CLI, Python, `bentoml serve`). Nothing
 * is timed against the wall clock tightly enough to notice; a file that is, is the Docker tier's or passes a limit.
 */
import {setPriority} from 'node:os'

const nice = Number(process.env.BENTO_FORKS_NICE ?? 5)
if (Number.isInteger(nice) && nice > 0) {
  try {
    setPriority(nice)
  } catch {
    // A process that may not change its priority runs at the one it has.
  }
}
