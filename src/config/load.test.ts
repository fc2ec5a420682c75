import {writeFile} from 'node:fs/promises'
import {tmpdir} from 'node:os'
import path from 'node:path'
import {describe, expect, it} from 'vitest'

import {dirEachTest, writeTree} from '../../test/helpers/files.js'
import {ConfigError, formatDiagnostic} from '../errors.js'
import {loadBuildConfig} from './load.js'

const project = dirEachTest('bento-config-')
const write = async (files: Record<string, string>): Promise<string> => writeTree(project.dir, files)

async function loadError(options: Parameters<typeof loadBuildConfig>[0]): Promise<ConfigError> {
  const error: unknown = await loadBuildConfig(options).then(
    () => undefined,
    (e: unknown) => e,
  )
  expect(error).toBeInstanceOf(ConfigError)
  return error as ConfigError
}

const PYPROJECT = `[project]
name = "Iris_Classifier"
dependencies = ["numpy>=1.26", "pandas"]

[tool.bentoml.build]
service = "service:svc"
include = ["*.py"]

[tool.bentoml.build.labels]
owner = "team"

[tool.bentoml.build.python]
packages = ["scikit-learn"]
`

describe('loadBuildConfig', () => {
  it('reads bentofile.yaml from the project directory', async () => {
    await write({'bentofile.yaml': 'service: "service:svc"\nlabels:\n  a: 1\n'})
    const loaded = await loadBuildConfig({projectDir: project.dir})
    expect(loaded.path).toBe(path.join(project.dir, 'bentofile.yaml'))
    expect(loaded.kind).toBe('bentofile')
    expect(loaded.config.labels).toEqual({a: '1'})
    expect(loaded.warnings.map(formatDiagnostic)).toEqual([expect.stringMatching(/^bentofile\.yaml:3:6 labels\.a: /)])
  })

  it('prefers bentofile.yaml over pyproject.toml', async () => {
    await write({'bentofile.yaml': 'service: from-yaml\n', 'pyproject.toml': PYPROJECT})
    expect((await loadBuildConfig({projectDir: project.dir})).config.service).toBe('from-yaml')
  })

  it('does not read bentofile.yml (BentoML does not): without bentofile.yaml or pyproject.toml, the defaults', async () => {
    await write({'bentofile.yml': 'service: svc\n'})
    const loaded = await loadBuildConfig({projectDir: project.dir})
    expect(loaded.defaults).toBe(true)
    expect(loaded.config).toMatchObject({service: '', name: null, include: ['*'], exclude: [], models: null})
  })

  it('reads [tool.bentoml.build] from pyproject.toml: project name and dependencies', async () => {
    await write({'pyproject.toml': PYPROJECT})
    const loaded = await loadBuildConfig({projectDir: project.dir})
    expect(loaded.kind).toBe('pyproject')
    expect(loaded.config).toMatchObject({
      service: 'service:svc',
      name: 'Iris_Classifier',
      include: ['*.py'],
      labels: {owner: 'team'},
      python: {packages: ['scikit-learn', 'numpy>=1.26', 'pandas'], lock_packages: true},
    })
    expect(loaded.warnings.map((d) => d.message)).toEqual(["Bento name 'Iris_Classifier' is converted to lowercase: 'iris_classifier'"])
    expect(loaded.warnings[0]?.line).toBe(2)
  })

  it('reads a pyproject.toml without [tool.bentoml.build] as BentoML does: its name and dependencies', async () => {
    await write({'pyproject.toml': '[project]\nname = "x"\ndependencies = ["numpy"]\n'})
    const loaded = await loadBuildConfig({projectDir: project.dir})
    expect(loaded).toMatchObject({kind: 'pyproject', defaults: false})
    expect(loaded.config).toMatchObject({service: '', name: 'x', python: {packages: ['numpy']}})
  })

  it('reports pyproject problems with best-effort lines', async () => {
    await write({
      'pyproject.toml': '[project]\nname = "ok"\n\n[tool.bentoml.build]\nservice = "svc"\ninclude = "*.py"\n\n[tool.bentoml.build.docker]\ndistro = "ubuntu"\nuser = "me"\n',
    })
    const error = await loadError({projectDir: project.dir})
    const errors = error.diagnostics.filter((d) => d.severity === 'error').map(formatDiagnostic)
    expect(errors.map((e) => e.split('\n')[0])).toEqual([
      expect.stringMatching(/^pyproject\.toml:6:1 include: expected a list of strings/),
      "pyproject.toml:10:1 docker.user: unknown key 'user' in docker",
      "pyproject.toml:9:1 docker.distro: 'ubuntu' is not one of 'debian', 'alpine', 'ubi8', 'amazonlinux'",
    ])
  })

  it('reports a TOML syntax error with its position', async () => {
    await write({'pyproject.toml': '[tool.bentoml.build]\nservice = "svc\n'})
    const error = await loadError({projectDir: project.dir})
    expect(error.diagnostics[0]).toMatchObject({file: 'pyproject.toml', line: 2, severity: 'error'})
  })

  it('uses -f relative to the project directory, or absolute', async () => {
    await write({'conf/gpu.yaml': 'service: gpu\n', 'other.yaml': 'service: other\n'})
    expect((await loadBuildConfig({projectDir: project.dir, file: 'conf/gpu.yaml'})).config.service).toBe('gpu')
    const abs = await loadBuildConfig({projectDir: project.dir, file: path.join(project.dir, 'other.yaml')})
    expect(abs.config.service).toBe('other')
    expect(abs.path).toBe(path.join(project.dir, 'other.yaml'))
  })

  it('reads -f pyproject.toml as TOML even without the build table', async () => {
    await write({'sub/pyproject.toml': '[project]\nname = "named"\n'})
    const loaded = await loadBuildConfig({projectDir: project.dir, file: 'sub/pyproject.toml'})
    expect(loaded.kind).toBe('pyproject')
    expect(loaded.config).toMatchObject({service: '', name: 'named', python: {packages: []}})
  })

  it('fails with E_CONFIG when -f names a missing file', async () => {
    const error = await loadError({projectDir: project.dir, file: 'nope.yaml'})
    expect(error.code).toBe('E_CONFIG')
    expect(error.message).toBe('bentofile "nope.yaml" not found')
  })

  it('fails with "is a directory" / "is not a regular file" (not "not found") for -f naming a non-file', async () => {
    await write({'conf/bentofile.yaml': 'service: svc\n'})
    const asDir = await loadError({projectDir: project.dir, file: 'conf'})
    expect(asDir.message).toBe('bentofile "conf" is a directory')
    expect(asDir.hint).toContain(`-f ${path.join('conf', 'bentofile.yaml')}`)
    const tmp = await loadError({projectDir: project.dir, file: tmpdir()})
    expect(tmp.message).toBe(`bentofile "${tmpdir()}" is a directory`)
    const devNull = await loadError({projectDir: project.dir, file: '/dev/null'})
    expect(devNull.code).toBe('E_CONFIG')
    expect(devNull.message).toBe('bentofile "/dev/null" is not a regular file')
    expect(devNull.hint).toMatch(/regular file/)
  })

  it('echoes at most ~60 characters of a value (a binary bentofile is not printed back in full)', async () => {
    // 300 bytes of invalid UTF-8 and control characters: one plain YAML scalar, a str at the top level.
    const binary = Buffer.from(Array.from({length: 300}, (_, i) => (i % 3 === 0 ? 0x01 + (i % 8) : 0x80 + (i % 128))))
    await writeFile(path.join(project.dir, 'bentofile.yaml'), binary)
    const error = await loadError({projectDir: project.dir})
    const [top] = error.diagnostics
    // PyYAML (BentoML's reader) refuses its control characters before anything else: said without echoing the file.
    expect(top?.message).toMatch(/^the character U\+0001 is not allowed in YAML for BentoML/)
    expect(error.message.length).toBeLessThan(250)

    const long = 'y'.repeat(300)
    await write({'bentofile.yaml': `service: svc\nlabels: ${long}\ninclude: ${long}\ndocker:\n  system_packages: ${'9'.repeat(300)}\n`})
    const many = await loadError({projectDir: project.dir})
    expect(many.diagnostics.map((d) => d.key)).toEqual(['labels', 'include', 'docker.system_packages'])
    for (const d of many.diagnostics) {
      expect(d.message.length, d.message).toBeLessThan(120)
      expect(d.message).toMatch(/…"?$/)
      expect(d.hint ?? '').not.toContain('y'.repeat(61))
      expect(d.hint ?? '').not.toContain('9'.repeat(61))
    }
    expect(many.diagnostics[0]?.message).toBe(`expected a mapping of strings, got str "${'y'.repeat(59)}…"`)
    // The YAML parser's own messages echo the offending token: capped too.
    await write({'bentofile.yaml': `service: svc\n}${'z'.repeat(300)}\n`})
    const syntax = await loadError({projectDir: project.dir})
    expect(syntax.diagnostics.map((d) => d.message)).toContain(`YAML syntax error: Unexpected scalar token in YAML stream: "${'z'.repeat(59)}…"`)
    for (const d of syntax.diagnostics) expect(d.message.length, d.message).toBeLessThan(130)
    await write({'bentofile.yaml': `service: !${'q'.repeat(300)} svc\n`})
    // An unknown tag is an error (PyYAML's safe_load, BentoML's reader, refuses it), its echo capped.
    const tagged = await loadError({projectDir: project.dir})
    expect(tagged.diagnostics.map((d) => d.message)).toEqual([
      `the tag '!${'q'.repeat(58)}…' cannot be read: BentoML reads YAML with PyYAML's safe_load, which only knows the standard tags`,
    ])
    // A long unknown key: neither the message nor the key path echo it whole.
    await write({'bentofile.yaml': `service: svc\n${'k'.repeat(300)}: 1\n`})
    const [unknown] = (await loadError({projectDir: project.dir})).diagnostics
    expect(unknown?.message).toBe(`unknown top-level key '${'k'.repeat(59)}…'`)
    expect(unknown?.key).toBe(`${'k'.repeat(59)}…`)
    // Values echoed by the field checks (tag names, choices) are capped too.
    await write({'bentofile.yaml': `service: svc\nname: ${'N'.repeat(300)}\ndocker:\n  distro: ${'d'.repeat(300)}\n`})
    const fields = await loadError({projectDir: project.dir})
    const messages = fields.diagnostics.map((d) => d.message)
    expect(messages).toContain(`'${'N'.repeat(59)}…' is not a valid Bento name: it must be at most 63 characters (it has 300)`)
    expect(messages.find((m) => m.startsWith(`'${'d'.repeat(59)}…' is not one of `))).toBeDefined()
    for (const d of fields.diagnostics) expect(d.message + (d.hint ?? ''), d.message).not.toMatch(/(.)\1{63}/)
    // Short values are shown whole.
    await write({'bentofile.yaml': 'service: svc\nlabels: abc\n'})
    expect((await loadError({projectDir: project.dir})).diagnostics[0]?.message).toBe('expected a mapping of strings, got str "abc"')
  })

  it.each([
    ['an alias without its anchor', 'service: svc\nlabels: *nope\n', 2, /alias '\*nope' has no anchor/],
    ['an alias before its anchor', 'service: svc\nlabels: *l\ndescription: &l x\n', 2, /alias '\*l' has no anchor/],
    ['a merge key of a scalar', 'service: svc\ndocker: {<<: 1}\n', 2, /merge key '<<' needs a mapping/],
    ['a merge key of a list', 'service: svc\nx: &x [1]\ndocker: {<<: *x}\n', 3, /merge key '<<' needs a mapping/],
    ['a recursive alias', 'service: svc\nlabels: &l {a: *l}\n', 2, /inside its own anchor/],
    ['a python tag', 'service: svc\nlabels: !!python/object/apply:os.system [true]\n', 2, /tag '!!python\/object\/apply:os.system' cannot be read/],
    [
      'an alias bomb',
      `service: svc\nl0: &a [${'x,'.repeat(99)}x]\nl1: &b [${'*a,'.repeat(99)}*a]\nl2: &c [${'*b,'.repeat(99)}*b]\nlabels: [${'*c,'.repeat(99)}*c]\n`,
      4, // where the expansion passes the limit
      /alias bomb/,
    ],
  ])('reports %s (PyYAML refuses it) as a located E_CONFIG, not a crash (D2)', async (_what, text, line, message) => {
    await write({'bentofile.yaml': text})
    const error = await loadError({projectDir: project.dir})
    const [first] = error.diagnostics.filter((d) => d.severity === 'error')
    expect(first).toMatchObject({file: 'bentofile.yaml', line, message: expect.stringMatching(message)})
  })

  it('still reads aliases and merge keys PyYAML accepts', async () => {
    await write({'bentofile.yaml': 'service: svc\nx-base: &base {owner: team}\nlabels: {<<: *base, stage: dev}\ninclude: &inc ["*.py"]\n'})
    const error = await loadError({projectDir: project.dir})
    // x-base is not a bentofile key (BentoML refuses it too); the aliases themselves are fine.
    expect(error.diagnostics.map((d) => d.key)).toEqual(['x-base'])
    await write({'bentofile.yaml': 'service: svc\nlabels: &l {<<: {owner: team}, stage: dev}\ninclude: &inc ["*.py"]\nexclude: *inc\n'})
    const loaded = await loadBuildConfig({projectDir: project.dir})
    expect(loaded.config.labels).toEqual({owner: 'team', stage: 'dev'})
    expect(loaded.config.exclude).toEqual(['*.py'])
  })

  it('throws one ConfigError carrying every problem', async () => {
    await write({'bentofile.yaml': 'service: svc\ninclude: "*.py"\ndocker:\n  distro: ubuntu\nfoo: 1\n'})
    const error = await loadError({projectDir: project.dir})
    expect(error.code).toBe('E_CONFIG')
    expect(error.exitCode).toBe(3)
    expect(error.diagnostics.filter((d) => d.severity === 'error').map((d) => d.key)).toEqual(['foo', 'include', 'docker.distro'])
    expect(error.message).toMatch(/^bentofile\.yaml is invalid \(3 problems\)\n {2}bentofile\.yaml:5:1 foo: unknown top-level key 'foo'/)
  })

  it('reads a docker.env dotenv file relative to the project directory', async () => {
    await write({'bentofile.yaml': 'service: svc\ndocker:\n  env: ./config/app.env\n', 'config/app.env': 'A=1\nB="x y"\n'})
    expect((await loadBuildConfig({projectDir: project.dir})).config.docker.env).toEqual({A: '1', B: 'x y'})
    await write({'bentofile.yaml': 'service: svc\ndocker:\n  env: ./missing.env\n'})
    const error = await loadError({projectDir: project.dir})
    expect(error.diagnostics[0]).toMatchObject({key: 'docker.env', line: 3, col: 8})
  })

  it('reads a file with a UTF-8 BOM and CRLF line endings', async () => {
    await write({'bentofile.yaml': '\ufeffservice: svc\r\ninclude:\r\n  - "../x"\r\n'})
    const error = await loadError({projectDir: project.dir})
    expect(error.diagnostics[0]).toMatchObject({key: 'include[0]', line: 3, col: 5})
  })
})
