/**
 * A no-op build (issue 20, start-up): the same inputs as a Bento in the store stop as soon as the plan's identity
 * (the version digest) is known: nothing is rendered (no Dockerfile, no install.sh, no bento.yaml), and the result,
 * the warnings and the store are what a full plan reports.
 */
import {mkdir, readdir, rm, writeFile} from 'node:fs/promises'
import {join} from 'node:path'

import {afterAll, beforeAll, describe, expect, it, vi} from 'vitest'

import type {Reporter} from '../reporter.js'

const rendered = vi.hoisted(() => ({dockerfile: 0, installSh: 0}))

// The real templates, counted.
vi.mock(import('../bento/templates.js'), async (importOriginal) => {
  const real = await importOriginal()
  return {
    ...real,
    bentoTemplates: (opts) => {
      const t = real.bentoTemplates(opts)
      return {
        ...t,
        renderDockerfile: (ctx) => {
          rendered.dockerfile++
          return t.renderDockerfile(ctx)
        },
        renderInstallSh: (o) => {
          rendered.installSh++
          return t.renderInstallSh(o)
        },
      }
    },
  }
})

// The unit tier shares a worker between files (isolate: false): an earlier file may have loaded build.js with the
// real templates. Dropping the loaded modules makes this import load them again, with the mock.
vi.resetModules()
const {build} = await import('./build.js')

const quiet: Reporter = {log: () => {}, warn: () => {}, status: () => {}, progress: () => {}}

let root: string

beforeAll(async () => {
  const {tempDir} = await import('../../test/helpers/env.js')
  root = await tempDir('bento-noop-')
})
afterAll(async () => {
  await rm(root, {recursive: true, force: true})
})

async function project(name: string, bentofile: string, service: string): Promise<string> {
  const dir = join(root, name)
  await mkdir(dir, {recursive: true})
  await writeFile(join(dir, 'service.py'), service)
  await writeFile(join(dir, 'bentofile.yaml'), bentofile)
  return dir
}

const LEGACY = 'import bentoml\nfrom bentoml.io import Text\n\nsvc = bentoml.Service("echo")\n\n\n@svc.api(input=Text(), output=Text())\ndef echo(text: str) -> str:\n    return text\n'
const SDK = 'import bentoml\n\n@bentoml.service\nclass Echo:\n    @bentoml.api\n    def echo(self, text: str) -> str:\n        return text\n'

describe('a no-op build', () => {
  for (const [style, service, bentofile] of [
    // Spec 1, with warnings the plan adds (an env stage the target does not know).
    ['runner-style', LEGACY, 'service: "service:svc"\nname: noop-legacy\npython:\n  lock_packages: false\n  packages: [numpy]\nenvs:\n  - name: A\n    value: "1"\n    stage: runtime\n'],
    ['SDK', SDK, 'service: "service:Echo"\nname: noop-sdk\npython:\n  lock_packages: false\n'],
  ] as const) {
    it(`${style}: renders nothing, reports what the first build reported, leaves the store as it was`, async () => {
      const dir = await project(style, bentofile, service)
      const home = join(root, `home-${style}`)
      const opts = {projectDir: dir, home, reporter: quiet, env: {}, now: new Date('2026-01-02T03:04:05Z'), bentomlVersion: style === 'SDK' ? undefined : '1.4.15'}
      rendered.dockerfile = 0
      rendered.installSh = 0
      const first = await build(opts)
      expect(first.created).toBe(true)
      expect(rendered.dockerfile).toBe(1)
      const stored = await readdir(join(home, 'bentos', first.name))

      rendered.dockerfile = 0
      rendered.installSh = 0
      const again = await build({...opts, now: new Date('2026-02-03T04:05:06Z')})
      expect({dockerfile: rendered.dockerfile, installSh: rendered.installSh}).toEqual({dockerfile: 0, installSh: 0})
      expect(again.created).toBe(false)
      const {durationMs: _a, ...a} = again
      const {durationMs: _f, ...f} = first
      expect(a).toEqual({...f, created: false})
      expect(await readdir(join(home, 'bentos', first.name))).toEqual(stored)
    })
  }

  it('an edit is no no-op: the new inputs are planned and written', async () => {
    const dir = await project('edited', 'service: "service:Echo"\nname: noop-edit\npython:\n  lock_packages: false\n', SDK)
    const home = join(root, 'home-edit')
    const opts = {projectDir: dir, home, reporter: quiet, env: {}}
    const first = await build(opts)
    await writeFile(join(dir, 'service.py'), `${SDK}\n# edited\n`)
    rendered.dockerfile = 0
    const second = await build(opts)
    expect(second.created).toBe(true)
    expect(second.version).not.toBe(first.version)
    expect(rendered.dockerfile).toBe(1)
  })
})
