/**
 * `bento import` accepts only what BentoML can read (D10), checked against the real BentoML 1.4.15: archives of a
 * real Bento whose bento.yaml is mutated (seeded fast-check: nasty YAML, wrong shapes, aliases, tags, damage).
 * Every Bento `bento import` accepts is then read by BentoML the way `bentoml list` reads it (`Bento.from_path`, its
 * creation_time made local and compared, its size) in one Python process. Rejected ones are read by BentoML too, to
 * count where bento is stricter (allowed: refusing is typed; accepting what BentoML cannot read is not).
 */
import {execFile} from 'node:child_process'
import {mkdir, readFile, rm, writeFile} from 'node:fs/promises'
import {join} from 'node:path'
import {promisify} from 'node:util'

import fc from 'fast-check'
import {afterAll, beforeAll, describe, expect, it} from 'vitest'

import {exportBento, importBento} from '../../src/bento/archive/index.js'
import {UserError} from '../../src/errors.js'
import {ensureHome} from '../../src/store/home.js'
import {runBentoInProcess} from '../helpers/cli-in-process.js'
import {bentomlVenv, tempDir} from '../helpers/env.js'
import {apply, mutations} from '../helpers/fuzz.js'
import {legacyEchoProject} from '../helpers/projects.js'
import {readTar, type TarEntry, writeTar} from '../helpers/tar.js'

const execFileP = promisify(execFile)
const SEED = Number(process.env.FUZZ_SEED ?? 4242)
const RUNS = Number(process.env.FUZZ_RUNS ?? 1) * 250

const CHECK = `
import json, sys
from bentoml._internal.bento.bento import Bento
out = {}
for path in json.load(open(sys.argv[1])):
    try:
        b = Bento.from_path(path)
        # what bentoml list does with each Bento: sort by creation_time (aware), format it, size it
        sorted([b.info.creation_time, __import__('datetime').datetime.now().astimezone()])
        b.info.creation_time.astimezone().strftime('%Y-%m-%d %H:%M:%S')
        b.file_size
        out[path] = 'ok'
    except Exception as e:
        detail = ''
        if hasattr(e, 'exceptions'):
            detail = ' / '.join(repr(x)[:160] for x in e.exceptions)
            for x in e.exceptions:
                if hasattr(x, 'exceptions'):
                    detail += ' // ' + ' / '.join(repr(y)[:160] for y in x.exceptions)
        out[path] = type(e).__name__ + ': ' + str(e)[:200] + (' [' + detail + ']' if detail else '')
json.dump(out, open(sys.argv[2], 'w'))
`

let root: string
afterAll(async () => {
  if (root) await rm(root, {recursive: true, force: true})
})

describe('import accepts only what the real BentoML 1.4.15 reads', () => {
  let entries: TarEntry[]

  beforeAll(async () => {
    bentomlVenv() // fails, never skips, without the venv
    root = await tempDir('bento-import-readable-')
    const home = join(root, 'home')
    const project = await legacyEchoProject(join(root, 'p'), 'echo')
    const built = await runBentoInProcess(['build', project, '--json'], {env: {BENTOML_HOME: home}})
    expect(built.code, built.stderr).toBe(0)
    const {path} = JSON.parse(built.stdout) as {path: string}
    const archive = join(root, 'good.tar')
    await exportBento({bentoDir: path, out: archive})
    entries = await readTar(await readFile(archive))
  }, 120_000)

  it(`${RUNS} mutated bento.yaml files: every one bento accepts, BentoML reads`, async () => {
    const good = entries.find((e) => e.header.name === 'bento.yaml')?.content.toString('utf8') ?? ''
    const accepted: string[] = []
    const rejected: string[] = []
    const why = new Map<string, string>()
    const codes = new Map<string, number>()
    let i = 0
    await fc.assert(
      fc.asyncProperty(mutations, async (ms) => {
        const text = apply(good, ms)
        const n = i++
        const archive = join(root, `a${n}.tar`)
        await writeFile(archive, await writeTar(entries.map((e) => (e.header.name === 'bento.yaml' ? {header: e.header, content: Buffer.from(text)} : e))))
        const home = join(root, `h${n}`)
        await ensureHome(home)
        try {
          const r = await importBento({archive, home})
          accepted.push(r.path)
        } catch (error) {
          if (!(error instanceof UserError)) throw error
          codes.set(error.code, (codes.get(error.code) ?? 0) + 1)
          // What would BentoML have made of it? (A directory with just the bento.yaml is enough for from_path.)
          const dir = join(root, `r${n}`)
          await mkdir(dir, {recursive: true})
          await writeFile(join(dir, 'bento.yaml'), text)
          rejected.push(dir)
          why.set(dir, error.message.replace(/^.*?bento\.yaml:?/s, '').slice(0, 140))
        }
        await rm(archive)
      }),
      {seed: SEED, numRuns: RUNS},
    )
    const list = join(root, 'paths.json')
    const result = join(root, 'result.json')
    await writeFile(list, JSON.stringify([...accepted, ...rejected]))
    const venv = bentomlVenv()
    await execFileP(venv.python, ['-c', CHECK, list, result], {env: {...process.env, BENTOML_DO_NOT_TRACK: 'true'}, maxBuffer: 64 * 2 ** 20})
    const verdict = JSON.parse(await readFile(result, 'utf8')) as Record<string, string>
    const unreadable = accepted.filter((p) => verdict[p] !== 'ok').map((p) => `${p}: ${verdict[p]}`)
    const stricterOnes = rejected.filter((p) => verdict[p] === 'ok')
    const stricter = stricterOnes.length
    console.log(
      `import vs BentoML 1.4.15 (seed ${SEED}): ${RUNS} archives, ${accepted.length} accepted (all read by BentoML: ${unreadable.length === 0}), ` +
        `${rejected.length} refused (${[...codes].map(([c, k]) => `${c} ${k}`).join(', ')}), of which BentoML alone would have read ${stricter}`,
    )
    // Where bento is stricter than BentoML (typed refusals), by reason:
    const reasons = new Map<string, number>()
    for (const p of stricterOnes) {
      const reason = (why.get(p) ?? '').replace(/\d+:\d+|line \d+/g, 'N').replace(/"[^"]*"|'[^']*'/g, '…').slice(0, 90)
      reasons.set(reason, (reasons.get(reason) ?? 0) + 1)
    }
    if (reasons.size > 0) console.log(`  stricter than BentoML:\n${[...reasons].map(([r, k]) => `    ${k} × ${r}`).join('\n')}`)
    expect(unreadable).toEqual([])
    expect(accepted.length).toBeGreaterThan(10)
  }, 600_000)
})
