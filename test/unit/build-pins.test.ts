/**
 * Issue 16, item 6: every source of a `bentoml` pin chooses the target the same way, through the compiled CLI
 * (`bento build --json`). Each source pinning 1.4.11 gives a Bento for 1.4.11 whose requirements carry the user's
 * pin and no other bentoml line; two exact pins that disagree are E_CONFIG naming both places.
 */
import {readFile, rm} from 'node:fs/promises'
import {join} from 'node:path'

import {afterAll, beforeAll, describe, expect, it} from 'vitest'

import {build, expectError, makeProject, Scratch, writeModel} from '../helpers/build-inputs.js'

const scratchDirs = new Scratch()
afterAll(async () => {
  await scratchDirs.cleanup()
})

/** An SDK service whose image is `image` (Python source of the expression). */
const sdkService = (image: string): string =>
  `import bentoml\n\nimage = ${image}\n\n\n@bentoml.service(image=image)\nclass Front:\n    @bentoml.api\n    def hi(self, x: int) -> int:\n        return x\n`
const SDK_BENTOFILE = 'service: "service:Front"\ninclude:\n  - "*.py"\n'

interface Built {
  bentomlVersion: string
  requirements: string[]
  /** bento.yaml `spec:`; null when the target writes none (1.3.0–1.3.9). */
  spec: number | null
  stderr: string
}

