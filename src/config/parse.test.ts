import {Alias} from 'yaml'
import {describe, expect, it, vi} from 'vitest'
import {formatDiagnostic, type Diagnostic} from '../errors.js'
import {parseBuildConfig} from './parse.js'
import type {ParseOptions} from './types.js'

const FILE = 'bentofile.yaml'

function parse(text: string, options: ParseOptions = {}) {
  return parseBuildConfig(text, FILE, 'bentofile', options)
}
const errors = (ds: Diagnostic[]) => ds.filter((d) => d.severity === 'error')
const warnings = (ds: Diagnostic[]) => ds.filter((d) => d.severity === 'warning')
const lines = (ds: Diagnostic[]) => ds.map((d) => formatDiagnostic(d).split('\n')[0])

/** The single error of a parse, asserting there is exactly one and no config. */
function oneError(text: string, options: ParseOptions = {}): Diagnostic {
  const result = parse(text, options)
  expect(result.config).toBeUndefined()
  const errs = errors(result.diagnostics)
  expect(errs, lines(result.diagnostics).join('\n')).toHaveLength(1)
  return errs[0] as Diagnostic
}

describe('parseBuildConfig: syntax and shape', () => {
  it('reports a YAML syntax error with its position', () => {
    const d = oneError('service: "service:svc"\ninclude: [a, b\nlabels: {}\n')
    expect(d.line).toBeGreaterThanOrEqual(2)
    expect(d.message).toMatch(/^YAML syntax error/)
    expect(formatDiagnostic(d)).toMatch(/^bentofile\.yaml:\d+:\d+ YAML syntax error/)
    expect(d.hint).toBeTruthy()
  })

  it('points at git merge conflict markers', () => {
    const result = parse('service: svc\n<<<<<<< HEAD\ndocker:\n  distro: debian\n=======\ndocker: {}\n>>>>>>> abc\n')
    expect(result.config).toBeUndefined()
    const first = errors(result.diagnostics)[0]
    expect(first?.line).toBe(2)
    expect(first?.hint).toMatch(/merge conflict/)
  })

  it.each([
    ['empty', ''],
    ['only comments', '# nothing here\n   # still nothing\n'],
    ['only whitespace', '\n\n   \n'],
  ])('rejects an %s file', (_name, text) => {
    const d = oneError(text)
    expect(d.message).toBe('the file is empty')
    expect(d.hint).toMatch(/service/)
  })

  it.each([
    ['a list', '- service: svc\n', /got a list/],
    ['a string', 'service.py:svc\n', /got str "service\.py:svc"/],
    ['a number', '42\n', /got int 42/],
  ])('rejects a top level that is %s', (_name, text, message) => {
    const d = oneError(text)
    expect(d.message).toMatch(/top level/)
    expect(d.message).toMatch(message)
    expect(d.line).toBe(1)
  })
})

