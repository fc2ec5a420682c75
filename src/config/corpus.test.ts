/**
 * Every real-world bentofile in the shared corpus: the valid ones parse with no error, the invalid ones
 * get at least one error that names the right place (and nothing throws).
 * The corpus lives next to the repository (../shared/corpus/bentofiles; BENTO_CORPUS_DIR overrides it). Without
 * it a local run skips this file; CI fails (test/helpers/shared.ts).
 */
import {readdirSync, readFileSync} from 'node:fs'
import path from 'node:path'
import {describe, expect, it} from 'vitest'

import {CORPUS_DIR, sharedPresent} from '../../test/helpers/shared.js'
import {formatDiagnostic} from '../errors.js'
import {parseBuildConfig} from './parse.js'

const CORPUS = process.env.BENTO_CORPUS_DIR ?? CORPUS_DIR
const hasCorpus = sharedPresent(CORPUS)

interface Entry {
  id: string
  file: string
  valid: boolean
  verdict: string
}

function readIndex(): Entry[] {
  const files = readdirSync(CORPUS).filter((f) => /^\d{3}__/.test(f) && !f.endsWith('.service.py'))
  const rows = new Map<string, string>()
  for (const line of readFileSync(path.join(CORPUS, 'INDEX.md'), 'utf8').split('\n')) {
    const m = /^\| (\d{3}) \|/.exec(line)
    if (!m?.[1]) continue
    const cells = line.split(' | ')
    rows.set(m[1], (cells[cells.length - 1] ?? '').replace(/\s*\|\s*$/, ''))
  }
  return files.sort().map((file) => {
    const id = file.slice(0, 3)
    const verdict = rows.get(id)
    if (verdict === undefined) throw new Error(`INDEX.md has no row for ${id}`)
    return {id, file, valid: !verdict.startsWith('**NO**'), verdict}
  })
}

/** For each invalid file: the key path (or, for YAML syntax errors, the line) an error must point at. */
const EXPECTED: Record<string, {key?: string; line?: number}> = {
  '005': {key: 'python.build_isolation'},
  '006': {line: 11},
  '007': {line: 21},
  '010': {key: 'model'},
  '014': {key: 'python.components'},
  '022': {line: 4},
  '042': {key: 'version'},
  '047': {key: 'env'},
  '049': {key: 'docker.cuda_version'},
  '050': {key: 'docker.cuda_version'},
  '052': {key: 'docker.python_version'},
  '055': {key: 'docker.python_version'},
  '060': {key: 'docker.user'},
  '066': {key: 'python.packages'},
  '068': {key: 'version'},
  '071': {key: 'include'},
  '076': {key: 'python.requirements.txt'},
}

const entries = hasCorpus ? readIndex() : []

describe.runIf(hasCorpus)('bentofile corpus', () => {
  it('has the 80 files and 17 invalid ones that INDEX.md lists', () => {
    expect(entries).toHaveLength(80)
    expect(entries.filter((e) => !e.valid).map((e) => e.id)).toEqual(Object.keys(EXPECTED))
  })

  it.each(entries.filter((e) => e.valid).map((e) => [e.id, e] as const))('%s is valid', (_id, entry) => {
    const text = readFileSync(path.join(CORPUS, entry.file), 'utf8')
    const result = parseBuildConfig(text, entry.file, 'bentofile')
    const errors = result.diagnostics.filter((d) => d.severity === 'error')
    expect(errors.map(formatDiagnostic)).toEqual([])
    expect(result.config).toBeDefined()
    expect(typeof result.config?.service).toBe('string')
  })

  it.each(entries.filter((e) => !e.valid).map((e) => [e.id, e] as const))('%s is rejected with a located error', (id, entry) => {
    const text = readFileSync(path.join(CORPUS, entry.file), 'utf8')
    const result = parseBuildConfig(text, entry.file, 'bentofile')
    expect(result.config).toBeUndefined()
    const errors = result.diagnostics.filter((d) => d.severity === 'error')
    expect(errors.length, entry.verdict).toBeGreaterThan(0)
    for (const d of errors) {
      expect(d.line, formatDiagnostic(d)).toBeGreaterThan(0)
      expect(d.hint, formatDiagnostic(d)).toBeTruthy()
    }
    const expected = EXPECTED[id]
    if (expected?.key) expect(errors.map((d) => d.key)).toContain(expected.key)
    if (expected?.line) expect(errors[0]?.line).toBe(expected.line)
  })
})
