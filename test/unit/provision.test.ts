/**
 * The Quick start provisions only what its command needs (issue 11, scope 10): scripts/demo.sh runs
 * `all.sh demo`, which runs the Docker engine, the base image, the BentoML 1.4.15 venv and the wheelhouse's
 * 1.4.15 set — no TensorFlow venv, no BentoML 1.4.40 or 1.3.22 venv, no registry. all.sh runs here on a copy whose step
 * scripts are stubs that only record that they ran.
 */
import {chmod, copyFile, mkdir, readFile, rm, writeFile} from 'node:fs/promises'
import {join} from 'node:path'

import {afterAll, beforeAll, describe, expect, it} from 'vitest'

import {REPO, run, tempDir} from '../helpers/env.js'

const STEPS = ['docker.sh', 'base-image.sh', 'registry.sh', 'registry-auth.sh', 'podman.sh', 'wheelhouse.sh', 'bentoml-venv.sh', 'bentoml-1.4.40-venv.sh', 'bentoml-1.3.22-venv.sh', 'bentoml-keras-venv.sh', 'corpus-lock-wheelhouse.sh', 'platform-arm64.sh']

let root: string
beforeAll(async () => {
  root = await tempDir('bento-provision-')
  await mkdir(join(root, 'scripts/provision'), {recursive: true})
  await mkdir(join(root, 'scripts/lib'), {recursive: true})
  await mkdir(join(root, 'node_modules')) // npm ci is skipped when node_modules is there
  await copyFile(join(REPO, 'scripts/provision/all.sh'), join(root, 'scripts/provision/all.sh'))
  await copyFile(join(REPO, 'scripts/lib/common.sh'), join(root, 'scripts/lib/common.sh'))
  for (const step of STEPS) {
    const file = join(root, 'scripts/provision', step)
    await writeFile(file, `#!/bin/bash\necho "${step} sets=\${BENTO_WHEELHOUSE_SETS:-all}" >> "$STEP_LOG"\n`)
    await chmod(file, 0o755)
  }
})
afterAll(async () => {
  await rm(root, {recursive: true, force: true})
})

async function provision(profile: string): Promise<string[]> {
  const log = join(root, `${profile}.log`)
  await writeFile(log, '')
  const r = await run('bash', [join(root, 'scripts/provision/all.sh'), profile], {
    env: {STEP_LOG: log, BENTO_TOOLS: join(root, `.tools-${profile}`), BENTO_SKIP_KERAS: ''},
  })
  expect(r.code, r.stderr).toBe(0)
  return (await readFile(log, 'utf8')).trim().split('\n').sort()
}

describe('provisioning profiles', () => {
  it('scripts/demo.sh (the Quick start) provisions with the demo profile', async () => {
    expect(await readFile(join(REPO, 'scripts/demo.sh'), 'utf8')).toMatch(/^bash scripts\/provision\/all\.sh demo$/m)
  })

  it('demo: the engine, the base image, the 1.4.15 venv and the 1.4.15 wheels only (no TensorFlow, no 1.4.40 or 1.3.22, no registry, no Podman)', async () => {
    expect(await provision('demo')).toEqual(['base-image.sh sets=all', 'bentoml-venv.sh sets=all', 'docker.sh sets=all', 'wheelhouse.sh sets=1.4.15'])
  })

  it('all: everything the tests and benchmarks need', async () => {
    expect(await provision('all')).toEqual(
      ['base-image.sh', 'bentoml-1.3.22-venv.sh', 'bentoml-1.4.40-venv.sh', 'bentoml-keras-venv.sh', 'bentoml-venv.sh', 'corpus-lock-wheelhouse.sh', 'docker.sh', 'platform-arm64.sh', 'podman.sh', 'registry-auth.sh', 'registry.sh', 'wheelhouse.sh'].map((s) => `${s} sets=all`),
    )
  })
})
