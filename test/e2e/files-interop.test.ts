/**
 * Interop proof for the file selection: on tricky projects, `selectFiles` must pick exactly the files the
 * REAL BentoML 1.4.15 picks (its own `BentoPathSpec`: pathspec gitwildmatch, always-ignored spec,
 * `.bentoignore` specs), walking as BentoML 1.4.20+ does (symlinked directories not walked, symlinked files
 * kept as links). The oracle is test/fixtures/files/bentoml_select.py run with the provisioned venv
 * (`$BENTOML_VENV`, default `.tools/bentoml-venv`, made by scripts/provision/bentoml-venv.sh).
 * A missing venv FAILS this test: CI provisions it.
 */
import {execFile} from 'node:child_process'
import {existsSync} from 'node:fs'
import {mkdtemp, rm} from 'node:fs/promises'
import {tmpdir} from 'node:os'
import {join} from 'node:path'
import {fileURLToPath} from 'node:url'

import {afterAll, beforeAll, describe, expect, it} from 'vitest'

import {selectFiles} from '../../src/bento/files.js'
import {compileGitWildMatch, PathSpec} from '../../src/bento/gitwildmatch.js'
import {ConfigError} from '../../src/errors.js'
import {materialize, PATHS, PATTERNS, PROJECTS, SPECS} from '../fixtures/files/projects.js'

const ROOT = fileURLToPath(new URL('../..', import.meta.url))
const VENV = process.env.BENTOML_VENV ?? join(ROOT, '.tools', 'bentoml-venv')
const PYTHON = join(VENV, 'bin', 'python')
const ORACLE = join(ROOT, 'test', 'fixtures', 'files', 'bentoml_select.py')

type WalkResult<T> = T[] | {error: string}
interface SelectAnswer {
  error?: string
  v1_4_15?: WalkResult<string>
  v1_4_20?: WalkResult<{path: string; symlink: boolean}>
}
interface Answer {
  versions: Record<string, string>
  select: SelectAnswer[]
  match: {patterns: Record<string, string>; specs: string[]}
}

/** Deterministic extra patterns built from tricky tokens (a seeded LCG, so failures reproduce). */
function fuzzPatterns(count: number): string[] {
  const tokens = ['a', 'b', 'x', 'y', '*', '**', '?', '/', '/', '[ab]', '[!a]', '[]x]', '\\*', '!', '#', ' ', '.', '\\ ', '[', 'é']
  let seed = 12345
  const next = (n: number): number => {
    seed = (seed * 48271) % 2147483647 // Park–Miller: exact in doubles
    return seed % n
  }
  const out = new Set<string>()
  for (let tries = 0; out.size < count && tries < count * 20; tries++) {
    const len = 1 + next(5)
    out.add(Array.from({length: len}, () => tokens[next(tokens.length)]).join(''))
  }
  return [...out]
}

function runOracle(request: unknown): Promise<Answer> {
  return new Promise((resolve, reject) => {
    const child = execFile(PYTHON, [ORACLE], {maxBuffer: 64 * 1024 * 1024}, (err, stdout, stderr) => {
      if (err) reject(new Error(`BentoML oracle failed: ${err.message}\n${stderr}`))
      else resolve(JSON.parse(stdout) as Answer)
    })
    child.stdin?.end(JSON.stringify(request))
  })
}

const NO_OPS = ['', '   ', '#comment', '/', 'unclosed[']
const allPatterns = [...new Set([...PATTERNS, ...NO_OPS, ...fuzzPatterns(1500)])]
let tmp = ''
let answer: Answer

beforeAll(async () => {
  if (!existsSync(PYTHON)) {
    throw new Error(
      `The BentoML 1.4.15 reference venv is missing (${PYTHON}). Run scripts/provision/bentoml-venv.sh ` +
        'or point BENTOML_VENV at a venv with bentoml==1.4.15. This interop test does not skip.',
    )
  }
  tmp = await mkdtemp(join(tmpdir(), 'bento-files-interop-'))
  await Promise.all(
    PROJECTS.map(async (p, i) => {
      await materialize(p.tree, join(tmp, String(i), 'ctx'))
      if (p.outside) await materialize(p.outside, join(tmp, String(i), 'outside'))
    }),
  )
  answer = await runOracle({
    select: PROJECTS.map((p, i) => ({ctx: join(tmp, String(i), 'ctx'), include: p.include, exclude: p.exclude})),
    match: {patterns: allPatterns, specs: SPECS, paths: PATHS},
  })
}, 120_000)