describe('parseBuildConfig: types', () => {
  it('rejects include given as a string, at the value position', () => {
    const d = oneError('service: svc\ninclude: "*.py"\n')
    expect(formatDiagnostic(d)).toMatch(/^bentofile\.yaml:2:10 include: expected a list of strings, got str "\*\.py"/)
    expect(d.hint).toMatch(/single characters/)
  })

  it('rejects python.packages given as a string (attrs instance_of(list))', () => {
    const d = oneError('service: svc\npython:\n  packages: numpy pandas\n')
    expect(lines([d])[0]).toMatch(/^bentofile\.yaml:3:13 python\.packages: expected a list of strings/)
  })

  it('rejects non-string items in strict lists, with the item index', () => {
    const d = oneError('service: svc\npython:\n  packages:\n    - numpy\n    - 1.5\n')
    expect(lines([d])[0]).toMatch(/^bentofile\.yaml:5:7 python\.packages\[1\]: expected a string, got float 1\.5/)
  })

  it('coerces scalars where BentoML (cattrs) does, with a warning', () => {
    const result = parse('service: svc\ninclude:\n  - 123\ndocker:\n  system_packages: [git, 7]\n')
    expect(errors(result.diagnostics)).toEqual([])
    expect(result.config?.include).toEqual(['123'])
    expect(result.config?.docker.system_packages).toEqual(['git', '7'])
    expect(lines(warnings(result.diagnostics))).toEqual([
      expect.stringMatching(/^bentofile\.yaml:3:5 include\[0\]: expected a string, got int 123/),
      expect.stringMatching(/^bentofile\.yaml:5:26 docker\.system_packages\[1\]: expected a string, got int 7; BentoML reads it as '7'/),
    ])
  })

  it('rejects non-boolean lock_packages', () => {
    const d = oneError('service: svc\npython:\n  lock_packages: "false"\n')
    expect(lines([d])[0]).toMatch(/^bentofile\.yaml:3:18 python\.lock_packages: expected true or false, got str "false"/)
  })

  it('resolves scalars like PyYAML: y/n and 1e5 stay strings, 09 is not an int', () => {
    const result = parse('service: svc\nlabels:\n  a: y\n  b: n\n  c: 1e5\n  d: "09"\n  e: 09\n  f: 0x1F\n  g: 1:20\n')
    expect(result.config?.labels).toEqual({a: 'y', b: 'n', c: '1e5', d: '09', e: '09', f: '31', g: '80'})
  })

  it('reads YAML 1.1 booleans like PyYAML (yes/no/on/off)', () => {
    const result = parse('service: svc\npython:\n  lock_packages: no\n  pack_git_packages: yes\n')
    expect(result.config?.python.lock_packages).toBe(false)
    expect(result.config?.python.pack_git_packages).toBe(true)
  })

  it('coerces label values to Python str() and warns', () => {
    const result = parse('service: svc\nlabels:\n  gpu: true\n  count: 3\n  ratio: 1.0\n  nothing: null\n  owner: me\n')
    expect(errors(result.diagnostics)).toEqual([])
    expect(result.config?.labels).toEqual({gpu: 'True', count: '3', ratio: '1.0', nothing: 'None', owner: 'me'})
    const w = warnings(result.diagnostics)
    expect(w.map((d) => d.key)).toEqual(['labels.gpu', 'labels.count', 'labels.ratio', 'labels.nothing'])
    expect(lines(w)[0]).toMatch(/^bentofile\.yaml:3:8 labels\.gpu: value bool true is not a string; BentoML stores it as 'True'/)
  })

  it('rejects nested label values', () => {
    const d = oneError('service: svc\nlabels:\n  team:\n    name: x\n')
    expect(d.key).toBe('labels.team')
  })
})

describe('parseBuildConfig: unknown keys', () => {
  it('reports every unknown key with its position and a suggestion', () => {
    const text = [
      'service: svc',
      'labls:',
      '  a: b',
      'docker:',
      '  distor: debian',
      'python:',
      '  requirements.txt: requirements.txt',
      '  pakages: [numpy]',
      'conda:',
      '  channel: [conda-forge]',
      '',
    ].join('\n')
    const result = parse(text)
    expect(result.config).toBeUndefined()
    const errs = errors(result.diagnostics)
    expect(lines(errs)).toEqual([
      "bentofile.yaml:2:1 labls: unknown top-level key 'labls'",
      "bentofile.yaml:5:3 docker.distor: unknown key 'distor' in docker",
      "bentofile.yaml:7:3 python.requirements.txt: unknown key 'requirements.txt' in python",
      "bentofile.yaml:8:3 python.pakages: unknown key 'pakages' in python",
      "bentofile.yaml:10:3 conda.channel: unknown key 'channel' in conda",
    ])
    expect(errs.map((d) => d.hint)).toEqual([
      "did you mean 'labels'?",
      "did you mean 'distro'?",
      "did you mean 'requirements_txt'?",
      "did you mean 'packages'?",
      "did you mean 'channels'?",
    ])
  })

  it('says where a key belongs when it is in the wrong section', () => {
    const d = oneError('service: svc\npackages: [numpy]\n')
    expect(d.hint).toBe("'packages' belongs under 'python:' (python.packages)")
  })

  it('explains well-known mistakes (version, env)', () => {
    const result = parse('service: svc\nversion: 1.0.0\nenv:\n  A: b\n')
    const errs = errors(result.diagnostics)
    expect(errs.map((d) => d.key)).toEqual(['version', 'env'])
    expect(errs[0]?.hint).toMatch(/--version/)
    expect(errs[1]?.hint).toMatch(/envs/)
  })

  it('lists the known keys when nothing is close', () => {
    const d = oneError('service: svc\ndocker:\n  user: bentoml\n')
    expect(d.hint).toMatch(/^known keys: distro, python_version/)
  })
})

