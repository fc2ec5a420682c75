/**
 * `bento build` with bad input, through the compiled CLI (bin/run.js). Every case checks the contract of the
 * README: a clear message on stderr without a stack trace, the documented exit code, with `--json` exactly one
 * `{"error": {...}}` object on stdout, and the store unchanged (no new Bento, no leftover build directory).
 */
import {execFile, execFileSync, spawn} from 'node:child_process'
import {existsSync} from 'node:fs'
import {chmod, mkdir, readdir, readFile, readlink, rm, truncate, writeFile} from 'node:fs/promises'
import {join} from 'node:path'

import {afterAll, beforeAll, describe, expect, it} from 'vitest'

import {
  BENTOFILE,
  build,
  buildInChild,
  expectError as expectContract,
  makeProject,
  MODEL_VERSION,
  modelYaml,
  Scratch,
  snapshot,
  writeModel,
} from '../helpers/build-inputs.js'
import {BIN, binForNobody, REPO, type RunResult, runBento} from '../helpers/env.js'

/** Every (error code, exit code) pair the tests below observed; the last test checks them against the README. */
const observed = new Map<string, number>()
const scratchDirs = new Scratch()

afterAll(async () => {
  await scratchDirs.cleanup()
})

const scratch = (prefix: string): Promise<string> => scratchDirs.dir(prefix)
const expectError = (r: RunResult, code: string, exitCode: number, message?: RegExp): ReturnType<typeof expectContract> =>
  expectContract(r, code, exitCode, message, observed)

