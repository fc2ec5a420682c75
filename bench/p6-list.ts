/**
 * P6: `bento list` and `bentoml list` with 100 / 1,000 / 10,000 Bentos in the store (quick, a smoke: 20, no warm-up).
 * The store is grown in place: one real Bento from `bento build` of examples/iris, then hard-linked clones
 * with their own version and creation_time in bento.yaml (both tools read every bento.yaml and walk every
 * Bento's files for its size, so the clones cost them what real Bentos would).
 */
import {link, mkdir, readdir, readFile, writeFile} from 'node:fs/promises'
import {join, relative} from 'node:path'

import {freshDir, irisProject, runTool, saveSklearnIris, type Tool} from './lib/env.js'
import {fmtRatio, fmtSeconds, median, ratio} from './lib/stats.js'
import type {BenchContext, BenchResult, Curve, Row} from './lib/types.js'

export const P6_TARGET_MS = 500
const NAME = 'clasificador_iris'

async function files(root: string, dir = root): Promise<string[]> {
  const out: string[] = []
  for (const e of await readdir(dir, {withFileTypes: true})) {
    const p = join(dir, e.name)
    if (e.isDirectory()) out.push(...(await files(root, p)))
    else if (e.isFile()) out.push(relative(root, p))
  }
  return out
}

/** Add clones numbered [from, to) of the template Bento. */
async function grow(bentos: string, template: string, from: number, to: number): Promise<void> {
  const src = join(bentos, template)
  const all = await files(src)
  const yaml = await readFile(join(src, 'bento.yaml'), 'utf8')
  const base = Date.parse('2026-01-01T00:00:00Z')
  const dirs = new Set(all.map((f) => f.split('/').slice(0, -1).join('/')).filter(Boolean))
  for (let i = from; i < to; i++) {
    const version = `bench${String(i).padStart(11, '0')}`
    const dst = join(bentos, version)
    await mkdir(dst)
    for (const d of [...dirs].sort()) await mkdir(join(dst, d), {recursive: true})
    for (const f of all) if (f !== 'bento.yaml') await link(join(src, f), join(dst, f))
    const created = new Date(base + i * 1000).toISOString().replace('Z', '+00:00')
    const text = yaml
      .replace(/^version: .*$/m, `version: '${version}'`)
      .replace(/^creation_time: .*$/m, `creation_time: '${created}'`)
    await writeFile(join(dst, 'bento.yaml'), text)
  }
}

interface CountResult {
  count: number
  bentoMs: number[]
  bentomlMs: number[]
}

export async function benchP6(ctx: BenchContext): Promise<BenchResult> {
  const counts = ctx.quick ? [20] : [100, 1000, 10_000]
  const runsFor = (n: number): number => (ctx.quick ? 1 : n >= 10_000 ? 3 : 5)
  const root = await freshDir(ctx.tools, 'p6')
  const home = join(root, 'home')
  const dir = await irisProject(join(root, 'project'))
  await saveSklearnIris(ctx.tools, home)
  const built = await runTool('bento', {tools: ctx.tools, home, cwd: dir}, ['build', '--json'])
  const template = (JSON.parse(built.stdout) as {version: string}).version
  const bentos = join(home, 'bentos', NAME)
  let have = 1
  const results: CountResult[] = []
  for (const count of counts) {
    ctx.log(`P6: growing the store to ${count} Bentos`)
    await grow(bentos, template, have - 1, count - 1)
    have = count
    const r: CountResult = {count, bentoMs: [], bentomlMs: []}
    const once = async (tool: Tool): Promise<void> => {
      const out = await runTool(tool, {tools: ctx.tools, home, cwd: root}, ['list'])
      const lines = out.stdout.split('\n').filter((l) => l.includes(`${NAME}:`)).length
      if (lines !== count) throw new Error(`P6: ${tool} list printed ${lines} Bentos, expected ${count}`)
      ;(tool === 'bento' ? r.bentoMs : r.bentomlMs).push(out.ms)
    }
    if (!ctx.quick) {
      await once('bento') // warm-up (page cache of 1 file per Bento)
      await once('bentoml')
      r.bentoMs.length = 0
      r.bentomlMs.length = 0
    }
    for (let i = 0; i < runsFor(count); i++) for (const tool of (i % 2 === 0 ? ['bento', 'bentoml'] : ['bentoml', 'bento']) as Tool[]) await once(tool)
    ctx.log(`P6 ${count}: bento list ${fmtSeconds(median(r.bentoMs))}, bentoml list ${fmtSeconds(median(r.bentomlMs))}`)
    results.push(r)
  }
  const head = results.find((r) => r.count === 1000) ?? results[results.length - 1]!
  const b = median(head.bentoMs)
  const rows: Row[] = [
    {
      id: 'P6',
      metric: `list with ${head.count.toLocaleString('en')} Bentos (median of ${head.bentoMs.length})`,
      bento: fmtSeconds(b),
      other: `bentoml ${fmtSeconds(median(head.bentomlMs))}`,
      ratio: ratio(b, median(head.bentomlMs)),
      value: fmtSeconds(b),
      target: `< ${P6_TARGET_MS / 1000} s`,
      status: head.count === 1000 ? (b < P6_TARGET_MS ? 'ok' : 'behind') : 'info',
    },
  ]
  const per = (r: CountResult, xs: number[]): string => `${((median(xs) / r.count) * 1000).toFixed(0)} µs`
  const curves: Curve[] = [
    {
      title: 'P6 list time vs number of Bentos (medians)',
      columns: ['Bentos', 'bento list', 'bentoml list', 'bento ÷ bentoml', 'bento per Bento', 'bentoml per Bento'],
      rows: results.map((r) => [
        r.count.toLocaleString('en'),
        fmtSeconds(median(r.bentoMs)),
        fmtSeconds(median(r.bentomlMs)),
        fmtRatio(ratio(median(r.bentoMs), median(r.bentomlMs))),
        per(r, r.bentoMs),
        per(r, r.bentomlMs),
      ]),
      summary: (() => {
        const first = results[0]!
        const last = results[results.length - 1]!
        const k = last.count / first.count
        return `×${k} Bentos: bento list ×${(median(last.bentoMs) / median(first.bentoMs)).toFixed(1)} time, bentoml list ×${(median(last.bentomlMs) / median(first.bentomlMs)).toFixed(1)} time.`
      })(),
    },
  ]
  return {
    id: 'P6',
    title: 'list with many Bentos',
    rows,
    curves,
    notes: [
      'Table output to a pipe (no --json), COLUMNS=200; every run checks that the tool printed one line per Bento. One untimed warm-up per tool and size, then alternating runs (5, 3 at 10,000).',
    ],
    raw: results,
  }
}