describe('bento build: a bentoml pin from any source chooses the target (issue 16)', () => {
  let home: string
  beforeAll(async () => {
    home = await scratchDirs.dir('bento-pins-home-')
    await writeModel(home) // iris_clf, for the runner-style service.py of makeProject
  })

  /** A project from files; a file given as null is removed (makeProject writes a default bentofile.yaml). */
  async function project(files: Record<string, string | null>): Promise<string> {
    const written = Object.fromEntries(Object.entries(files).map(([k, v]) => [k, v ?? '']))
    const dir = await makeProject(written, join(await scratchDirs.dir('bento-pins-'), 'p'))
    for (const [k, v] of Object.entries(files)) if (v === null) await rm(join(dir, k))
    return dir
  }

  async function built(files: Record<string, string | null>): Promise<Built> {
    const r = await build(await project(files), home)
    expect(r.code, r.stderr).toBe(0)
    const out = JSON.parse(r.stdout) as {path: string}
    const manifest = await readFile(join(out.path, 'bento.yaml'), 'utf8')
    const version = (/^bentoml_version: (.+)$/m.exec(manifest)?.[1] ?? '').replace(/'/g, '')
    const requirements = (await readFile(join(out.path, 'env/python/requirements.txt'), 'utf8')).split('\n').filter(Boolean)
    const spec = /^spec: (\d)$/m.exec(manifest)?.[1]
    return {bentomlVersion: version, requirements, spec: spec === undefined ? null : Number(spec), stderr: r.stderr}
  }

  const bentomlLines = (b: Built): string[] => b.requirements.filter((l) => /^bentoml\b/i.test(l))

  it('image SDK requirements_file with bentoml==1.4.11: targets 1.4.11, one bentoml line (the issue row)', async () => {
    const b = await built({
      'bentofile.yaml': SDK_BENTOFILE,
      'service.py': sdkService('bentoml.images.Image(python_version="3.11").requirements_file("requirements.txt")'),
      'requirements.txt': 'numpy\nbentoml==1.4.11\n',
    })
    expect(b.bentomlVersion).toBe('1.4.11')
    expect(bentomlLines(b)).toEqual(['bentoml==1.4.11'])
  })

  it('image SDK python_packages("bentoml==1.4.11"): targets 1.4.11, one bentoml line', async () => {
    const b = await built({
      'bentofile.yaml': SDK_BENTOFILE,
      'service.py': sdkService('bentoml.images.Image(python_version="3.11").python_packages("numpy", "bentoml==1.4.11")'),
    })
    expect(b.bentomlVersion).toBe('1.4.11')
    expect(bentomlLines(b)).toEqual(['bentoml==1.4.11'])
  })

  it('bentofile python.packages (SDK project): targets 1.4.11, one bentoml line', async () => {
    const b = await built({
      'bentofile.yaml': `${SDK_BENTOFILE}python:\n  packages:\n    - bentoml==1.4.11\n`,
      'service.py': sdkService('bentoml.images.Image(python_version="3.11")'),
    })
    expect(b.bentomlVersion).toBe('1.4.11')
    expect(bentomlLines(b)).toEqual(['bentoml==1.4.11'])
  })

  it('bentofile python.packages (runner-style project, spec 1): targets 1.4.11, one bentoml line', async () => {
    const b = await built({'bentofile.yaml': 'service: "service:svc"\ninclude:\n  - "*.py"\npython:\n  packages:\n    - scikit-learn\n    - bentoml==1.4.11\n'})
    expect(b.bentomlVersion).toBe('1.4.11')
    expect(bentomlLines(b)).toEqual(['bentoml==1.4.11'])
  })

  it('bentofile python.requirements_txt with the pin in a nested -r file: targets 1.4.11, one bentoml line', async () => {
    const b = await built({
      'bentofile.yaml': 'service: "service:svc"\ninclude:\n  - "*.py"\npython:\n  requirements_txt: reqs/main.txt\n',
      'reqs/main.txt': 'scikit-learn\n-r base.txt\n',
      'reqs/base.txt': 'bentoml==1.4.11\n',
    })
    expect(b.bentomlVersion).toBe('1.4.11')
    expect(bentomlLines(b)).toEqual(['bentoml==1.4.11'])
  })

  it('pyproject [project].dependencies (SDK project): targets 1.4.11, one bentoml line', async () => {
    const b = await built({
      'bentofile.yaml': null,
      'pyproject.toml': '[project]\nname = "front"\nversion = "0.1"\ndependencies = [\n  "numpy",\n  "bentoml==1.4.11",\n]\n\n[tool.bentoml.build]\nservice = "service:Front"\ninclude = ["*.py"]\n',
      'service.py': sdkService('bentoml.images.Image(python_version="3.11")'),
    })
    expect(b.bentomlVersion).toBe('1.4.11')
    expect(bentomlLines(b)).toEqual(['bentoml==1.4.11'])
  })

  it('the same pin in two sources (image SDK and bentofile) is fine: targets 1.4.11', async () => {
    const b = await built({
      'bentofile.yaml': `${SDK_BENTOFILE}python:\n  packages:\n    - bentoml==1.4.11\n`,
      'service.py': sdkService('bentoml.images.Image(python_version="3.11").python_packages("bentoml==1.4.11")'),
    })
    expect(b.bentomlVersion).toBe('1.4.11')
    expect(new Set(bentomlLines(b))).toEqual(new Set(['bentoml==1.4.11']))
  })

  it('an exact pin and a range that admits it are fine: targets the pin, the range kept', async () => {
    const b = await built({
      'bentofile.yaml': `${SDK_BENTOFILE}python:\n  packages:\n    - bentoml>=1.4.10\n`,
      'service.py': sdkService('bentoml.images.Image(python_version="3.11").requirements_file("requirements.txt")'),
      'requirements.txt': 'bentoml==1.4.11\n',
    })
    expect(b.bentomlVersion).toBe('1.4.11')
    expect(bentomlLines(b)).toEqual(['bentoml==1.4.11', 'bentoml>=1.4.10'])
  })

  it('two exact pins that disagree (image requirements_file, bentofile packages): E_CONFIG, exit 3, naming both files and lines', async () => {
    const dir = await project(
      {
        'bentofile.yaml': `${SDK_BENTOFILE}python:\n  packages:\n    - numpy\n    - bentoml==1.4.12\n`,
        'service.py': sdkService('bentoml.images.Image(python_version="3.11").requirements_file("requirements.txt")'),
        'requirements.txt': 'numpy\nbentoml==1.4.11\n',
      },
    )
    const r = await build(dir, home)
    const error = expectError(r, 'E_CONFIG', 3)
    const text = JSON.stringify(error)
    expect(text).toMatch(/requirements\.txt/)
    expect(r.stderr).toMatch(/requirements\.txt:2:\d+ "bentoml==1\.4\.11"/)
    expect(r.stderr).toMatch(/bentofile\.yaml:7:\d+ python\.packages\[1\]: "bentoml==1\.4\.12" contradicts "bentoml==1\.4\.11" \(requirements\.txt:2\)/)
  })

  it('two exact pins that disagree (image python_packages, pyproject dependencies): E_CONFIG naming service.py and pyproject.toml lines', async () => {
    const dir = await project(
      {
        'bentofile.yaml': null,
        'pyproject.toml': '[project]\nname = "front"\nversion = "0.1"\ndependencies = [\n  "numpy",\n  "bentoml==1.4.12",\n]\n\n[tool.bentoml.build]\nservice = "service:Front"\ninclude = ["*.py"]\n',
        'service.py': sdkService('bentoml.images.Image(python_version="3.11").python_packages("bentoml==1.4.11")'),
      },
    )
    const r = await build(dir, home)
    expectError(r, 'E_CONFIG', 3)
    expect(r.stderr).toMatch(/service\.py:3:\d+ "bentoml==1\.4\.11"/)
    expect(r.stderr).toMatch(/pyproject\.toml:6:\d+[^\n]*"bentoml==1\.4\.12" contradicts "bentoml==1\.4\.11" \(service\.py:3\)/)
  })

  // BentoML 1.3.x pins (issue 16, item 5): the same sources choose a 1.3.x target, whose layout versions.ts says.
  it('image SDK requirements_file with bentoml==1.3.22: targets 1.3.22, spec 2, one bentoml line', async () => {
    const b = await built({
      'bentofile.yaml': SDK_BENTOFILE,
      'service.py': sdkService('bentoml.images.Image(python_version="3.11").requirements_file("requirements.txt")'),
      'requirements.txt': 'numpy\nbentoml==1.3.22\n',
    })
    expect([b.bentomlVersion, b.spec]).toEqual(['1.3.22', 2])
    expect(bentomlLines(b)).toEqual(['bentoml==1.3.22'])
  })

  it('image SDK python_packages("bentoml==1.3.15"): targets 1.3.15, spec 1 from the bentofile, the image ignored with a warning (as 1.3.15)', async () => {
    const b = await built({
      'bentofile.yaml': SDK_BENTOFILE,
      'service.py': sdkService('bentoml.images.Image(python_version="3.11").python_packages("numpy", "bentoml==1.3.15")'),
    })
    expect([b.bentomlVersion, b.spec]).toEqual(['1.3.15', 1])
    expect(bentomlLines(b)).toEqual(['bentoml==1.3.15'])
    expect(b.stderr).toMatch(/image= is ignored by BentoML 1\.3\.15/)
  })

  it('bentofile python.packages bentoml==1.3.7 (SDK project): targets 1.3.7, spec 1 without a spec key', async () => {
    const b = await built({
      'bentofile.yaml': `${SDK_BENTOFILE}python:\n  packages:\n    - numpy\n    - bentoml==1.3.7\n`,
      'service.py': `import bentoml\n\n\n@bentoml.service\nclass Front:\n    @bentoml.api\n    def hi(self, x: int) -> int:\n        return x\n`,
    })
    expect([b.bentomlVersion, b.spec]).toEqual(['1.3.7', null])
    expect(bentomlLines(b)).toEqual(['bentoml==1.3.7'])
  })

  it('pyproject [project].dependencies bentoml==1.3.5 (SDK project): targets 1.3.5', async () => {
    const b = await built({
      'bentofile.yaml': null,
      'pyproject.toml': '[project]\nname = "front"\nversion = "0.1"\ndependencies = ["numpy", "bentoml==1.3.5"]\n\n[tool.bentoml.build]\nservice = "service:Front"\ninclude = ["*.py"]\n',
      'service.py': `import bentoml\n\n\n@bentoml.service\nclass Front:\n    @bentoml.api\n    def hi(self, x: int) -> int:\n        return x\n`,
    })
    expect([b.bentomlVersion, b.spec]).toEqual(['1.3.5', null])
    expect(bentomlLines(b)).toEqual(['bentoml==1.3.5'])
  })

  it('bentofile requirements_txt with bentoml==1.3.1 in a nested -r file (runner-style project): targets 1.3.1', async () => {
    const b = await built({'requirements.txt': '-r more.txt\nscikit-learn\n', 'more.txt': 'bentoml==1.3.1\n', 'bentofile.yaml': 'service: "service:svc"\ninclude:\n  - "*.py"\npython:\n  requirements_txt: requirements.txt\n'})
    expect(b.bentomlVersion).toBe('1.3.1')
    expect(bentomlLines(b)).toEqual(['bentoml==1.3.1'])
  })

  it('a pin bento has no facts for (bentoml==1.2.20): E_CONFIG naming the file and line; 1.3.5 against 1.3.7: both lines', async () => {
    const r = await build(await project({'bentofile.yaml': `${SDK_BENTOFILE}python:\n  packages:\n    - bentoml==1.2.20\n`, 'service.py': sdkService('bentoml.images.Image(python_version="3.11")')}), home)
    expectError(r, 'E_CONFIG', 3)
    expect(r.stderr).toMatch(/bentofile\.yaml:6:\d+ python\.packages\[0\]: "bentoml==1\.2\.20" pins bentoml 1\.2\.20, a release bento does not know/)
    const two = await build(
      await project({
        'bentofile.yaml': `${SDK_BENTOFILE}python:\n  packages:\n    - bentoml==1.3.7\n`,
        'service.py': sdkService('bentoml.images.Image(python_version="3.11").python_packages("bentoml==1.3.5")'),
      }),
      home,
    )
    expectError(two, 'E_CONFIG', 3)
    expect(two.stderr).toMatch(/service\.py:3:\d+ "bentoml==1\.3\.5"/)
    expect(two.stderr).toMatch(/bentofile\.yaml:6:\d+ python\.packages\[0\]: "bentoml==1\.3\.7" contradicts "bentoml==1\.3\.5" \(service\.py:3\)/)
  })
})