describe('parseBuildConfig: docker', () => {
  it('rejects an unknown distro with a suggestion', () => {
    const d = oneError('service: svc\ndocker:\n  distro: debain\n')
    expect(lines([d])[0]).toBe("bentofile.yaml:3:11 docker.distro: 'debain' is not one of 'debian', 'alpine', 'ubi8', 'amazonlinux'")
    expect(d.hint).toBe("did you mean 'debian'?")
  })

  it('rejects a python_version that is not major.minor', () => {
    const d = oneError('service: svc\ndocker:\n  python_version: "three"\n')
    expect(lines([d])[0]).toMatch(/^bentofile\.yaml:3:19 docker\.python_version: Invalid build option: docker\.python_version="three"/)
  })

  it('rejects an unquoted 3.10, which YAML reads as 3.1', () => {
    const d = oneError('service: svc\ndocker:\n  python_version: 3.10\n')
    expect(d.message).toMatch(/read by YAML as the number 3\.1/)
    expect(d.hint).toBe('quote it: python_version: "3.10"')
  })

  it('accepts an unquoted 3.11 with a warning, and truncates a patch level with a warning', () => {
    const a = parse('service: svc\ndocker:\n  python_version: 3.11\n')
    expect(a.config?.docker.python_version).toBe('3.11')
    expect(warnings(a.diagnostics).map((d) => d.key)).toEqual(['docker.python_version'])
    const b = parse('service: svc\ndocker:\n  python_version: "3.12.4"\n')
    expect(b.config?.docker.python_version).toBe('3.12')
    expect(warnings(b.diagnostics)[0]?.message).toMatch(/latest 'python3\.12' instead of the specified 'python3\.12\.4'/)
  })

  it('rejects a Python the distro does not support when the distro is given', () => {
    const d = oneError('service: svc\ndocker:\n  distro: debian\n  python_version: "3.8"\n')
    expect(lines([d])[0]).toMatch(/^bentofile\.yaml:4:19 docker\.python_version: 3\.8 is not supported for debian/)
  })

  it('rejects it too when the distro is left to its default (BentoML checks again after filling in debian)', () => {
    // Observed: `bentoml build` 1.4.15 and 1.4.40 both fail with "3.8 is not supported for debian. …".
    const d = oneError('service: svc\ndocker:\n  python_version: "3.8"\n')
    expect(lines([d])[0]).toMatch(/^bentofile\.yaml:3:19 docker\.python_version: 3\.8 is not supported for debian\. Supported python versions are: 3\.9/)
  })

  it('maps cuda_version like v1.4.15 (default → 11.6.2, short forms → full)', () => {
    const cuda = (v: string) => parse(`service: svc\ndocker:\n  cuda_version: ${v}\n`).config?.docker.cuda_version
    expect(cuda('default')).toBe('11.6.2')
    expect(cuda('"11.6"')).toBe('11.6.2')
    expect(cuda('"12"')).toBe('12.1.1')
    expect(cuda('11')).toBe('11.8.0')
    expect(cuda('""')).toBeNull()
    expect(cuda('null')).toBeNull()
  })

  it('rejects an unsupported or unquoted-float cuda_version', () => {
    expect(oneError('service: svc\ndocker:\n  cuda_version: "11.7.0"\n').message).toMatch(/^Unsupported cuda version: "11\.7\.0"/)
    expect(oneError('service: svc\ndocker:\n  cuda_version: 11.6\n').hint).toBe('quote it: cuda_version: "11.6"')
  })

  it('rejects CUDA on a distro without CUDA images', () => {
    const d = oneError('service: svc\ndocker:\n  distro: alpine\n  cuda_version: "11.6"\n')
    expect(d.message).toMatch(/Distro "alpine" does not support CUDA/)
    expect(d.key).toBe('docker.cuda_version')
  })

  it('warns that distro/python_version/cuda_version/system_packages are ignored with base_image', () => {
    const result = parse(
      'service: svc\ndocker:\n  base_image: my/image:1\n  distro: debian\n  python_version: "3.11"\n  cuda_version: "12"\n  system_packages: [git]\n',
    )
    expect(errors(result.diagnostics)).toEqual([])
    expect(warnings(result.diagnostics).map((d) => d.key)).toEqual(['docker.distro', 'docker.python_version', 'docker.cuda_version', 'docker.system_packages'])
    expect(warnings(result.diagnostics)[0]?.message).toBe("docker.base_image 'my/image:1' is used, so 'distro' is ignored")
  })

  it('leaves distro and python_version unset when base_image is set and they are not given', () => {
    const result = parse('service: svc\ndocker:\n  base_image: my/image:1\n')
    expect(result.config?.docker).toMatchObject({distro: null, python_version: null, base_image: 'my/image:1'})
  })

  it('rejects amazonlinux, which DistroSpec cannot build in 1.4.15', () => {
    expect(oneError('service: svc\ndocker:\n  distro: amazonlinux\n').key).toBe('docker.distro')
  })

  it('normalizes docker.env from a mapping, a KEY=VALUE list, or a dotenv file', () => {
    expect(parse('service: svc\ndocker:\n  env:\n    A: 1\n    B: x\n').config?.docker.env).toEqual({A: '1', B: 'x'})
    expect(parse('service: svc\ndocker:\n  env:\n    - A=1\n    - B=some/path\n').config?.docker.env).toEqual({A: '1', B: 'some/path'})
    expect(parse('service: svc\ndocker:\n  env: {}\n').config?.docker.env).toBeNull()
    const files: Record<string, string> = {'./.env': 'A=1\nexport B="two words"\n# comment\nC=${A}x\n'}
    const withFile = parse('service: svc\ndocker:\n  env: ./.env\n', {readFile: (p) => files[p]})
    expect(withFile.config?.docker.env).toEqual({A: '1', B: 'two words', C: '1x'})
    const missing = oneError('service: svc\ndocker:\n  env: ./missing.env\n', {readFile: (p) => files[p]})
    expect(lines([missing])[0]).toBe("bentofile.yaml:3:8 docker.env: './missing.env' is not a valid '.env' file path")
  })

  it('rejects docker.env list items that are not KEY=VALUE', () => {
    const result = parse('service: svc\ndocker:\n  env:\n    - A=1\n    - "B=has space"\n    - C\n')
    expect(errors(result.diagnostics).map((d) => `${d.key}@${d.line}`)).toEqual(['docker.env[1]@5', 'docker.env[2]@6'])
    expect(errors(result.diagnostics)[0]?.message).toMatch(/must follow format ENV=VALUE/)
  })

  it('rejects an inline script as setup_script', () => {
    expect(oneError('service: svc\ndocker:\n  setup_script: |\n    apt-get update\n    apt-get install -y git\n').key).toBe('docker.setup_script')
  })
})

