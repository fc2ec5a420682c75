/**
 * One error contract: the registry in src/errors.ts (code → exit code, meaning) is what the README documents,
 * and the same code exits with the same status whichever command raises it.
 */
import {readFile, rm} from 'node:fs/promises'
import {join} from 'node:path'

import {afterAll, describe, expect, it} from 'vitest'

import {ERROR_CODES, EXIT_CODE_MEANINGS, type ErrorCode} from '../../src/errors.js'
import {REPO, runBento, tempDir} from '../helpers/env.js'
import {echoProject} from '../helpers/projects.js'

/** The rows of the markdown table that follows `heading` (cells trimmed, header and separator dropped). */
function tableAfter(markdown: string, heading: string): string[][] {
  const start = markdown.indexOf(`\n${heading}\n`)
  expect(start, `README has no "${heading}" section`).toBeGreaterThan(-1)
  const lines = markdown.slice(start + heading.length + 2).split('\n')
  const first = lines.findIndex((l) => l.startsWith('|'))
  const rows: string[][] = []
  for (const line of lines.slice(first)) {
    if (!line.startsWith('|')) break
    rows.push(line.slice(1, -1).split('|').map((c) => c.trim()))
  }
  return rows.slice(2)
}

const codesIn = (cell: string): string[] => [...cell.matchAll(/`(E_[A-Z_]+)`/g)].map((m) => m[1]!)

describe('the README documents the error registry exactly', async () => {
  const readme = await readFile(join(REPO, 'README.md'), 'utf8')

  it('exit codes: every exit code with its error codes (in registry order) and its meaning', () => {
    const documented = tableAfter(readme, '## Exit codes').map(([exit, codes, meaning]) => ({exit: Number(exit), codes: codesIn(codes ?? ''), meaning}))
    const expected = Object.entries(EXIT_CODE_MEANINGS).map(([exit, meaning]) => ({
      exit: Number(exit),
      codes: (Object.keys(ERROR_CODES) as ErrorCode[]).filter((c) => ERROR_CODES[c].exitCode === Number(exit)),
      meaning,
    }))
    expect(documented).toEqual(expected)
  })

  it('error codes: every code with its exit code and meaning, in registry order', () => {
    const documented = tableAfter(readme, '### Error codes').map(([code, exit, meaning]) => ({code: codesIn(code ?? '')[0], exit: Number(exit), meaning}))
    const expected = Object.entries(ERROR_CODES).map(([code, {exitCode, meaning}]) => ({code, exit: exitCode, meaning}))
    expect(documented).toEqual(expected)
  })
})

describe('one code, one exit code, whichever command raises it', () => {
  const dirs: string[] = []
  afterAll(async () => {
    for (const d of dirs) await rm(d, {recursive: true, force: true})
  })

  it('E_ALREADY_EXISTS exits 5 from import as from build --version', async () => {
    const root = await tempDir('bento-contract-')
    dirs.push(root)
    const env = {BENTOML_HOME: join(root, 'home')}
    const project = await echoProject(join(root, 'p'), 'dup')
    const built = await runBento(['build', '--json', project, '--version', 'v1'], {env})
    expect(built.code, built.stderr).toBe(0)

    const again = await runBento(['build', '--json', project, '--version', 'v1'], {env})
    expect(again.code, again.stderr).toBe(5)
    expect(JSON.parse(again.stdout)).toMatchObject({error: {code: 'E_ALREADY_EXISTS', exitCode: 5}})

    const archive = join(root, 'dup.tar')
    expect((await runBento(['export', 'dup:v1', archive], {env})).code).toBe(0)
    const imported = await runBento(['import', '--json', archive], {env})
    expect(imported.code, imported.stderr).toBe(5)
    expect(JSON.parse(imported.stdout)).toMatchObject({error: {code: 'E_ALREADY_EXISTS', exitCode: 5}})
  })
})
