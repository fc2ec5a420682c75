import {configDefaults, defineConfig} from 'vitest/config'

/** Tests that mount file systems (tmpfs, read-only remounts): `*.root.test.ts`, in their own project. */
const ROOT_TESTS = ['src/**/*.root.test.ts', 'test/unit/**/*.root.test.ts']
const isRoot = process.getuid?.() === 0
const ci = process.env.CI === 'true' || process.env.CI === '1'

export default defineConfig({
  test: {
    globalSetup: ['./test/global-setup.ts'],
    projects: [
      {
        extends: true,
        test: {
          name: 'unit',
          include: ['src/**/*.test.ts', 'test/unit/**/*.test.ts'],
          exclude: [...configDefaults.exclude, ...ROOT_TESTS],
          testTimeout: 30_000,
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
          name: 'e2e',
          include: ['test/e2e/**/*.test.ts'],
          testTimeout: 900_000,
          hookTimeout: 900_000,
          // One file after the other (they share the Docker daemon, the registry and the BentoML venv);
          // test/e2e/serial.setup.ts fails a file that starts while another one runs.
          poolOptions: {forks: {singleFork: true}},
          setupFiles: ['./test/e2e/serial.setup.ts'],
        },
      },
    ],
  },
})