describe('bento build: bad build config', () => {
  let home: string
  let before: {bentos: string[]; tmp: string[]}

  beforeAll(async () => {
    home = await scratch('bento-bad-home-')
    await writeModel(home)
    // One good build first, so "unchanged" means more than "still empty".
    const project = await makeProject({}, join(await scratch('bento-bad-'), 'good'))
    const ok = await build(project, home)
    expect(ok.code, ok.stderr).toBe(0)
    before = await snapshot(home)
    expect(before.bentos.length).toBeGreaterThan(3)
  })

  async function failing(files: Record<string, string>, code: string, exitCode: number, message?: RegExp, args: string[] = []) {
    const project = await makeProject(files, join(await scratch('bento-bad-'), 'p'))
    const r = await build(project, home, args)
    const error = expectError(r, code, exitCode, message)
    expect(await snapshot(home)).toEqual(before)
    return {error, r, project}
  }

  it('no bentofile and no service.py: E_CONFIG, exit 3, says what to create (BentoML builds service.py by default)', async () => {
    const project = await makeProject({}, join(await scratch('bento-bad-'), 'p'))
    await rm(join(project, 'bentofile.yaml'))
    await rm(join(project, 'service.py'))
    const error = expectError(await build(project, home), 'E_CONFIG', 3, /service module file "service\.py" not found/)
    expect(error.hint ?? JSON.stringify(error)).toMatch(/service\.py|bentofile/)
    expect(await snapshot(home)).toEqual(before)
  })

  it('-f naming a file that does not exist: E_CONFIG, exit 3', async () => {
    await failing({}, 'E_CONFIG', 3, /nope\.yaml/, ['-f', 'nope.yaml'])
  })

  it('a build context that does not exist: E_BUILD_CONTEXT, exit 4', async () => {
    const missing = join(await scratch('bento-bad-'), 'missing')
    const r = await runBento(['build', missing, '--json'], {env: {BENTOML_HOME: home}})
    expectError(r, 'E_BUILD_CONTEXT', 4, /missing/)
    expect(await snapshot(home)).toEqual(before)
  })

  it('empty bentofile: E_CONFIG, exit 3', async () => {
    await failing({'bentofile.yaml': ''}, 'E_CONFIG', 3, /empty/)
  })

  it('YAML syntax error: E_CONFIG with file:line:col', async () => {
    const {error} = await failing({'bentofile.yaml': 'service: "service:svc"\ninclude: [\n  - "*.py"\n'}, 'E_CONFIG', 3)
    expect(error.message).toMatch(/bentofile\.yaml:\d+:\d+ YAML syntax error/)
  })

  it('wrong types: every problem at once, each with its line and key', async () => {
    const {error} = await failing(
      {'bentofile.yaml': 'service: "service:svc"\ninclude: "*.py"\nlabels: [1, 2]\npython:\n  packages: 3\n'},
      'E_CONFIG',
      3,
    )
    expect(error.message).toMatch(/bentofile\.yaml:2:\d+ include: expected a list/)
    expect(error.message).toMatch(/bentofile\.yaml:3:\d+ labels: expected a mapping/)
    expect(error.message).toMatch(/bentofile\.yaml:5:\d+ python\.packages: /)
    expect((error.diagnostics as unknown[]).length).toBe(3)
  })

  it('unknown keys: E_CONFIG with "did you mean"', async () => {
    const {error} = await failing({'bentofile.yaml': 'service: "service:svc"\nincldue: ["*.py"]\n'}, 'E_CONFIG', 3, /unknown top-level key 'incldue'/)
    expect(error.message).toMatch(/did you mean 'include'\?/)
  })

  it('a service whose module file does not exist: E_CONFIG naming the file expected', async () => {
    await failing({'bentofile.yaml': 'service: "serving:svc"\n'}, 'E_CONFIG', 3, /serving\.py/)
  })

  it('a service attribute the module does not define: E_CONFIG', async () => {
    await failing({'bentofile.yaml': 'service: "service:nope"\n'}, 'E_CONFIG', 3, /attribute "nope" not found/)
  })

  it('include patterns that match nothing: a warning, the build succeeds', async () => {
    const project = await makeProject({'bentofile.yaml': 'service: "service:svc"\ninclude: ["*.py", "data/*.csv"]\n'})
    scratchDirs.add(() => rm(project, {recursive: true, force: true}))
    const r = await build(project, home)
    expect(r.code, r.stderr).toBe(0)
    expect(r.stderr).toMatch(/warning: bentofile\.yaml:2:\d+ include\[1\]: pattern "data\/\*\.csv" matches no file/)
    const out = JSON.parse(r.stdout) as {warnings: string[]; created: boolean}
    expect(out.warnings.some((w) => w.includes('data/*.csv'))).toBe(true)
    before = await snapshot(home) // this one did add a Bento
  })

  it('`../` includes: E_CONFIG, paths outside the build context', async () => {
    await failing({'bentofile.yaml': 'service: "service:svc"\ninclude: ["*.py", "../secrets/*"]\n'}, 'E_CONFIG', 3, /outside of the build context/)
  })

  it('an invalid Bento name: E_CONFIG on the name key', async () => {
    const {error} = await failing({'bentofile.yaml': 'service: "service:svc"\nname: "Iris Service!"\n'}, 'E_CONFIG', 3, /not a valid Bento name/)
    expect(error.message).toMatch(/bentofile\.yaml:2:\d+ name:/)
  })

  it('an invalid model tag under models: E_CONFIG', async () => {
    await failing({'bentofile.yaml': 'service: "service:svc"\nmodels: ["iris clf:v1"]\n'}, 'E_CONFIG', 3, /models\[0\]/)
  })

  it('an invalid --version: E_INVALID_TAG, exit 2 (a bad command line)', async () => {
    await failing({}, 'E_INVALID_TAG', 2, /Not\/Valid/, ['--version', 'Not/Valid'])
  })

  it("--version latest ('latest' names the newest version, it cannot be one): E_INVALID_TAG, exit 2 (D11)", async () => {
    await failing({}, 'E_INVALID_TAG', 2, /--version "latest"[\s\S]*reserved/, ['--version', 'latest'])
  })

  it('YAML PyYAML refuses (an alias without anchor, a merge of a scalar, a python tag): E_CONFIG with the line, exit 3 (D2)', async () => {
    await failing({'bentofile.yaml': `${BENTOFILE}labels: *nope\n`}, 'E_CONFIG', 3, /bentofile\.yaml:7:\d+ the alias '\*nope' has no anchor/)
    await failing({'bentofile.yaml': `${BENTOFILE}docker: {<<: 1}\n`}, 'E_CONFIG', 3, /bentofile\.yaml:7:\d+ the merge key '<<'/)
    await failing({'bentofile.yaml': `${BENTOFILE}labels: !!python/object/apply:os.system [true]\n`}, 'E_CONFIG', 3, /bentofile\.yaml:7:\d+ the tag '!!python/)
  })

  it('an invalid --bentoml-version: E_USAGE, exit 2', async () => {
    await failing({}, 'E_USAGE', 2, /--bentoml-version/, ['--bentoml-version', 'latest; rm -rf /'])
  })

  it('a --bentoml-version bento does not know (1.4.15rc1 is not 1.4.15): E_USAGE, exit 2', async () => {
    await failing({}, 'E_USAGE', 2, /--bentoml-version "1\.4\.15rc1": not a BentoML release bento knows/, ['--bentoml-version', '1.4.15rc1'])
  })

  it('a runner-style service asked to target 1.4.16+: E_CONFIG, exit 3, naming the service line and what to do', async () => {
    await failing({}, 'E_CONFIG', 3, /service\.py:15[\s\S]*served only by BentoML up to 1\.4\.15/, ['--bentoml-version', '1.4.16'])
  })

  it('a runner-style service whose requirements pin bentoml 1.4.16+: E_CONFIG, exit 3, at the service line, naming the pin and what to do', async () => {
    await failing(
      {'bentofile.yaml': `${BENTOFILE}    - bentoml==1.4.40\n`},
      'E_CONFIG',
      3,
      /service\.py:15:\d+ service: this runner-style service .* targets 1\.4\.40 \("bentoml==1\.4\.40"\)[\s\S]*hint: write the service as bentoml\.legacy\.Service/,
    )
  })

  it('a bentoml pin under python.packages that bento does not know: E_CONFIG, exit 3, at the line of the entry', async () => {
    await failing({'bentofile.yaml': `${BENTOFILE}    - bentoml==9.9.9\n`}, 'E_CONFIG', 3, /bentofile\.yaml:7:\d+ python\.packages\[1\]: "bentoml==9\.9\.9" pins bentoml 9\.9\.9[\s\S]*hint: pin one of/)
  })

  it('models saved by a BentoML newer than any bento knows: E_CONFIG, exit 3, at the line that names the model, and --bentoml-version fixes it', async () => {
    const newer = modelYaml('newer_clf', MODEL_VERSION, {
      context: {framework_name: 'sklearn', framework_versions: {'scikit-learn': '1.5.2'}, bentoml_version: '1.4.41', python_version: '3.11.7'},
    })
    await writeModel(home, {name: 'newer_clf', yaml: newer})
    const service = 'import bentoml\n\n@bentoml.service\nclass Front:\n    model = bentoml.models.BentoModel("newer_clf:latest")\n'
    const {project} = await failing(
      {'bentofile.yaml': 'service: "service:Front"\n', 'service.py': service},
      'E_CONFIG',
      3,
      /service\.py:5:\d+ model newer_clf:\w+ was saved with BentoML 1\.4\.41, newer than any release bento knows[\s\S]*hint: pass --bentoml-version 1\.4\.40/,
    )
    await failing(
      {'bentofile.yaml': 'service: "service:Front"\nmodels:\n  - newer_clf:latest\n', 'service.py': service.replace('BentoModel("newer_clf:latest")', 'BentoModel("iris_clf:latest")')},
      'E_CONFIG',
      3,
      /bentofile\.yaml:3:\d+ models\[0\]: model newer_clf:\w+ was saved with BentoML 1\.4\.41/,
    )
    const fixed = await build(project, home, ['--bentoml-version', '1.4.40'])
    expect(fixed.code, fixed.stderr).toBe(0)
    expect(fixed.stderr).toMatch(/service\.py:5:\d+ model newer_clf:\w+ was saved with BentoML 1\.4\.41, newer than the target 1\.4\.40/)
    await rm(join(home, 'bentos', 'front'), {recursive: true, force: true})
  })

  it('a bentoml pin bento does not know: E_CONFIG, exit 3, naming the requirements line', async () => {
    await failing(
      {'bentofile.yaml': 'service: "service:svc"\npython:\n  requirements_txt: reqs.txt\n', 'reqs.txt': 'scikit-learn\nbentoml==9.9.9\n'},
      'E_CONFIG',
      3,
      /reqs\.txt:2[\s\S]*pins bentoml 9\.9\.9, a release bento does not know/,
    )
  })

  describe('@bentoml.service projects (issue 10)', () => {
    const SDK_BENTOFILE = 'service: "service:Front"\ninclude:\n  - "*.py"\n'
    const sdk = (body: string): Record<string, string> => ({'bentofile.yaml': SDK_BENTOFILE, 'service.py': `import bentoml\n\n${body}`})

    it('a service class that cannot be found: E_CONFIG, exit 3, at the line of `service`', async () => {
      const {error} = await failing(sdk('@bentoml.service\nclass Other:\n    pass\n'), 'E_CONFIG', 3, /bentofile\.yaml:1:\d+ service: .*Front/)
      expect(JSON.stringify(error)).toMatch(/hint/)
    })

    it('a bentoml.depends target that is not a service: E_CONFIG, exit 3, at its line', async () => {
      await failing(
        sdk('class Helper:\n    pass\n\n@bentoml.service\nclass Front:\n    helper = bentoml.depends(Helper)\n'),
        'E_CONFIG',
        3,
        /service\.py:8:\d+ bentoml\.depends\(Helper\) at service\.py:8: Helper is not a service[\s\S]*hint: pass an @bentoml\.service class/,
      )
    })

    it('two services with one name: E_CONFIG, exit 3, naming both lines', async () => {
      await failing(
        sdk('@bentoml.service(name="Front")\nclass Back:\n    pass\n\n@bentoml.service\nclass Front:\n    back = bentoml.depends(Back)\n'),
        'E_CONFIG',
        3,
        /service\.py:\d+:\d+ dependency conflict: two services are named "Front" \(service\.py:\d+ and service\.py:\d+\)[\s\S]*hint: give each service a distinct name/,
      )
    })

    it('a model tag that is not a literal: E_CONFIG, exit 3, at its line, and bentofile models: fixes it', async () => {
      const body = 'import os\n\n@bentoml.service\nclass Front:\n    model = bentoml.models.BentoModel(os.environ["TAG"])\n'
      const {error} = await failing(sdk(body), 'E_CONFIG', 3, /service\.py:7:\d+ cannot tell which model bentoml\.models\.BentoModel\(\) at service\.py:7 loads/)
      expect(JSON.stringify(error)).toMatch(/list the model under `models` in bentofile\.yaml/)
    })

    it('a HuggingFaceModel repository id from an installed package: E_CONFIG, exit 3, at its line, with a fix that works', async () => {
      const body = 'import pkg.loaders\n\n@bentoml.service\nclass Front:\n    model = bentoml.models.HuggingFaceModel(pkg.loaders.DEFAULT_REPO)\n'
      const files = {...sdk(body), 'bentofile.yaml': `${SDK_BENTOFILE}models:\n  - iris:latest\n`}
      const {error} = await failing(files, 'E_CONFIG', 3, /service\.py:7:\d+ cannot tell which model bentoml\.models\.HuggingFaceModel\(\) at service\.py:7 loads: its repository id/)
      expect(JSON.stringify(error)).toMatch(/write the repository id as a literal string/)
      expect(JSON.stringify(error)).not.toMatch(/list the model under/)
    })
  })

  describe('image SDK and Bento arguments (issue 8, README "Configuration in Python")', () => {
    const BF = 'service: "service:S"\ninclude:\n  - "*.py"\n  - "*.yaml"\n'
    const svc = (pre: string, deco = 'image=image'): Record<string, string> => ({
      'bentofile.yaml': BF,
      'service.py': `import bentoml\nimport pydantic\n\n${pre}\n\n@bentoml.service(${deco})\nclass S:\n    @bentoml.api\n    def hi(self) -> str:\n        return "hi"\n`,
    })

    it('Image.uv_lock() in a project without uv.lock: E_LOCK, exit 3, says to run uv lock (README "Locked dependencies")', async () => {
      const {error} = await failing(svc('image = bentoml.images.Image(python_version="3.11").uv_lock()'), 'E_LOCK', 3, /uv_lock\(\)[\s\S]*no uv\.lock/)
      expect(JSON.stringify(error)).toMatch(/run `uv lock`/)
    })

    it('__file__ in the image: E_CONFIG, exit 3, at its line', async () => {
      await failing(svc('image = bentoml.images.Image(python_version="3.11").run("ls " + __file__)'), 'E_CONFIG', 3, /service\.py:4:\d+ [\s\S]*__file__/)
    })

    it('a use_arguments field with no default and no argument: E_CONFIG, exit 3, BentoML\'s "Argument error"', async () => {
      const pre = 'class A(pydantic.BaseModel):\n    model_id: str\n\nargs = bentoml.use_arguments(A)'
      await failing(svc(pre, 'labels={"m": args.model_id}'), 'E_CONFIG', 3, /Argument error[\s\S]*model_id[\s\S]*Field required/)
    })

    it('--arg without =, a missing --arg-file, an --arg-file that is not a mapping: E_USAGE, exit 2', async () => {
      const pre = 'class A(pydantic.BaseModel):\n    model_id: str = "x"\n\nargs = bentoml.use_arguments(A)'
      await failing(svc(pre, 'labels={"m": args.model_id}'), 'E_USAGE', 2, /Invalid argument format: model_id\. Must be in the form of key=value/, ['--arg', 'model_id'])
      await failing(svc(pre, 'labels={"m": args.model_id}'), 'E_USAGE', 2, /--arg-file .*nope\.yaml: no such file/, ['--arg-file', 'nope.yaml'])
      await failing({...svc(pre, 'labels={"m": args.model_id}'), 'args.yaml': '- a\n- b\n'}, 'E_USAGE', 2, /--arg-file .*args\.yaml: the file must hold a YAML mapping/, ['--arg-file', 'args.yaml'])
    })
  })

  it('an unknown flag: E_USAGE, exit 2, JSON error', async () => {
    await failing({}, 'E_USAGE', 2, /--frobnicate/, ['--frobnicate'])
  })

  it('without --json: the message and hint on stderr, nothing on stdout, no stack', async () => {
    const project = await makeProject({'bentofile.yaml': 'service: "service:svc"\nincldue: ["*.py"]\n'})
    scratchDirs.add(() => rm(project, {recursive: true, force: true}))
    const r = await runBento(['build'], {cwd: project, env: {BENTOML_HOME: home}})
    expect(r.code).toBe(3)
    expect(r.stdout).toBe('')
    expect(r.stderr).toMatch(/^Error \[E_CONFIG\]: bentofile\.yaml is invalid/)
    expect(r.stderr).toMatch(/hint: did you mean 'include'\?/)
    expect(r.stderr).not.toContain('    at ')
  })
})

describe('bento build: bad model store', () => {
  async function setup(): Promise<{home: string; project: string; modelDir: string}> {
    const home = await scratch('bento-bad-home-')
    const modelDir = await writeModel(home)
    const project = await makeProject({}, join(await scratch('bento-bad-'), 'p'))
    return {home, project, modelDir}
  }

  it('model.yaml with a YAML syntax error: E_MODEL_CORRUPT, exit 5, names the file', async () => {
    const {home, project, modelDir} = await setup()
    await writeFile(join(modelDir, 'model.yaml'), 'name: iris_clf\nversion: [\n')
    const error = expectError(await build(project, home), 'E_MODEL_CORRUPT', 5)
    expect(error.message).toContain(join(modelDir, 'model.yaml'))
    expect(error.hint).toMatch(/save it again/)
    expect(await snapshot(home)).toEqual({bentos: [], tmp: []})
  })

  it('model.yaml without a required key: E_MODEL_CORRUPT naming the key', async () => {
    const {home, project, modelDir} = await setup()
    await writeFile(join(modelDir, 'model.yaml'), modelYaml('iris_clf', MODEL_VERSION, {module: undefined}))
    expectError(await build(project, home), 'E_MODEL_CORRUPT', 5, /module: missing required key/)
    expect(await snapshot(home)).toEqual({bentos: [], tmp: []})
  })

  it('unreadable model.yaml (a directory): E_MODEL_CORRUPT', async () => {
    const {home, project, modelDir} = await setup()
    await rm(join(modelDir, 'model.yaml'))
    await mkdir(join(modelDir, 'model.yaml'))
    expectError(await build(project, home), 'E_MODEL_CORRUPT', 5, /cannot be read/)
    expect(await snapshot(home)).toEqual({bentos: [], tmp: []})
  })

  it('the only version corrupt and no latest file: E_MODEL_CORRUPT, not "the store is empty"', async () => {
    const {home, project, modelDir} = await setup()
    await writeFile(join(modelDir, 'model.yaml'), 'name: iris_clf\nversion: [\n')
    await rm(join(home, 'models/iris_clf/latest'))
    const error = expectError(await build(project, home), 'E_MODEL_CORRUPT', 5)
    expect(error.message).toContain(join(modelDir, 'model.yaml'))
    expect(await snapshot(home)).toEqual({bentos: [], tmp: []})
  })

  it('a missing model (loaded by the service code): E_MODEL_NOT_FOUND, exit 4, with what the store has', async () => {
    const {home, project} = await setup()
    await rm(join(home, 'models/iris_clf'), {recursive: true})
    await writeModel(home, {name: 'other_model'})
    const error = expectError(await build(project, home), 'E_MODEL_NOT_FOUND', 4, /iris_clf:latest/)
    expect(error.hint).toMatch(/other_model:/)
    expect(await snapshot(home)).toEqual({bentos: [], tmp: []})
  })

  it('a missing model version listed under models: E_MODEL_NOT_FOUND', async () => {
    const {home, project} = await setup()
    await writeFile(join(project, 'bentofile.yaml'), 'service: "service:svc"\nmodels: ["iris_clf:nosuchversion"]\n')
    const error = expectError(await build(project, home), 'E_MODEL_NOT_FOUND', 4, /iris_clf:nosuchversion/)
    expect(error.hint).toContain(`iris_clf:${MODEL_VERSION}`)
    expect(await snapshot(home)).toEqual({bentos: [], tmp: []})
  })
})

describe('bento build: store is not a directory', () => {
  it('BENTOML_HOME is a file: E_STORE_NOT_A_DIRECTORY, exit 5', async () => {
    const base = await scratch('bento-file-home-')
    const home = join(base, 'home')
    await writeFile(home, 'not a directory\n')
    const project = await makeProject({}, join(base, 'proj'))
    expectError(await build(project, home), 'E_STORE_NOT_A_DIRECTORY', 5, /not a directory/)
    expect(await readFile(home, 'utf8')).toBe('not a directory\n')
  })
})

describe('bento build: two builds at once', () => {
  it('the same project twice: both succeed with the same tag, one creates it, one version + latest', async () => {
    const home = await scratch('bento-race-home-')
    await writeModel(home, {bytes: 8 * 1024 * 1024})
    const project = await makeProject({}, join(await scratch('bento-race-'), 'p'))
    const [a, b] = await Promise.all([buildInChild(project, home), buildInChild(project, home)])
    for (const r of [a, b]) {
      expect(r.code, r.stderr).toBe(0)
      expect(r.stderr).not.toContain('    at ')
    }
    const ra = JSON.parse(a.stdout) as {tag: string; version: string; created: boolean; path: string}
    const rb = JSON.parse(b.stdout) as {tag: string; created: boolean; path: string}
    expect(rb.tag).toBe(ra.tag)
    expect(rb.path).toBe(ra.path)
    expect([ra.created, rb.created].sort()).toEqual([false, true])
    const nameDir = join(home, 'bentos/clasificador_iris')
    expect((await readdir(nameDir)).sort()).toEqual(['latest', ra.version].sort())
    expect(await readFile(join(nameDir, 'latest'), 'utf8')).toBe(ra.version)
    expect(await readdir(join(home, 'tmp'))).toEqual([])
  })

  it('two different projects of the same name at once: two versions, latest names the newest', async () => {
    const home = await scratch('bento-race-home-')
    await writeModel(home)
    const base = await scratch('bento-race-')
    const p1 = await makeProject({'extra.py': 'A = 1\n'}, join(base, 'one'))
    const p2 = await makeProject({'extra.py': 'A = 2\n'}, join(base, 'two'))
    const [a, b] = await Promise.all([buildInChild(p1, home), buildInChild(p2, home)])
    expect(a.code, a.stderr).toBe(0)
    expect(b.code, b.stderr).toBe(0)
    const ra = JSON.parse(a.stdout) as {version: string; created: boolean}
    const rb = JSON.parse(b.stdout) as {version: string; created: boolean}
    expect(ra.version).not.toBe(rb.version)
    expect(ra.created && rb.created).toBe(true)
    const nameDir = join(home, 'bentos/clasificador_iris')
    expect((await readdir(nameDir)).sort()).toEqual(['latest', ra.version, rb.version].sort())
    const latest = await readFile(join(nameDir, 'latest'), 'utf8')
    const created = async (v: string): Promise<number> =>
      Date.parse(/^creation_time: '?([^'\n]+)'?$/m.exec(await readFile(join(nameDir, v, 'bento.yaml'), 'utf8'))![1]!)
    const newest = Math.max(await created(ra.version), await created(rb.version))
    expect([ra.version, rb.version]).toContain(latest)
    expect(await created(latest)).toBe(newest)
    expect(await readdir(join(home, 'tmp'))).toEqual([])
  })
})

