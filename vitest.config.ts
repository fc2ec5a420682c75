import {availableParallelism} from 'node:os'

import {configDefaults, defineConfig} from 'vitest/config'

import {dockerSlots} from './test/helpers/slots.js'
import {TierSequencer} from './test/sequencer.js'

/**
 * The test tiers (README "Development", docs/architecture.md "Tests"). Where a new test goes is decided by its path:
 *
 *   unit          src/**\/*.test.ts, test/unit/**\/*.test.ts   in-process or the compiled CLI; no Docker daemon; parallel
 *   needs-root    *.root.test.ts (src/, test/unit/)           mounts (tmpfs, read-only remounts); parallel
 *   e2e-bentoml   test/e2e/**\/*.test.ts                       real BentoML / Python / uv, no Docker daemon; parallel
 *   e2e-docker    test/e2e/**\/*.docker.test.ts                the real Docker daemon or registry; two files at a time
 *
 * Every project runs in the same vitest run: the parallel ones in forks, e2e-docker beside them in worker threads
 * (a pool of its own, so it does not wait for the others), the only tier that talks to the shared daemon. It runs
 * BENTO_DOCKER_SLOTS files at once (default 2: a Docker file mostly waits on the daemon, the registry and
 * containers), longest first (test/sequencer.ts); each file uses its own names, homes, registry repositories and
 * build-cache records, never counts of the whole daemon.
 */
const ROOT_TESTS = ['src/**/*.root.test.ts', 'test/unit/**/*.root.test.ts']
const DOCKER_TESTS = ['test/e2e/**/*.docker.test.ts']
const isRoot = process.getuid?.() === 0
const ci = process.env.CI === 'true' || process.env.CI === '1'
const DOCKER_SLOTS = dockerSlots()

/**
 * The daemon the tiers without Docker get: none. A test there that reaches for Docker (the CLI and dockerode both
 * read DOCKER_HOST) fails at once, and the socket's path says why.
 */
const NO_DAEMON = 'unix:///nonexistent/no-docker-in-this-tier--name-the-test-file-x.docker.test.ts.sock'

export default defineConfig({
  test: {
    globalSetup: ['./test/global-setup.ts'],
    // Most tests wait on children (the CLI, Python, the daemon): at least two at once even on a 2-core machine.
    maxWorkers: Math.max(2, availableParallelism() - 1),
    sequence: {sequencer: TierSequencer},
    // Only e2e-docker runs in threads: this is its width.
    poolOptions: {threads: {maxThreads: DOCKER_SLOTS, minThreads: 1}},
    projects: [
      {
        extends: true,
        test: {
          name: 'unit',
          include: ['src/**/*.test.ts', 'test/unit/**/*.test.ts'],
          exclude: [...configDefaults.exclude, ...ROOT_TESTS],
          testTimeout: 30_000,
          // One worker process runs many unit files (their modules loaded once per worker, not once per file): 212 →
          // 171 CPU-s for the tier on this machine. A unit file restores what it changes in the process (env, umask,
          // exitCode, listeners), and one that mocks a module calls vi.resetModules() before importing what uses it.
          isolate: false,
        },
      },
      // Run as root (as .ci/run does), or in CI where not being root must fail; otherwise global-setup says it
      // was not run.
      ...(isRoot || ci
        ? [
            {
              extends: true as const,
              test: {name: 'needs-root', include: ROOT_TESTS, testTimeout: 60_000},
            },
          ]
        : []),
      {
        extends: true,
        test: {
          name: 'e2e-bentoml',
          include: ['test/e2e/**/*.test.ts'],
          exclude: [...configDefaults.exclude, ...DOCKER_TESTS],
          testTimeout: 900_000,
          hookTimeout: 900_000,
          env: {DOCKER_HOST: NO_DAEMON},
        },
      },
      {
        extends: true,
        test: {
          name: 'e2e-docker',
          include: DOCKER_TESTS,
          testTimeout: 900_000,
          hookTimeout: 900_000,
          // DOCKER_SLOTS files at a time (they share the Docker daemon and the registry), in a pool of their own
          // (threads) so that they run while the forks run the other tiers; test/e2e/docker-slots.setup.ts fails a
          // file that starts while every slot is held.
          pool: 'threads',
          env: {BENTO_DOCKER_SLOTS: String(DOCKER_SLOTS)},
          setupFiles: ['./test/e2e/docker-slots.setup.ts'],
        },
      },
    ],
  },
})