describe('parseBuildConfig: envs, models, include, name', () => {
  it('rejects envs entries without a name, and accepts name-only entries', () => {
    const result = parse('service: svc\nenvs:\n  - name: OK\n  - value: orphan\n  - name: ALSO_OK\n    value: x\n')
    const errs = errors(result.diagnostics)
    expect(lines(errs)).toEqual(['bentofile.yaml:4:5 envs[1]: envs entry has no name'])
    expect(errs[0]?.hint).toMatch(/name:/)
  })

  it('fills envs defaults (value "", stage all) and docker.env from envs', () => {
    const result = parse('service: svc\nenvs:\n  - name: A\n  - name: B\n    value: b\n    stage: build\n')
    expect(result.config?.envs).toEqual([
      {name: 'A', value: '', stage: 'all'},
      {name: 'B', value: 'b', stage: 'build'},
    ])
    expect(result.config?.docker.env).toEqual({A: '', B: 'b'})
  })

  it('keeps docker.env when given, instead of filling it from envs', () => {
    const result = parse('service: svc\nenvs:\n  - name: A\ndocker:\n  env:\n    X: y\n')
    expect(result.config?.docker.env).toEqual({X: 'y'})
  })

  it('stores a null env value as "None" like cattrs, with a warning; rejects a bad stage', () => {
    const result = parse('service: svc\nenvs:\n  - name: A\n    value:\n  - name: B\n    stage: later\n')
    expect(errors(result.diagnostics).map((d) => d.key)).toEqual(['envs[1].stage'])
    expect(warnings(result.diagnostics).map((d) => d.key)).toEqual(['envs[0].value'])
  })

  it('rejects envs written as a mapping or as KEY=VALUE strings', () => {
    expect(oneError('service: svc\nenvs:\n  A: b\n').key).toBe('envs')
    expect(oneError('service: svc\nenvs:\n  - A=b\n').hint).toBe('write "- name: A" and "value: b"')
  })

  it('turns model strings into {tag} and validates mappings', () => {
    const ok = parse('service: svc\nmodels:\n  - iris:latest\n  - tag: "flower:abc"\n    alias: flower\n')
    expect(ok.config?.models).toEqual([{tag: 'iris:latest'}, {tag: 'flower:abc', alias: 'flower'}])
    // Not given, null or empty all mean "the models the service declares".
    expect(parse('service: svc\nmodels: []\n').config?.models).toBeNull()
    expect(parse('service: svc\nmodels:\n').config?.models).toBeNull()
    const bad = parse('service: svc\nmodels:\n  - tag: a\n    name: b\n  - alias: x\n  - "bad tag!"\n')
    expect(errors(bad.diagnostics).map((d) => d.key)).toEqual(['models[0].name', 'models[1]', 'models[2]'])
  })

  it('rejects ../ includes with BentoML’s message, per entry', () => {
    const result = parse('service: svc\ninclude:\n  - "*.py"\n  - "../shared/**"\n')
    const errs = errors(result.diagnostics)
    expect(lines(errs)).toEqual([
      'bentofile.yaml:4:5 include[1]: Paths outside of the build context directory cannot be included; use a symlink or copy those files into the working directory manually.',
    ])
  })

  it('validates name as a Bento tag: lowercases with a warning, rejects bad characters and length', () => {
    const upper = parse('service: svc\nname: MyBento\n')
    expect(upper.config?.name).toBe('MyBento')
    expect(warnings(upper.diagnostics)[0]?.message).toBe("Bento name 'MyBento' is converted to lowercase: 'mybento'")
    const bad = oneError('service: svc\nname: "my bento!"\n')
    expect(lines([bad])[0]).toMatch(/^bentofile\.yaml:2:7 name: 'my bento!' is not a valid Bento name/)
    expect(bad.hint).toBe("for example 'my-bento'")
    expect(oneError(`service: svc\nname: ${'a'.repeat(64)}\n`).message).toMatch(/at most 63 characters/)
    expect(parse(`service: svc\nname: ${'a'.repeat(63)}\n`).config?.name).toHaveLength(63)
  })
})

