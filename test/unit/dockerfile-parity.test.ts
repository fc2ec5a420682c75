/**
 * The Dockerfile `bento build` stores in a Bento (`env/docker/Dockerfile`) and the one `bento containerize` builds
 * from that Bento come from the same inputs: bento.yaml, the Bento's files and its README.md. For every kind of
 * Bento the build makes, the stored Dockerfile equals the one rendered from the stored Bento byte for byte, once
 * the options containerize sets on purpose (the daemon's builder, --wheelhouse, --compilers, models copied from
 * their own images) are given the values the stored one assumes (BuildKit, none, none, `COPY ./models`).
 * No Docker: only the pure part of containerize (storedDockerfileInputs + dockerfileContext + renderDockerfile).
 */
import {existsSync, readdirSync, readFileSync} from 'node:fs'
import {cp, readFile, writeFile} from 'node:fs/promises'
import {join} from 'node:path'

import {afterAll, beforeAll, describe, expect, it} from 'vitest'

import {argSourceOrder} from '../../src/bentoml/args.js'
import {dockerfileContext} from '../../src/bento/templates.js'
import {renderDockerfile} from '../../src/docker/dockerfile.js'
import {silentReporter} from '../../src/reporter.js'
import {build} from '../../src/services/build.js'
import {storedDockerfileInputs} from '../../src/services/containerize.js'
import {readBentoInfo} from '../../src/store/info.js'
import {makeProject, writeModel} from '../helpers/build-inputs.js'
import {REPO, removeDir, tempDir} from '../helpers/env.js'
import {echoProject, legacyEchoProject} from '../helpers/projects.js'

const FIXTURES = join(REPO, 'test/fixtures')

async function copyFixture(rel: string): Promise<string> {
  const dir = await tempDir('bento-parity-proj-')
  await cp(join(FIXTURES, rel), dir, {recursive: true})
  return dir
}

/** fixture.json of a project fixture (test/e2e/sdk-config-interop.test.ts): the ones bento refuses are no Bento. */
interface FixtureMeta {
  args?: string[]
  refuse?: unknown[]
  mergeError?: unknown
  env?: Record<string, string>
}

/** Every project fixture that `bento build` builds: the SDK configuration ones and the interop matrix's. */
function projectFixtures(): Array<{name: string; rel: string; meta: FixtureMeta}> {
  const out: Array<{name: string; rel: string; meta: FixtureMeta}> = []
  for (const group of ['sdk-projects', 'interop']) {
    for (const d of readdirSync(join(FIXTURES, group), {withFileTypes: true})) {
      if (!d.isDirectory()) continue
      const metaFile = join(FIXTURES, group, d.name, 'fixture.json')
      const meta = (existsSync(metaFile) ? JSON.parse(readFileSync(metaFile, 'utf8')) : {}) as FixtureMeta
      if (meta.refuse !== undefined || meta.mergeError !== undefined) continue
      out.push({name: `fixture ${group}/${d.name}`, rel: `${group}/${d.name}`, meta})
    }
  }
  return out
}

/** `--arg` / `--arg-file` of a fixture as the build command passes them (the file relative to the project). */
function buildArgs(dir: string, argv: string[] | undefined): {args?: {order: Array<'arg' | 'file'>; values: string[]; file?: string}} {
  if (argv === undefined || argv.length === 0) return {}
  const values: string[] = []
  let file: string | undefined
  for (let i = 0; i < argv.length; i += 2) {
    if (argv[i] === '--arg') values.push(argv[i + 1]!)
    else if (argv[i] === '--arg-file') file = join(dir, argv[i + 1]!)
  }
  return {args: {order: argSourceOrder(argv), values, ...(file === undefined ? {} : {file})}}
}