describe('bento build: odd project files (D15)', () => {
  it('a file whose name is not UTF-8: E_BUILD_CONTEXT, exit 4, naming it escaped; excluded, it does not matter', async () => {
    const home = await scratch('bento-odd-home-')
    await writeModel(home)
    const project = await makeProject({}, join(await scratch('bento-odd-'), 'p'))
    await writeFile(Buffer.concat([Buffer.from(`${project}/caf`), Buffer.from([0xe9]), Buffer.from('.py')]), 'x = 1\n')
    const r = await build(project, home)
    const error = expectError(r, 'E_BUILD_CONTEXT', 4, /name is not valid UTF-8: "caf\\xe9\.py"/)
    expect(error.hint).toMatch(/exclude/)
    expect(await snapshot(home)).toEqual({bentos: [], tmp: []})
    await writeFile(join(project, '.bentoignore'), 'caf*.py\n')
    const ok = await build(project, home)
    expect(ok.code, ok.stderr).toBe(0)
  })

  it('a file it cannot read: E_BUILD_CONTEXT, exit 4, naming it, store unchanged', async () => {
    const base = await scratch('bento-unreadable-')
    await chmod(base, 0o755)
    const home = join(base, 'home')
    await writeModel(home)
    const project = await makeProject({'secret.txt': 's', 'bentofile.yaml': 'service: "service:svc"\n'}, join(base, 'p'))
    await chmod(join(project, 'secret.txt'), 0o000)
    // Root reads anything: as root, run the build as nobody on a tree nobody owns.
    const asRoot = process.getuid?.() === 0
    if (asRoot) execFileSync('chown', ['-R', '65534:65534', base])
    const r = await new Promise<RunResult>((resolve) => {
      execFile(
        process.execPath,
        [asRoot ? binForNobody() : BIN, 'build', '--json'],
        {cwd: project, env: {...process.env, BENTOML_HOME: home, HOME: base}, ...(asRoot ? {uid: 65534, gid: 65534} : {})},
        (err, stdout, stderr) => resolve({code: err ? Number((err as {code?: number}).code ?? 1) : 0, stdout, stderr}),
      )
    })
    const error = expectError(r, 'E_BUILD_CONTEXT', 4, /Cannot read "secret\.txt" of the build context \(permission denied\)/)
    expect(error.hint).toMatch(/exclude/)
    expect(await snapshot(home)).toEqual({bentos: [], tmp: []})
  })
})