afterAll(async () => {
  if (tmp) await rm(tmp, {recursive: true, force: true})
})

describe('file selection equals BentoML 1.4.15 (walk of 1.4.20+)', () => {
  it('runs against bentoml 1.4.15', () => {
    expect(answer.versions.bentoml).toBe('1.4.15')
  })

  PROJECTS.forEach((project, i) => {
    it(project.name, async () => {
      const ctxDir = join(tmp, String(i), 'ctx')
      const py = answer.select[i] as SelectAnswer
      if (project.expectError) {
        expect(py.error, 'BentoML accepted the project').toBeDefined()
        await expect(selectFiles({ctxDir, include: project.include, exclude: project.exclude})).rejects.toBeInstanceOf(
          ConfigError,
        )
        return
      }
      expect(py.error).toBeUndefined()
      const ours = await selectFiles({ctxDir, include: project.include, exclude: project.exclude})
      const v20 = py.v1_4_20
      if (!Array.isArray(v20)) throw new Error(`BentoML 1.4.20-style walk failed: ${v20?.error}`)

      const skipped = project.deliberatelySkipped ?? []
      // The documented deviations are real: BentoML lists them, we skip them with a warning.
      for (const s of skipped) {
        expect(v20.map((e) => e.path)).toContain(s)
        expect(ours.warnings.some((w) => w.file === s && w.severity === 'warning')).toBe(true)
      }
      const expected = v20.filter((e) => !skipped.includes(e.path))
      expect(ours.files.map((f) => f.rel)).toEqual(expected.map((e) => e.path))
      expect(ours.files.map((f) => f.symlinkTarget !== undefined)).toEqual(expected.map((e) => e.symlink))

      if (!project.symlinks) {
        // Without symlinks both BentoML walks agree, and so must we.
        expect(ours.files.map((f) => f.rel)).toEqual(py.v1_4_15)
      }
    })
  })

  it('1.4.15 differs only by following symlinked directories (why the 1.4.20+ walk is the reference)', () => {
    const i = PROJECTS.findIndex((p) => p.name.startsWith('symlinked file and symlinked directory'))
    const py = answer.select[i] as SelectAnswer
    expect(py.v1_4_15).toContain('lib-link/util.py')
    const v20 = (py.v1_4_20 as Array<{path: string}>).map((e) => e.path)
    expect(v20).not.toContain('lib-link/util.py')
    expect((py.v1_4_15 as string[]).filter((p) => !p.startsWith('lib-link/'))).toEqual(v20)
  })
})

describe('gitwildmatch equals pathspec (the version installed with BentoML)', () => {
  it(`single patterns (${allPatterns.length}) against ${PATHS.length} paths`, () => {
    const mismatches: string[] = []
    for (const pattern of allPatterns) {
      let ours: string
      try {
        const spec = PathSpec.fromLines([pattern])
        ours = PATHS.map((p) => (spec.matchFile(p) ? '1' : '0')).join('')
      } catch {
        ours = 'error'
      }
      const theirs = answer.match.patterns[pattern]
      if (ours !== theirs) {
        const paths =
          ours === 'error' || theirs === 'error' ? '' : PATHS.filter((_, k) => ours[k] !== theirs?.[k]).map((p) => JSON.stringify(p))
        mismatches.push(`${JSON.stringify(pattern)}: ours ${ours === 'error' ? 'error' : 'match'} / pathspec ${theirs} ${paths}`)
      }
    }
    expect(mismatches, `pathspec ${answer.versions.pathspec}`).toEqual([])
  })

  it('multi-pattern specs: last match wins, negations', () => {
    const ours = SPECS.map((lines) => {
      const spec = PathSpec.fromLines(lines)
      return PATHS.map((p) => (spec.matchFile(p) ? '1' : '0')).join('')
    })
    expect(ours).toEqual(answer.match.specs)
  })

  it('compileGitWildMatch gives null for what pathspec treats as a no-op', () => {
    for (const p of NO_OPS) {
      expect(compileGitWildMatch(p).regex).toBeNull()
      expect(answer.match.patterns[p]).toMatch(/^0+$/)
    }
  })
})
