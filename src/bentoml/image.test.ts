import {readFileSync} from 'node:fs'
import {posix} from 'node:path'

import {describe, expect, it} from 'vitest'

import {
  Image,
  ImageMergeError,
  ImageRuleError,
  type ImageBuildConfig,
  type ImageFiles,
  imageFilesFor,
  type ImageInit,
  populateImageFromBuildConfig,
  scriptTarget,
  shellQuote,
} from './image.js'

/**
 * Golden expectations observed on the real BentoML 1.4.40: `test/fixtures/image-sdk/observe.py` runs each
 * case of `cases.json` against `bentoml.images.Image` and wrote `expected.json` (the interop test re-runs it
 * against the venv and compares, so the goldens stay true).
 */
interface Case {
  name: string
  files?: Record<string, string>
  ops: Array<[string, ...unknown[]]>
}
interface Observed {
  name: string
  result: null | {
    base_image: string
    distro: string
    python_version: string
    commands: string[]
    lock_python_packages: boolean
    pack_git_packages: boolean
    python_requirements: string
    post_commands: string[]
    build_include_paths: string[]
    scripts: string[]
    after_pip_install: boolean
    uv_lock: boolean
  }
  error?: {type: string; message: string}
  warnings: string[]
}

const fixtures = new URL('../../test/fixtures/image-sdk/', import.meta.url)
const cases = JSON.parse(readFileSync(new URL('cases.json', fixtures), 'utf8')) as Case[]
const expected = JSON.parse(readFileSync(new URL('expected.json', fixtures), 'utf8')) as Observed[]

const PARENT = '/virtual'
const CTX = `${PARENT}/ctx`

/** An in-memory build context at /virtual/ctx holding the case's files (paths may climb to /virtual). */
function filesOf(c: Case): ReturnType<typeof imageFilesFor> {
  const texts = new Map(Object.entries(c.files ?? {}).map(([rel, text]) => [posix.resolve(CTX, rel), text]))
  const dirs = new Set([...texts.keys()].flatMap((p) => p.split('/').map((_, i, a) => a.slice(0, i).join('/') || '/')))
  return imageFilesFor(CTX, {
    realpath: (abs) => (texts.has(abs) || dirs.has(abs) ? abs : undefined),
    readText: (abs) => texts.get(abs),
  })
}

const METHOD: Record<string, (img: Image, args: unknown[]) => void> = {
  system_packages: (i, a) => i.systemPackages(...(a as string[])),
  python_packages: (i, a) => i.pythonPackages(...(a as string[])),
  requirements_file: (i, a) => i.requirementsFile(a[0] as string),
  pyproject_toml: (i, a) => (a.length > 0 ? i.pyprojectToml(a[0] as string) : i.pyprojectToml()),
  uv_lock: (i) => i.uvLockRequirements(),
  run: (i, a) => i.run(a[0] as string),
  run_script: (i, a) => i.runScript(a[0] as string),
  build_include: (i, a) => i.buildInclude(...(a as string[])),
}

function replay(c: Case): {result: Observed['result']; error?: {message: string}; warnings: string[]; drops: string[]} {
  const files = filesOf(c)
  let img: Image | null = null
  const warnings: string[] = []
  let drops: string[] = []
  let error: {message: string} | undefined
  try {
    for (const [op, ...args] of c.ops) {
      if (op === 'Image') img = new Image((args[0] ?? {}) as ImageInit, {files})
      else if (op === 'set') (img as unknown as Record<string, unknown>)[args[0] as string] = args[1]
      else if (op === 'populate') {
        const r = populateImageFromBuildConfig(img, args[0] as ImageBuildConfig, {files})
        warnings.push(...r.warnings.map((w) => w.message))
        drops = r.bentomlDrops
        img = r.image
      } else {
        const f = METHOD[op]
        if (f === undefined) throw new Error(`unknown op ${op}`)
        f(img as Image, args)
      }
    }
  } catch (e) {
    if (e instanceof ImageRuleError) error = {message: e.message.replace(CTX, '<ctx>').replace(PARENT, '<parent>')}
    else if (e instanceof ImageMergeError) error = {message: e.rule.message}
    else throw e
  }
  const result: Observed['result'] =
    img === null
      ? null
      : {
          base_image: img.base_image,
          distro: img.distro,
          python_version: img.python_version,
          commands: img.commands,
          lock_python_packages: img.lock_python_packages,
          pack_git_packages: img.pack_git_packages,
          python_requirements: img.python_requirements,
          post_commands: img.post_commands,
          build_include_paths: img.build_include_paths,
          scripts: [...img.scripts.values()].sort(),
          after_pip_install: img.afterPipInstall,
          uv_lock: img.uvLock,
        }
  return {result, ...(error ? {error} : {}), warnings, drops}
}

/** Cases where bento keeps what BentoML 1.4.40 loses in attrs.evolve (documented in image.ts). */
const KEEPS_DROPPED = new Set(['populate: image run_script and uv_lock are dropped by BentoML'])

describe('Image (golden: BentoML 1.4.40)', () => {
  it('has an observation for every case', () => {
    expect(expected.map((e) => e.name)).toEqual(cases.map((c) => c.name))
  })

  for (const c of cases) {
    it(c.name, () => {
      const want = expected.find((e) => e.name === c.name) as Observed
      const got = replay(c)
      expect(got.error?.message).toBe(want.error?.message)
      expect(got.warnings).toEqual(want.warnings)
      if (KEEPS_DROPPED.has(c.name) && want.result !== null) {
        expect(want.result.scripts).toEqual([])
        expect(got.result?.scripts).toEqual([scriptTarget('setup.sh')])
        expect(got.result?.uv_lock).toBe(true)
        expect(got.drops).toEqual(['scripts', 'uv_lock'])
        expect({...got.result, scripts: [], uv_lock: false}).toEqual(want.result)
        return
      }
      expect(got.result).toEqual(want.result)
      expect(got.drops).toEqual([])
    })
  }
})