describe('parseBuildConfig: python and conda', () => {
  it('wraps a single string for trusted_host/find_links/extra_index_url', () => {
    const result = parse('service: svc\npython:\n  trusted_host: example.com\n  extra_index_url: [https://a, https://b]\n')
    expect(result.config?.python.trusted_host).toEqual(['example.com'])
    expect(result.config?.python.extra_index_url).toEqual(['https://a', 'https://b'])
  })

  it('defaults lock_packages to false when pack_git_packages is false', () => {
    expect(parse('service: svc\npython:\n  pack_git_packages: false\n').config?.python).toMatchObject({lock_packages: false, pack_git_packages: false})
    expect(parse('service: svc\npython:\n  lock_packages: false\n').config?.python).toMatchObject({lock_packages: false, pack_git_packages: true})
  })

  it('leaves packages beside requirements_txt to the plan: whether they are ignored depends on the target (src/bento/plan.test.ts)', () => {
    const result = parse('service: svc\npython:\n  requirements_txt: req.txt\n  packages: [numpy]\n')
    expect(warnings(result.diagnostics)).toEqual([])
    expect(result.config?.python).toMatchObject({requirements_txt: 'req.txt', packages: ['numpy']})
  })

  it('defaults conda channels to conda-forge and validates the pip entry', () => {
    const ok = parse('service: svc\nconda:\n  dependencies:\n    - numpy\n    - pip:\n        - requests\n')
    expect(ok.config?.conda).toEqual({environment_yml: null, channels: ['conda-forge'], dependencies: ['numpy', {pip: ['requests']}], pip: null})
    const bad = parse('service: svc\nconda:\n  dependencies:\n    - other: [x]\n  pip: [y]\n')
    expect(errors(bad.diagnostics).map((d) => d.key)).toEqual(['conda.dependencies[0]'])
  })

  it('rejects conda on a distro without conda images', () => {
    const d = oneError('service: svc\ndocker:\n  distro: ubi8\nconda:\n  dependencies: [numpy]\n')
    expect(d.message).toMatch(/ubi8 does not support conda/)
  })
})