/** Each case makes a project (in a fresh dir) for a Bento kind; `home` already holds the iris_clf model. */
const CASES: Array<{name: string; project: () => Promise<string>; version?: string; meta?: FixtureMeta; /** The stored Dockerfile has this (the case is what it says). */ has?: string}> = [
  {name: 'spec 1 runner-style iris (a model, no README)', project: () => makeProject()},
  {name: 'spec 1 runner-style iris with a README', project: () => makeProject({'README.md': '# Iris\n\nClassifies "flowers" \\ $HOME\n'})},
  {
    name: 'spec 1 with envs, docker.env, labels and a description',
    project: () =>
      makeProject({
        'bentofile.yaml':
          'service: "service:svc"\ninclude:\n  - "*.py"\ndescription: "An iris classifier: it\'s \\"ok\\""\nlabels:\n  team: ml\n  "org.example/x": "a b"\n' +
          'envs:\n  - name: A\n    value: "1"\n  - name: SECRET\n    stage: build\n  - name: LATER\n    stage: runtime\n    value: r\n' +
          'docker:\n  env:\n    B: "two words"\n  system_packages:\n    - curl\npython:\n  packages:\n    - scikit-learn\n',
      }),
  },
  {name: 'spec 1 legacy service without models', project: async () => legacyEchoProject(await tempDir('bento-parity-proj-'), 'legacy-echo')},
  {name: 'SDK service without a README', project: async () => echoProject(await tempDir('bento-parity-proj-'), 'echo')},
  {name: 'SDK service without a README, --version given', project: async () => echoProject(await tempDir('bento-parity-proj-'), 'echo-v'), version: '1.0.0'},
  {
    name: 'spec 1 with description: "file: ..." and a docker.dockerfile_template',
    project: async () => {
      const dir = await makeProject({
        'DESC.md': 'Described by a file.\n',
        'bentofile.yaml': 'service: "service:svc"\ninclude:\n  - "*.py"\ndescription: "file: ./DESC.md"\ndocker:\n  dockerfile_template: components.j2\npython:\n  packages:\n    - scikit-learn\n',
      })
      await cp(join(FIXTURES, 'user-templates/components.j2'), join(dir, 'components.j2'))
      return dir
    },
  },
  {
    name: 'SDK service with a README',
    project: async () => {
      const dir = await echoProject(await tempDir('bento-parity-proj-'), 'echo-readme')
      await writeFile(join(dir, 'README.md'), '# Echo\n\nSays back what it gets.\n')
      return dir
    },
  },
  {name: 'SDK iris (a model)', project: () => copyFixture('sdk-iris')},
  {name: 'SDK with an image (run_script, python_packages)', project: () => copyFixture('sdk-projects/run-script')},
  {name: 'SDK decorator: description, envs (stage build), labels', project: () => copyFixture('sdk-projects/decorator-config')},
  {name: 'two services (bentoml.depends)', project: () => copyFixture('interop/two-services')},
  ...projectFixtures().map(({name, rel, meta}) => ({name, project: () => copyFixture(rel), meta})),
]

describe('the stored Dockerfile is the one containerize builds from the stored Bento', () => {
  let home: string
  const dirs: string[] = []

  beforeAll(async () => {
    home = await tempDir('bento-parity-home-')
    await writeModel(home)
  })
  afterAll(async () => {
    for (const d of [home, ...dirs]) await removeDir(d)
  })

  it.each(CASES)('$name', async ({project, version, has, meta}) => {
    const dir = await project()
    dirs.push(dir)
    const r = await build({projectDir: dir, home, reporter: silentReporter, env: meta?.env ?? {}, ...(version ? {version} : {}), ...buildArgs(dir, meta?.args)})
    const stored = await readFile(join(r.path, 'env/docker/Dockerfile'), 'utf8')
    if (has !== undefined) expect(stored).toContain(has)

    const info = await readBentoInfo(r.path)
    const inputs = await storedDockerfileInputs(r.path, info)
    const templateFile = join(r.path, 'env/docker/Dockerfile.template')
    const userTemplate = existsSync(templateFile) ? {content: await readFile(templateFile, 'utf8'), file: templateFile} : undefined
    // What containerize sets from the daemon and its flags, at the values the stored Dockerfile assumes.
    const ctx = dockerfileContext(inputs, {buildkit: true, wheelhouse: false, needsCompilers: false, models: {kind: 'context', present: inputs.hasModels}})
    const rendered = renderDockerfile(ctx, userTemplate)

    expect(rendered).toBe(stored)
  })
})