describe('shellQuote (Python shlex.quote)', () => {
  it.each([
    ['', "''"],
    ['curl', 'curl'],
    ['libgl1-mesa-glx', 'libgl1-mesa-glx'],
    ['pkg=1.0', 'pkg=1.0'],
    ['a b', "'a b'"],
    ["it's", `'it'"'"'s'`],
    ['ü', "'ü'"],
    ['@%+=:,./-_', '@%+=:,./-_'],
  ])('%j → %s', (input, out) => {
    expect(shellQuote(input)).toBe(out)
  })
})

describe('Image', () => {
  it('methods return the same object, so two names see every call', () => {
    const a = new Image({python_version: '3.12'})
    const b = a.run('echo 1')
    b.pythonPackages('torch')
    expect(b).toBe(a)
    expect(a.python_requirements).toBe('torch\n')
  })

  it('a rule error becomes a diagnostic at the caller’s position', () => {
    const img = new Image().pythonPackages('x').run('echo post')
    let err: unknown
    try {
      img.pythonPackages('y')
    } catch (e) {
      err = e
    }
    expect(err).toBeInstanceOf(ImageRuleError)
    expect((err as ImageRuleError).kind).toBe('requirements-after-post-command')
    expect((err as ImageRuleError).toDiagnostic({file: 'service.py', line: 7, col: 3})).toMatchObject({
      file: 'service.py',
      line: 7,
      col: 3,
      severity: 'error',
      message: "Can't separate adding python requirements",
    })
  })

  it('remembers where each requirement line came from: the call site, the file and line, the bentofile key (issue 16)', () => {
    const files: ImageFiles = {
      read: (p) =>
        p === 'requirements.txt'
          ? {rel: 'requirements.txt', text: 'numpy\r\n\r\nbentoml==1.4.11\r\n\r\n'}
          : p === 'inlined.txt'
            ? {rel: 'inlined.txt', text: 'a\nb\n', sites: [{file: 'inlined.txt', line: 1}, {file: 'base.txt', line: 7}]}
            : {problem: 'not-found'},
    }
    const img = new Image({}, {files})
    img.site = {file: 'service.py', line: 4}
    img.pythonPackages('torch', 'x\ny')
    img.site = undefined
    img.requirementsFile('requirements.txt')
    const merged = populateImageFromBuildConfig(img, {python: {index_url: 'https://i', packages: ['c', 'bentoml==1.4.11']}}, {files}).image!
    merged.requirementsFile('inlined.txt')
    const lines = merged.python_requirements.replace(/\n$/, '').split('\n')
    expect(lines.map((l, i) => [l, merged.requirementSites[i]])).toEqual([
      ['torch', {file: 'service.py', line: 4}],
      ['x', {file: 'service.py', line: 4}],
      ['y', {file: 'service.py', line: 4}],
      ['numpy', {file: 'requirements.txt', line: 1}],
      ['', {file: 'requirements.txt', line: 2}],
      ['bentoml==1.4.11', {file: 'requirements.txt', line: 3}],
      ['--index-url https://i', {key: 'python.index_url'}],
      ['c', {key: 'python.packages[0]'}],
      ['bentoml==1.4.11', {key: 'python.packages[1]'}],
      ['a', {file: 'inlined.txt', line: 1}],
      ['b', {file: 'base.txt', line: 7}],
    ])
    expect(merged.requirementSites).toHaveLength(lines.length)
  })

  it('merge errors name the bentofile key', () => {
    const img = new Image().pythonPackages('x').run('echo post')
    expect(() => populateImageFromBuildConfig(img, {python: {packages: ['y']}})).toThrow(
      expect.objectContaining({key: 'python.packages'}) as Error,
    )
  })

  it('script targets do not depend on the machine', () => {
    expect(scriptTarget('scripts/setup.sh')).toBe('./env/docker/script__1d889b31bb06cb578abde8e2253d043a')
  })

  it('info() is the spec-2 image block', () => {
    expect(new Image({python_version: '3.12'}).systemPackages('curl').pythonPackages('torch').run('echo hi').buildInclude('data').info()).toEqual({
      base_image: 'python:3.12-slim',
      python_version: '3.12',
      commands: [
        'apt-get update && apt-get install -q -y --no-install-recommends --allow-remove-essential ca-certificates gnupg2 bash build-essential git',
        'apt-get install -q -y -o Dpkg::Options::=--force-confdef curl',
      ],
      python_requirements: 'torch\n',
      post_commands: ['echo hi'],
      build_include: ['data'],
    })
  })

  it('imageFilesFor checks only the part of the path inside the context for dot-directories', () => {
    const files = imageFilesFor('/home/u/.jenkins/ws', {
      realpath: (p) => p,
      readText: (p) => (p.endsWith('.txt') ? 'x\n' : undefined),
    })
    expect(files.read('req.txt')).toEqual({rel: 'req.txt', text: 'x\n'})
    expect(files.read('.venv/req.txt')).toMatchObject({problem: 'hidden'})
    expect(files.read('$HOME/req.txt')).toEqual({problem: 'env'})
    expect(files.read('~/req.txt')).toEqual({problem: 'absolute'})
  })
})
