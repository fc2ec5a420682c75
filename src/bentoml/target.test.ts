import {describe, expect, it} from 'vitest'

import {ConfigError, UsageError} from '../errors.js'
import {type BentomlRequirement, chooseTarget, type TargetInputs} from './target.js'
import {bentomlFacts, isKnownBentomlVersion, KNOWN_BENTOML_VERSIONS, NEWEST_BENTOML} from './versions.js'

const req = (raw: string, specifier: string, extra: Partial<BentomlRequirement> = {}): BentomlRequirement => ({
  raw,
  specifier,
  url: false,
  file: 'requirements.txt',
  line: 3,
  ...extra,
})

const base = (over: Partial<TargetInputs> = {}): TargetInputs => ({
  style: 'sdk',
  serviceAt: {file: 'service.py', line: 7},
  requirements: [],
  models: [],
  configFile: 'bentofile.yaml',
  ...over,
})

function thrown(fn: () => unknown): Error & {diagnostics?: Array<{message: string; line?: number; file: string; hint?: string}>} {
  try {
    fn()
  } catch (error) {
    return error as Error
  }
  throw new Error('expected an error')
}

describe('known BentoML releases', () => {
  it('are 1.3.0–1.4.40 as on PyPI', () => {
    expect(KNOWN_BENTOML_VERSIONS[0]).toBe('1.3.0')
    expect(isKnownBentomlVersion('1.3.5')).toBe(true)
    expect(isKnownBentomlVersion('1.3.22')).toBe(true)
    // 1.3.4 was published only as 1.3.4.post1
    expect(isKnownBentomlVersion('1.3.4')).toBe(false)
    expect(isKnownBentomlVersion('1.3.4.post1')).toBe(true)
    expect(isKnownBentomlVersion('1.3.23')).toBe(false)
    expect(isKnownBentomlVersion('1.2.20')).toBe(false)
    expect(KNOWN_BENTOML_VERSIONS.at(-1)).toBe(NEWEST_BENTOML)
    expect(isKnownBentomlVersion('1.4.15')).toBe(true)
    expect(isKnownBentomlVersion('1.4.15.0')).toBe(true)
    expect(isKnownBentomlVersion('1.4.15rc1')).toBe(false)
    expect(isKnownBentomlVersion('1.4.15.post1')).toBe(false)
    expect(isKnownBentomlVersion('1.4.9')).toBe(false)
    expect(isKnownBentomlVersion('1.4.41')).toBe(false)
  })

  it('know what each release reads and writes', () => {
    expect(bentomlFacts('1.4.15')).toMatchObject({servesRunnerStyle: true, hasLegacyModule: false, pythonIsSrcLayout: false, envStage: false, needsSetuptoolsBelow81: true})
    expect(bentomlFacts('1.4.16')).toMatchObject({servesRunnerStyle: false, hasLegacyModule: true})
    expect(bentomlFacts('1.4.20').needsSetuptoolsBelow81).toBe(false)
    expect(bentomlFacts('1.4.31').envStage).toBe(true)
    expect([bentomlFacts('1.4.32').imageBuildInclude, bentomlFacts('1.4.36').imageBuildInclude]).toEqual([false, true])
    expect([bentomlFacts('1.4.37').pythonIsSrcLayout, bentomlFacts('1.4.38').pythonIsSrcLayout]).toEqual([false, true])
  })

  it('know the three 1.3.x layouts (issue 16): spec 2 by default from 1.3.21, `spec:` from 1.3.10, dependency info and registries from 1.3.6', () => {
    const f = (v: string): Partial<ReturnType<typeof bentomlFacts>> => bentomlFacts(v)
    expect(f('1.3.22')).toMatchObject({sdkSpec2: true, sdkImage: true, specKey: true, dependencyInfo: true, huggingfaceModels: true, bentoArgs: false, schemaPaths: false, serviceLabels: false, imageScripts: true, requirementsIn: false, servesRunnerStyle: true, hasLegacyModule: false, envStage: false, imageBuildInclude: false, needsSetuptoolsBelow81: true})
    expect(f('1.3.20')).toMatchObject({sdkSpec2: false, sdkImage: true, specKey: true, dependencyInfo: true})
    expect(f('1.3.9')).toMatchObject({sdkSpec2: false, sdkImage: false, specKey: false, dependencyInfo: true, huggingfaceModels: true})
    expect(f('1.3.5')).toMatchObject({sdkSpec2: false, sdkImage: false, specKey: false, dependencyInfo: false, huggingfaceModels: false})
    expect(f('1.4.0')).toMatchObject({sdkSpec2: true, specKey: true, dependencyInfo: true, bentoArgs: true, schemaPaths: true, serviceLabels: true, imageScripts: false, requirementsIn: true})
  })
})

