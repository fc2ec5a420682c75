/**
 * An image-SDK service (`bentoml.images.Image(...)` in service.py, envs of every stage) containerized by
 * `bento containerize` on the real Docker engine, answering requests — and its build-time secret
 * (`envs[].stage: build`) checked to reach the build step while appearing nowhere: not in any layer of the image,
 * not in its config or history, not in the Bento. The value is given only in the environment of
 * `bento containerize`; the build step proves it saw it by comparing its hash.
 */
import {createHash, randomBytes} from 'node:crypto'
import {existsSync, readdirSync, readFileSync, statSync} from 'node:fs'
import {mkdir, writeFile} from 'node:fs/promises'
import {join} from 'node:path'

import {afterAll, beforeAll, describe, expect, it} from 'vitest'

import {DOCKER_CLI as DOCKER, imagesMadeBy, removeDir, removeHomeImages, REPO, requireDocker, run, runBento, serveImage, tempDir} from '../helpers/env.js'
import {scanSavedImage} from '../helpers/image-scan.js'

const TOOLS = process.env.BENTO_TOOLS ?? join(REPO, '.tools')
const WHEELHOUSE = process.env.BENTO_WHEELHOUSE ?? join(TOOLS, 'wheelhouse')
const VENV = process.env.BENTOML_1440_VENV ?? join(TOOLS, 'bentoml-1.4.40-venv')
const RUN_ID = randomBytes(4).toString('hex')
const SECRET = `bento-secret-${randomBytes(12).toString('hex')}`
const SECRET_SHA = createHash('sha256').update(SECRET).digest('hex')

const SERVICE = `import bentoml

PY = "3.11"
image = (
    bentoml.images.Image(python_version=PY, lock_python_packages=False)
    .run("echo pre-install step")
    .python_packages("pyyaml")
)
# The build step sees the secret (and proves it by its hash) but must not keep it anywhere.
image.run('test "$(printf %s "$BUILD_TOKEN" | sha256sum | cut -c1-64)" = "${SECRET_SHA}" && echo build token ok')


@bentoml.service(
    image=image,
    envs=[
        {"name": "BUILD_TOKEN", "stage": "build"},
        {"name": "GREETING", "value": "hello", "stage": "all"},
        {"name": "ONLY_AT_RUNTIME", "value": "late", "stage": "runtime"},
    ],
    labels={"suite": "image-sdk"},
)
class Greeter:
    @bentoml.api
    def greet(self, name: str) -> str:
        import os

        return f"{os.environ.get('GREETING', '?')} {name}"
`

async function docker(...args: string[]): Promise<{code: number; stdout: string; stderr: string}> {
  return run(DOCKER, args, {timeoutMs: 900_000})
}

/** Every file under `dir` whose bytes contain `needle`. */
function filesContaining(dir: string, needle: Buffer): string[] {
  const hits: string[] = []
  const walk = (d: string): void => {
    for (const e of readdirSync(d, {withFileTypes: true})) {
      const p = join(d, e.name)
      if (e.isDirectory()) walk(p)
      else if (e.isFile() && statSync(p).size < 512 * 1024 * 1024 && readFileSync(p).includes(needle)) hits.push(p)
    }
  }
  walk(dir)
  return hits
}

describe('bento containerize: an image-SDK service with a build-time secret (real Docker)', () => {
  let home: string
  let project: string
  let work: string
  let bentoTag: string
  let bentoPath: string
  const image = `image-sdk-e2e:${RUN_ID}`
  const containers: string[] = []
  const images: string[] = [image]

  beforeAll(async () => {
    if (!existsSync(join(VENV, 'bin/bentoml'))) throw new Error(`BentoML 1.4.40 venv missing at ${VENV}: run scripts/provision/bentoml-1.4.40-venv.sh`)
    if (!existsSync(join(WHEELHOUSE, 'bentoml-1.4.40-py3-none-any.whl'))) throw new Error(`no bentoml 1.4.40 wheel in ${WHEELHOUSE}: run scripts/provision/wheelhouse.sh`)
    await requireDocker()
    home = await tempDir('bento-home-imgsdk-')
    project = await tempDir('bento-imgsdk-')
    work = await tempDir('bento-imgsdk-work-')
    await writeFile(join(project, 'service.py'), SERVICE)
    await writeFile(join(project, 'bentofile.yaml'), 'service: "service:Greeter"\ninclude:\n  - "*.py"\n')
    // The Bento: the real bentoml build 1.4.40 (spec 2 with envs[].stage).
    const built = await run(join(VENV, 'bin/bentoml'), ['build', '--output', 'tag'], {
      cwd: project,
      env: {BENTOML_HOME: home, BENTOML_DO_NOT_TRACK: 'true', PATH: `${join(VENV, 'bin')}:${process.env.PATH ?? ''}`},
    })
    expect(built.code, built.stderr + built.stdout).toBe(0)
    bentoTag = /__tag__:(\S+)/.exec(built.stdout)![1]!
    const [name, version] = bentoTag.split(':') as [string, string]
    bentoPath = join(home, 'bentos', name, version)
  })

  afterAll(async () => {
    for (const c of containers) await docker('rm', '-f', c)
    for (const i of images) await docker('rmi', '-f', i)
    await removeHomeImages(home)
    await removeDir(home)
    await removeDir(project)
    await removeDir(work)
  })

  it('builds with the secret from the environment, and the service answers', async () => {
    const r = await runBento(['containerize', bentoTag, '-t', image, '--wheelhouse', WHEELHOUSE, '--json'], {
      env: {BENTOML_HOME: home, BUILD_TOKEN: SECRET, BENTO_DOCKER_CLI: DOCKER},
    })
    expect(r.code, r.stderr).toBe(0)
    const json = JSON.parse(r.stdout) as {modelImages?: Array<{image: string}>; steps: Array<{step: string}>}
    images.push(...imagesMadeBy(json))
    expect(json.steps.map((s) => s.step).join('\n')).toContain('--mount=type=secret,id=BUILD_TOKEN')

    const {url} = await serveImage(image, containers)
    const answer = await fetch(`${url}/greet`, {method: 'POST', headers: {'content-type': 'application/json'}, body: JSON.stringify({name: 'bento'})})
    expect({status: answer.status, text: await answer.text()}).toEqual({status: 200, text: 'hello bento'})
    // stage all is in the image's environment; runtime and build stages are not.
    const env = await docker('inspect', '--format', '{{json .Config.Env}}', image)
    const vars = JSON.parse(env.stdout) as string[]
    expect(vars).toContain('GREETING=hello')
    expect(vars.some((v) => v.startsWith('ONLY_AT_RUNTIME='))).toBe(false)
    expect(vars.some((v) => v.startsWith('BUILD_TOKEN='))).toBe(false)
  })

  it('the secret is in no layer, no image metadata and no file of the Bento', async () => {
    const needle = Buffer.from(SECRET)
    // Streamed from `docker save`, never written out.
    const scan = await scanSavedImage(image, [needle])
    expect(scan.entries.length).toBeGreaterThan(5)
    expect(scan.hits).toEqual([])
    const history = await docker('history', '--no-trunc', image)
    const inspect = await docker('inspect', image)
    expect(history.stdout + inspect.stdout).not.toContain(SECRET)
    expect(filesContaining(bentoPath, needle)).toEqual([])
    // …while the hash the build step compared against is there (the step did run with the secret).
    expect(history.stdout).toContain(SECRET_SHA)
    await mkdir(join(work, 'done'), {recursive: true})
  })
})
