/**
 * scripts/test-all.sh (what .ci/run runs) on a copy whose steps are stubs (the disk guard, provisioning, the registry's
 * garbage collection; `npm` and `npx` on PATH): the order of its steps, the free disk it logs around each, and the
 * summary's lowest point. No Docker daemon (DOCKER_HOST points nowhere).
 */
import {chmod, copyFile, mkdir, readFile, writeFile} from 'node:fs/promises'
import {join} from 'node:path'

import {afterAll, beforeAll, describe, expect, it} from 'vitest'

import {REPO, removeDir, run, tempDir} from '../helpers/env.js'

let root: string
let steps: string

async function stub(file: string, body: string): Promise<void> {
  await writeFile(file, `#!/bin/bash\n${body}\n`)
  await chmod(file, 0o755)
}

beforeAll(async () => {
  root = await tempDir('bento-test-all-')
  steps = join(root, 'steps.log')
  await mkdir(join(root, 'scripts/lib'), {recursive: true})
  await mkdir(join(root, 'scripts/provision'), {recursive: true})
  await mkdir(join(root, 'bin'))
  for (const f of ['scripts/test-all.sh', 'scripts/lib/common.sh', 'scripts/lib/disk.sh']) await copyFile(join(REPO, f), join(root, f))
  await stub(join(root, 'scripts/disk-guard.sh'), `echo "disk-guard" >> "${steps}"`)
  await stub(join(root, 'scripts/provision/all.sh'), `echo "provision" >> "${steps}"`)
  await stub(join(root, 'scripts/provision/registry.sh'), `echo "registry $*" >> "${steps}"`)
  await stub(join(root, 'bin/npm'), `echo "npm $*" >> "${steps}"`)
  await stub(join(root, 'bin/npx'), `echo "npx $1 $2" >> "${steps}"`)
})
afterAll(async () => {
  await removeDir(root)
})

const testAll = (env: Record<string, string> = {}): ReturnType<typeof run> =>
  run('bash', [join(root, 'scripts/test-all.sh')], {
    env: {PATH: `${join(root, 'bin')}:${process.env.PATH ?? ''}`, DOCKER_HOST: 'unix:///nonexistent/test-all.sock', BENTO_TOOLS: join(root, '.tools'), ...env},
    timeoutMs: 60_000,
  })

describe('scripts/test-all.sh', () => {
  it('guards the disk first, logs the free disk around every step, ends with the registry GC, prints the low point', async () => {
    await writeFile(steps, '')
    const r = await testAll()
    expect(r.code, r.stderr).toBe(0)
    const order = (await readFile(steps, 'utf8')).trim().split('\n')
    // build, lint and typecheck run side by side: in any order, between provisioning and the tests.
    // build, lint and typecheck side by side, then the tests and the bench's smoke side by side.
    expect([...order.slice(0, 2), ...order.slice(2, 5).sort(), ...order.slice(5, 7).sort(), ...order.slice(7)]).toEqual(['disk-guard', 'provision', 'npm run build', 'npm run lint', 'npm run typecheck', 'npx tsx bench/run.ts', 'npx vitest run', 'registry gc'])
    for (const step of ['disk-guard', 'provision', 'build+lint+typecheck', 'vitest+bench-quick', 'registry-gc']) {
      expect(r.stderr).toMatch(new RegExp(`disk before ${step.replaceAll('+', '\\+')}: free [\\d.]+ GB on /var/lib/docker, [\\d.]+ GB on the repository; docker: not answering`))
      expect(r.stderr).toMatch(new RegExp(`disk after ${step.replaceAll('+', '\\+')}: free [\\d.]+ GB`))
    }
    for (const step of ['disk-guard', 'provision', 'registry-gc']) expect(r.stderr).toMatch(new RegExp(`ok {4}${step} \\(\\d+s\\)`))
    for (const step of ['build', 'lint', 'typecheck', 'vitest', 'bench-quick']) expect(r.stderr).toMatch(new RegExp(`ok {4}${step} \\(\\d+s, side by side\\)`))
    expect(r.stderr).toMatch(/lowest free space: [\d.]+ GB on the docker data root \(during [a-z-]+, at \+\d+s: [\d.]+ GB below the start\), [\d.]+ GB on the repository \(\d+ samples\)/)
    expect(await readFile(join(root, '.tools/logs/disk-samples.txt'), 'utf8')).toMatch(/^\d+ \d+ \d+ \S+$/m)
  })

  it('a failing side-by-side step fails the run; the others and the later steps still run, each output printed whole', async () => {
    await writeFile(steps, '')
    await stub(join(root, 'bin/npm'), `echo "npm $*" >> "${steps}"; if [ "$2" = lint ]; then echo "lint says no"; exit 3; fi`)
    try {
      const r = await testAll()
      expect(r.code).toBe(1)
      expect((await readFile(steps, 'utf8')).trim().split('\n').sort()).toEqual(['disk-guard', 'npm run build', 'npm run lint', 'npm run typecheck', 'npx tsx bench/run.ts', 'npx vitest run', 'provision', 'registry gc'])
      expect(r.stderr).toMatch(/FAIL {2}lint \(exit 3, \d+s, side by side\)/)
      expect(r.stderr).toMatch(/ok {4}build \(\d+s, side by side\)/)
      expect(r.stderr).toMatch(/--- lint output\n(?:.*\n)*?lint says no/)
    } finally {
      await stub(join(root, 'bin/npm'), `echo "npm $*" >> "${steps}"`)
    }
  })

  it('a failing disk guard stops the run before provisioning, and the run fails', async () => {
    await writeFile(steps, '')
    await stub(join(root, 'scripts/disk-guard.sh'), `echo "disk-guard" >> "${steps}"; exit 1`)
    try {
      const r = await testAll()
      expect(r.code).toBe(1)
      expect((await readFile(steps, 'utf8')).trim()).toBe('disk-guard')
      expect(r.stderr).toMatch(/FAIL {2}disk-guard \(exit 1, \d+s\)/)
      expect(r.stderr).toContain('the disk guard or provisioning failed; not running the checks')
    } finally {
      await stub(join(root, 'scripts/disk-guard.sh'), `echo "disk-guard" >> "${steps}"`)
    }
  })
})