describe('chooseTarget', () => {
  it('defaults to the newest known release for SDK services without models', () => {
    expect(chooseTarget(base())).toMatchObject({version: '1.4.40', source: 'default', pinnedByUser: false, warnings: []})
  })

  it('takes the newest BentoML that saved the models', () => {
    const t = chooseTarget(base({models: [{tag: 'a:1', bentomlVersion: '1.4.22'}, {tag: 'b:1', bentomlVersion: '1.4.38'}, {tag: 'c:1', bentomlVersion: null}]}))
    expect(t).toMatchObject({version: '1.4.38', source: 'models'})
  })

  it('--bentoml-version wins over the models, an exact pin wins over the flag', () => {
    const models = [{tag: 'a:1', bentomlVersion: '1.4.22'}]
    expect(chooseTarget(base({models, flag: '1.4.30'}))).toMatchObject({version: '1.4.30', source: 'flag'})
    expect(chooseTarget(base({models, requirements: [req('bentoml[io]==1.4.25', '==1.4.25')]}))).toMatchObject({
      version: '1.4.25',
      source: 'requirements',
      pinnedByUser: true,
    })
  })

  it('an exact pin and a different flag contradict each other', () => {
    const e = thrown(() => chooseTarget(base({flag: '1.4.30', requirements: [req('bentoml==1.4.25', '==1.4.25')]})))
    expect(e).toBeInstanceOf(ConfigError)
    expect(e.message).toMatch(/requirements\.txt:3.*\n.*pins bentoml 1\.4\.25 but --bentoml-version asks for 1\.4\.30/)
  })

  it('an unknown flag is a usage error; an unknown pin names its line', () => {
    expect(thrown(() => chooseTarget(base({flag: '1.4.99'})))).toBeInstanceOf(UsageError)
    expect(thrown(() => chooseTarget(base({flag: '1.4.15rc1'})))).toBeInstanceOf(UsageError)
    const e = thrown(() => chooseTarget(base({requirements: [req('bentoml==2.0.0', '==2.0.0')]})))
    expect(e).toBeInstanceOf(ConfigError)
    expect(e.diagnostics?.[0]).toMatchObject({file: 'requirements.txt', line: 3})
    expect(e.message).toMatch(/pins bentoml 2\.0\.0, a release bento does not know/)
  })

  it('checks a range against the target with PEP 440 (the pin is added by the caller)', () => {
    expect(chooseTarget(base({requirements: [req('bentoml>=1.4.22', '>=1.4.22')]}))).toMatchObject({version: '1.4.40', pinnedByUser: false})
    const e = thrown(() => chooseTarget(base({flag: '1.4.15', requirements: [req('bentoml>=1.4.22', '>=1.4.22')]})))
    expect(e.message).toMatch(/"bentoml>=1\.4\.22" excludes bentoml 1\.4\.15, the target \(from --bentoml-version\)/)
    // 1.4.15rc1 is not 1.4.15: `!=1.4.15rc1` admits 1.4.15
    expect(chooseTarget(base({flag: '1.4.15', requirements: [req('bentoml!=1.4.15rc1', '!=1.4.15rc1')]})).version).toBe('1.4.15')
  })

  it('runner-style services default to 1.4.15, also when the models were saved by a newer BentoML', () => {
    expect(chooseTarget(base({style: 'runner'}))).toMatchObject({version: '1.4.15', warnings: []})
    const t = chooseTarget(base({style: 'runner', models: [{tag: 'iris:1', bentomlVersion: '1.4.40'}]}))
    expect(t.version).toBe('1.4.15')
    expect(t.warnings.map((w) => w.message)).toEqual([expect.stringMatching(/model iris:1 was saved with BentoML 1\.4\.40, newer than the target 1\.4\.15/)])
  })

  it('asking a newer target for a runner-style service is an error that says what to do', () => {
    for (const over of [{flag: '1.4.16'}, {requirements: [req('bentoml==1.4.40', '==1.4.40')]}]) {
      const e = thrown(() => chooseTarget(base({style: 'runner', ...over})))
      expect(e).toBeInstanceOf(ConfigError)
      expect(e.diagnostics?.[0]).toMatchObject({file: 'service.py', line: 7})
      expect(e.message).toMatch(/served only by BentoML up to 1\.4\.15/)
      expect(e.diagnostics?.[0]?.hint).toMatch(/bentoml\.legacy\.Service.*--bentoml-version 1\.4\.15/)
    }
  })

  it('a range that excludes 1.4.15 on a runner-style service says how to get out', () => {
    const e = thrown(() => chooseTarget(base({style: 'runner', requirements: [req('bentoml>=1.4.22', '>=1.4.22')]})))
    expect(e.message).toMatch(/excludes bentoml 1\.4\.15, the target \(the last release that serves runner-style services\)/)
    expect(e.diagnostics?.[0]?.hint).toMatch(/bentoml\.legacy\.Service/)
  })

  it('bentoml.legacy.Service is not capped, but needs 1.4.16+', () => {
    expect(chooseTarget(base({style: 'legacy'})).version).toBe('1.4.40')
    const t = chooseTarget(base({style: 'legacy', models: [{tag: 'iris:1', bentomlVersion: '1.4.15'}]}))
    expect(t.version).toBe('1.4.16')
    expect(t.warnings[0]?.message).toMatch(/has no bentoml\.legacy/)
    expect(thrown(() => chooseTarget(base({style: 'legacy', flag: '1.4.15'}))).message).toMatch(/bentoml\.legacy\.Service exists from BentoML 1\.4\.16/)
  })

  it('warns about models newer than the target only when there are models', () => {
    expect(chooseTarget(base({flag: '1.4.22'})).warnings).toEqual([])
    const t = chooseTarget(base({flag: '1.4.22', models: [{tag: 'm:1', bentomlVersion: '1.4.40'}]}))
    expect(t.warnings.map((w) => w.message)).toEqual([expect.stringMatching(/saved with BentoML 1\.4\.40, newer than the target 1\.4\.22/)])
  })

  it('models saved by a release newer than any known one need --bentoml-version', () => {
    const e = thrown(() => chooseTarget(base({models: [{tag: 'm:1', bentomlVersion: '1.5.0'}]})))
    expect(e.message).toMatch(/newer than any release bento knows/)
    expect(chooseTarget(base({flag: '1.4.40', models: [{tag: 'm:1', bentomlVersion: '1.5.0'}]})).version).toBe('1.4.40')
  })

  it('a 1.3.x pin is a target (issue 16: bentoml==1.3.5 / 1.3.7 / 1.3.1 in real projects)', () => {
    for (const v of ['1.3.1', '1.3.5', '1.3.7', '1.3.22']) {
      expect(chooseTarget(base({requirements: [req(`bentoml==${v}`, `==${v}`)]}))).toMatchObject({version: v, source: 'requirements', pinnedByUser: true})
    }
    expect(chooseTarget(base({flag: '1.3.22'}))).toMatchObject({version: '1.3.22', source: 'flag'})
    // 1.3.x still imports runner-style services
    expect(chooseTarget(base({style: 'runner', requirements: [req('bentoml==1.3.5', '==1.3.5')]})).version).toBe('1.3.5')
  })

  it('a pin bento has no facts for (1.2.x, 1.3.23) stays an error naming the file and line', () => {
    for (const v of ['1.2.20', '1.3.23']) {
      const e = thrown(() => chooseTarget(base({requirements: [req(`bentoml==${v}`, `==${v}`, {file: 'pyproject.toml', line: 8})]})))
      expect(e).toBeInstanceOf(ConfigError)
      expect(e.diagnostics?.[0]).toMatchObject({file: 'pyproject.toml', line: 8})
      expect(e.message).toMatch(new RegExp(`pins bentoml ${v.replaceAll('.', '\\.')}, a release bento does not know`))
      expect(e.diagnostics?.[0]?.hint).toMatch(/1\.3\.0–1\.3\.22/)
    }
  })

  it('a range only 1.3.x satisfies targets the newest 1.3.x it admits; a range nothing known admits stays an error', () => {
    expect(chooseTarget(base({requirements: [req('bentoml<1.4', '<1.4')]}))).toMatchObject({version: '1.3.22', source: 'requirements', pinnedByUser: false})
    expect(chooseTarget(base({requirements: [req('bentoml>=1.3,<1.4', '>=1.3,<1.4'), req('bentoml!=1.3.22', '!=1.3.22')]})).version).toBe('1.3.21')
    expect(chooseTarget(base({requirements: [req('bentoml~=1.3.5', '~=1.3.5')]})).version).toBe('1.3.22')
    const e = thrown(() => chooseTarget(base({requirements: [req('bentoml<1.3', '<1.3')]})))
    expect(e.message).toMatch(/"bentoml<1\.3" excludes bentoml 1\.4\.40/)
  })

  it('models saved by an older BentoML (1.3) leave the default, with a note; dev builds count as their release', () => {
    const t = chooseTarget(base({models: [{tag: 'm:1', bentomlVersion: '1.3.22'}]}))
    expect(t.version).toBe('1.4.40')
    expect(t.warnings).toHaveLength(1)
    expect(chooseTarget(base({models: [{tag: 'm:1', bentomlVersion: '1.4.22.dev3+g1234abc'}]})).version).toBe('1.4.22')
    expect(chooseTarget(base({models: [{tag: 'm:1', bentomlVersion: '1.4.9'}]})).version).toBe('1.4.10')
  })

  it('a direct reference adds no pin and says so', () => {
    const t = chooseTarget(base({requirements: [req('bentoml @ git+https://github.com/bentoml/BentoML', '', {url: true})]}))
    expect(t).toMatchObject({version: '1.4.40', directReference: true})
    expect(t.warnings[0]?.message).toMatch(/direct reference/)
  })

  it('two different exact pins contradict each other', () => {
    const e = thrown(() =>
      chooseTarget(base({requirements: [req('bentoml==1.4.22', '==1.4.22'), req('bentoml==1.4.25', '==1.4.25', {file: 'bentofile.yaml', line: 9, key: 'python.packages[1]'})]})),
    )
    expect(e.message).toMatch(/contradicts "bentoml==1\.4\.22" \(requirements\.txt:3\)/)
  })

  it('two different exact pins: one diagnostic at each pin, so both files and lines are named (issue 16)', () => {
    const e = thrown(() =>
      chooseTarget(base({requirements: [req('bentoml==1.4.11', '==1.4.11'), req('bentoml==1.4.12', '==1.4.12', {file: 'bentofile.yaml', line: 9, key: 'python.packages[1]'})]})),
    ) as ConfigError
    expect(e).toBeInstanceOf(ConfigError)
    expect(e.diagnostics.map((d) => [d.file, d.line, d.key])).toEqual([
      ['requirements.txt', 3, undefined],
      ['bentofile.yaml', 9, 'python.packages[1]'],
    ])
    expect(e.diagnostics[0]?.message).toMatch(/"bentoml==1\.4\.11" pins bentoml 1\.4\.11, which "bentoml==1\.4\.12" \(bentofile\.yaml:9\) contradicts/)
  })

  it('the same exact pin twice, or a pin and a range that admits it, is fine (issue 16)', () => {
    const two = [req('bentoml==1.4.11', '==1.4.11'), req('bentoml==1.4.11', '==1.4.11', {file: 'service.py', line: 4})]
    expect(chooseTarget(base({requirements: two}))).toMatchObject({version: '1.4.11', source: 'requirements', pinnedByUser: true})
    const range = [req('bentoml>=1.4.10', '>=1.4.10'), req('bentoml==1.4.11', '==1.4.11', {file: 'service.py', line: 4})]
    expect(chooseTarget(base({requirements: range}))).toMatchObject({version: '1.4.11', pinnedByUser: true})
  })
})