describe('parseBuildConfig: all problems at once', () => {
  it('reports every problem in one pass, each with file:line:col and key path', () => {
    const text = [
      'service: svc',
      'name: "Bad Name"',
      'include: "*.py"',
      'exclude:',
      '  - "*.pyc"',
      'docker:',
      '  distro: ubuntu',
      '  python_version: "py3"',
      '  colour: red',
      'envs:',
      '  - value: x',
      'python:',
      '  packages: numpy',
      '',
    ].join('\n')
    const result = parse(text)
    expect(result.config).toBeUndefined()
    expect(lines(errors(result.diagnostics))).toEqual([
      expect.stringMatching(/^bentofile\.yaml:2:7 name: 'Bad Name' is not a valid Bento name/),
      expect.stringMatching(/^bentofile\.yaml:3:10 include: expected a list of strings/),
      "bentofile.yaml:9:3 docker.colour: unknown key 'colour' in docker",
      "bentofile.yaml:7:11 docker.distro: 'ubuntu' is not one of 'debian', 'alpine', 'ubi8', 'amazonlinux'",
      expect.stringMatching(/^bentofile\.yaml:8:19 docker\.python_version: Invalid build option/),
      expect.stringMatching(/^bentofile\.yaml:13:13 python\.packages: expected a list of strings/),
      'bentofile.yaml:11:5 envs[0]: envs entry has no name',
    ])
    for (const d of errors(result.diagnostics)) expect(d.hint, d.message).toBeTruthy()
  })

  it('warns about duplicate keys (PyYAML keeps the last one)', () => {
    const result = parse('service: a\nservice: b\n')
    expect(result.config?.service).toBe('b')
    expect(lines(warnings(result.diagnostics))).toEqual(["bentofile.yaml:2:1 service: duplicate key 'service'; the last value wins"])
  })

  it('follows anchors and aliases', () => {
    const result = parse('service: svc\nlabels: &l\n  a: b\nargs:\n  copy: *l\n')
    expect(result.config?.args).toEqual({copy: {a: 'b'}})
  })

  // yaml's toJS resolves each alias by a walk of every alias and anchor before it: a 128 KB bentofile of 32,000
  // aliases took 12.5 s to read.
  it('reads many aliases without resolving them one by one', () => {
    const resolve = vi.spyOn(Alias.prototype, 'resolve')
    try {
      const result = parse(`service: svc\nlabels: &l\n  a: b\nargs:\n  many: [${Array(1000).fill('*l').join(', ')}]\n`)
      expect((result.config?.args as {many: unknown[]}).many).toHaveLength(1000)
      expect(resolve).not.toHaveBeenCalled()
    } finally {
      resolve.mockRestore()
    }
  })
})
