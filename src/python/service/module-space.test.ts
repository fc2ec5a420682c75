import {describe, expect, it} from 'vitest'

import {moduleSpace} from './module-space.js'
import {readService} from './service.js'

const SVC = `import bentoml
from pkg.words import greet


@bentoml.service
class Svc:
    @bentoml.api
    def hello(self, name: str) -> str:
        return greet(name)
`
const RELATIVE = SVC.replace('from pkg.words import greet', 'from .words import greet')
const WORDS = 'def greet(name):\n    return "hi " + name\n'

/** A pyproject src layout: src/pkg/{__init__,service,words}.py. */
const srcLayout = (service = SVC): Record<string, string> => ({'src/pkg/__init__.py': '', 'src/pkg/service.py': service, 'src/pkg/words.py': WORDS})

/** readService over the modules as `bento build` lays them out (src layout or not). */
const resolve = (files: Record<string, string>, service: string, srcLayout = false) => {
  const space = moduleSpace(new Map(Object.entries(files)), srcLayout)
  const info = readService({files: space.sources, service, configFile: 'pyproject.toml', isProjectFile: space.isProjectFile})
  return {...info, entryFile: info.entryFile === null ? null : space.projectFile(info.entryFile), errors: info.diagnostics.filter((d) => d.severity === 'error')}
}

describe('moduleSpace: the modules `bentoml build` imports from (sys.path = [build context] + src/ of a src layout)', () => {
  it('keeps every file at its project path and, in a src layout, also at its place in the Bento (src/ flattened)', () => {
    const space = moduleSpace(new Map(Object.entries({...srcLayout(), 'tools.py': ''})), true)
    expect([...space.sources.keys()].sort()).toEqual(['pkg/__init__.py', 'pkg/service.py', 'pkg/words.py', 'src/pkg/__init__.py', 'src/pkg/service.py', 'src/pkg/words.py', 'tools.py'])
    expect(space.projectFile('pkg/words.py')).toBe('src/pkg/words.py')
    expect(space.isProjectFile('src/pkg/words.py')).toBe(true)
    expect(space.isProjectFile('pkg/words.py')).toBe(false)
  })

  it('a file at the build context root wins over a src/ file of the same module (sys.path[0] is the build context)', () => {
    const space = moduleSpace(new Map([['src/pkg/a.py', 'SRC'], ['pkg/a.py', 'ROOT']]), true)
    expect(space.sources.get('pkg/a.py')).toBe('ROOT')
    expect(space.projectFile('pkg/a.py')).toBe('pkg/a.py')
  })

  it('without a src layout the files are only at their project path', () => {
    expect([...moduleSpace(new Map(Object.entries(srcLayout())), false).sources.keys()].sort()).toEqual(['src/pkg/__init__.py', 'src/pkg/service.py', 'src/pkg/words.py'])
  })
})

describe('service paths as BentoML 1.4.40 resolves them (loader._do_import)', () => {
  it('src layout, "src.pkg.service:Svc": the module under src/ (a namespace package from the build context); its own imports by the flattened name', () => {
    const info = resolve(srcLayout(), 'src.pkg.service:Svc', true)
    expect(info.errors).toEqual([])
    expect(info).toMatchObject({kind: 'sdk', module: 'src.pkg.service', importString: 'src.pkg.service:Svc', entryFile: 'src/pkg/service.py'})
    expect(info.services.map((s) => s.name)).toEqual(['Svc'])
  })

  it('src layout, "src.pkg.service:Svc" with a relative import', () => {
    const info = resolve(srcLayout(RELATIVE), 'src.pkg.service:Svc', true)
    expect(info.errors).toEqual([])
    expect(info.importString).toBe('src.pkg.service:Svc')
  })

  it('src layout, "pkg.service:Svc": the flattened module (BentoML imports it when the project is installed)', () => {
    const info = resolve(srcLayout(), 'pkg.service:Svc', true)
    expect(info.errors).toEqual([])
    expect(info).toMatchObject({importString: 'pkg.service:Svc', entryFile: 'src/pkg/service.py'})
  })

  it('src layout, "src/pkg/service.py:Svc": a file path is the module of its path from the build context', () => {
    const info = resolve(srcLayout(), 'src/pkg/service.py:Svc', true)
    expect(info.errors).toEqual([])
    expect(info).toMatchObject({importString: 'src.pkg.service:Svc', entryFile: 'src/pkg/service.py'})
  })

  it('src layout, "pkg/service.py:Svc": not a file of the build context (BentoML takes it for a module name and fails)', () => {
    const info = resolve(srcLayout(), 'pkg/service.py:Svc', true)
    expect(info.errors.map((d) => d.message)).toEqual([expect.stringContaining('"pkg/service.py" not found in the build context')])
  })

  it('"service.py:Svc" is module service; "sub/service.py:Svc" is sub.service with or without sub/__init__.py', () => {
    const svc = SVC.replace('from pkg.words import greet\n', 'greet = str\n')
    expect(resolve({'service.py': svc}, 'service.py:Svc')).toMatchObject({importString: 'service:Svc', errors: []})
    expect(resolve({'sub/service.py': svc}, 'sub/service.py:Svc')).toMatchObject({importString: 'sub.service:Svc', entryFile: 'sub/service.py', errors: []})
    expect(resolve({'sub/service.py': svc}, './sub/service.py:Svc')).toMatchObject({importString: 'sub.service:Svc', errors: []})
    expect(resolve({'sub/__init__.py': '', 'sub/service.py': svc}, 'sub/service.py:Svc')).toMatchObject({importString: 'sub.service:Svc', errors: []})
    expect(resolve({'a/b/service.py': svc}, 'a/b/../b/service.py:Svc')).toMatchObject({importString: 'a.b.service:Svc', errors: []})
  })

  it('a file path outside the build context is refused, as BentoML does', () => {
    const info = resolve({'service.py': SVC}, '../service.py:Svc')
    expect(info.errors.map((d) => d.message)).toEqual([expect.stringContaining('outside the build context')])
  })

  it('classic "service:svc"', () => {
    const legacy = 'import bentoml\nsvc = bentoml.Service("classic")\n'
    expect(resolve({'service.py': legacy}, 'service:svc')).toMatchObject({kind: 'legacy', importString: 'service:svc', entryFile: 'service.py', errors: []})
  })
})