describe('bento build: interrupted', () => {
  it('SIGINT while hashing a large model: E_INTERRUPTED, exit 130, store unchanged, no tmp leftovers', async () => {
    const home = await scratch('bento-int-home-')
    const modelDir = await writeModel(home)
    const big = join(modelDir, 'saved_model.pkl')
    await truncate(big, 300 * 1024 * 1024)
    await writeFile(join(modelDir, 'weights.bin'), Buffer.alloc(1024, 3))
    await chmod(big, 0o644)
    const project = await makeProject({}, join(await scratch('bento-int-'), 'p'))
    const child = spawn(process.execPath, [BIN, 'build', '--json'], {
      cwd: project,
      env: {...process.env, BENTOML_HOME: home},
      stdio: ['ignore', 'pipe', 'pipe'],
    })
    let stdout = ''
    let stderr = ''
    child.stdout.on('data', (d) => (stdout += d))
    child.stderr.on('data', (d) => (stderr += d))
    const exited = new Promise<{code: number | null; signal: NodeJS.Signals | null}>((resolve) =>
      child.on('exit', (code, signal) => resolve({code, signal})),
    )
    // Wait until the build has the big model open (it is hashing it), then interrupt.
    const deadline = Date.now() + 20_000
    let hashing = false
    while (!hashing && Date.now() < deadline && child.exitCode === null) {
      const fds = await readdir(`/proc/${child.pid}/fd`).catch(() => [] as string[])
      for (const fd of fds) {
        if ((await readlink(`/proc/${child.pid}/fd/${fd}`).catch(() => '')) === big) hashing = true
      }
      if (!hashing) await new Promise((r) => setTimeout(r, 5))
    }
    expect(hashing, `the build never opened the model (stderr: ${stderr})`).toBe(true)
    child.kill('SIGINT')
    const {code} = await exited
    expectError({code: code ?? -1, stdout, stderr}, 'E_INTERRUPTED', 130, /interrupted/)
    expect(await snapshot(home)).toEqual({bentos: [], tmp: []})
    expect(existsSync(big)).toBe(true)
  })
})

describe('README', () => {
  it('the exit-code table lists every error code seen above under its exit code', async () => {
    const readme = await readFile(join(REPO, 'README.md'), 'utf8')
    const table = new Map<string, number>()
    for (const m of readme.matchAll(/^\| (\d+) \| ([^|]*) \|/gm)) {
      for (const c of m[2]!.matchAll(/`(E_[A-Z_]+)`/g)) table.set(c[1]!, Number(m[1]))
    }
    expect(observed.size).toBeGreaterThanOrEqual(8)
    for (const [code, exitCode] of observed) expect(table.get(code), code).toBe(exitCode)
  })
})
