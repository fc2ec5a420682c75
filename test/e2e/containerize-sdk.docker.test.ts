/**
 * `bento containerize` of Bentos that the REAL `bentoml build` 1.4.40 writes for an `@bentoml.service` project:
 * spec 2 (`image:` in bento.yaml, the model only in `services[].models` and only in the model store, no
 * install.sh), unlocked and locked. Real Docker engine, Python packages from the offline wheelhouse (which holds
 * bentoml 1.4.40's wheels, scripts/provision/wheelhouse.sh); `image.commands` (BentoML's default apt line) runs
 * against the Debian mirror as it does for BentoML. The container answers POST /classify.
 */
import {randomBytes} from 'node:crypto'
import {existsSync} from 'node:fs'
import {cp, writeFile} from 'node:fs/promises'
import {join} from 'node:path'

import {afterAll, beforeAll, describe, expect, it} from 'vitest'

import {DOCKER_CLI as DOCKER, imagesMadeBy, postJson, removeContainersAndImages, removeDir, removeHomeImages, REPO, requireDocker, run, runBento, serveImage, tempDir} from '../helpers/env.js'

const TOOLS = process.env.BENTO_TOOLS ?? join(REPO, '.tools')
const WHEELHOUSE = process.env.BENTO_WHEELHOUSE ?? join(TOOLS, 'wheelhouse')
const VENV = process.env.BENTOML_1440_VENV ?? join(TOOLS, 'bentoml-1.4.40-venv')
const RUN_ID = randomBytes(4).toString('hex')

async function docker(...args: string[]): Promise<{code: number; stdout: string; stderr: string}> {
  return run(DOCKER, args, {timeoutMs: 900_000})
}

describe('bento containerize of Bentos written by the real bentoml build 1.4.40 (SDK service, spec 2)', () => {
  let home: string
  let project: string
  const containers: string[] = []
  const images: string[] = []

  const bentoml = (args: string[]): Promise<{code: number; stdout: string; stderr: string}> =>
    run(join(VENV, 'bin/bentoml'), args, {
      cwd: project,
      env: {BENTOML_HOME: home, BENTOML_DO_NOT_TRACK: 'true', PATH: `${join(VENV, 'bin')}:${process.env.PATH ?? ''}`},
    })

  async function buildWithBentoml(bentofile: string): Promise<string> {
    await writeFile(join(project, 'bentofile.yaml'), bentofile)
    const r = await bentoml(['build', '--output', 'tag'])
    expect(r.code, r.stderr + r.stdout).toBe(0)
    const m = /__tag__:(\S+)/.exec(r.stdout)
    expect(m, r.stdout).not.toBeNull()
    return m![1]!
  }

  async function containerizeAndAsk(bentoTag: string, image: string): Promise<void> {
    images.push(image)
    const r = await runBento(['containerize', bentoTag, '-t', image, '--wheelhouse', WHEELHOUSE, '--json'], {env: {BENTOML_HOME: home}})
    expect(r.code, r.stderr).toBe(0)
    const json = JSON.parse(r.stdout) as {modelImages: Array<{image: string}>; steps: Array<{step: string}>}
    images.push(...imagesMadeBy(json))
    expect(json.modelImages.map((m) => m.image)).toEqual([expect.stringMatching(/^bento-model\.invalid\/h[0-9a-f]{16}\/iris_clf:/)])
    // No install.sh in a spec-2 Bento: its locked requirements.txt is installed directly.
    expect(json.steps.some((s) => /install\.sh/.test(s.step))).toBe(false)

    const {id, url} = await serveImage(image, containers)
    expect(await postJson(`${url}/classify`, {input: [[5.1, 3.5, 1.4, 0.2]]})).toEqual({status: 200, json: [0]})
    // The model sits where BentoML looks for it, owned by bentoml.
    const owner = await docker('exec', id, 'sh', '-c', 'stat -c %U /home/bentoml/bento/models/iris_clf/*/model.yaml')
    expect(owner.stdout.trim()).toBe('bentoml')
    const version = await docker('exec', id, '/app/.venv/bin/python', '-c', 'import bentoml; print(bentoml.__version__)')
    expect(version.stdout.trim()).toBe('1.4.40')
  }

  beforeAll(async () => {
    if (!existsSync(join(VENV, 'bin/bentoml'))) throw new Error(`BentoML 1.4.40 venv missing at ${VENV}: run scripts/provision/bentoml-1.4.40-venv.sh`)
    if (!existsSync(join(WHEELHOUSE, 'bentoml-1.4.40-py3-none-any.whl'))) throw new Error(`no bentoml 1.4.40 wheel in ${WHEELHOUSE}: run scripts/provision/wheelhouse.sh`)
    await requireDocker()
    home = await tempDir('bento-home-sdk-')
    project = await tempDir('bento-sdk-iris-')
    await cp(join(REPO, 'test/fixtures/sdk-iris'), project, {recursive: true})
    const trained = await run(join(VENV, 'bin/python'), ['train.py'], {cwd: project, env: {BENTOML_HOME: home, BENTOML_DO_NOT_TRACK: 'true'}})
    expect(trained.code, trained.stderr).toBe(0)
  })

  afterAll(async () => {
    await removeContainersAndImages(containers, images)
    await removeHomeImages(home)
    await removeDir(home)
    await removeDir(project)
  })

  it('unlocked (lock_packages: false): the image installs requirements.txt and answers [0]', async () => {
    const tag = await buildWithBentoml('service: "service:Iris"\ninclude:\n  - "*.py"\npython:\n  packages:\n    - scikit-learn\n    - numpy\n  lock_packages: false\n')
    await containerizeAndAsk(tag, `sdk-iris-e2e:${RUN_ID}-unlocked`)
  })

  it('locked by bentoml build (uv pip compile against the wheelhouse): the image installs the lock and answers [0]', async () => {
    const tag = await buildWithBentoml(
      `service: "service:Iris"\ninclude:\n  - "*.py"\npython:\n  packages:\n    - scikit-learn\n    - numpy\n  no_index: true\n  find_links:\n    - "${WHEELHOUSE}"\n`,
    )
    await containerizeAndAsk(tag, `sdk-iris-e2e:${RUN_ID}-locked`)
  })
})
