/**
 * P1: `bento build` ÷ `bentoml build` on the iris project, Keras (the bench trains its own model, bentoml.keras, TF 2.15)
 * and sklearn variants (runner-style, as examples/iris), and the SDK iris (test/fixtures/sdk-iris). Alternating runs,
 * fresh version each run (`--version` for all), median. BentoML 1.4.15 on every project; 1.4.40 beside it on the SDK
 * iris (1.4.40 refuses runner-style services, `bentoml.Service(..., runners=...)`, and its venv has no TensorFlow).
 * Two bentofiles each: like-for-like (`python.lock_packages: false`, as bento never locks) and the project's
 * own bentofile (BentoML then also runs `uv pip compile` against PyPI).
 * Start-up (issue 20): `node -e 0` (the floor), `bento --version` and a no-op `bento build` of the iris project
 * (same inputs: nothing to write), alternating in the same run, each as a multiple of `node -e 0`.
 */
import {existsSync} from 'node:fs'
import {cp, readFile, rm, writeFile} from 'node:fs/promises'
import {loadavg} from 'node:os'
import {join} from 'node:path'

import {parse, stringify} from 'yaml'

import {FIXTURES, freshDir, irisProject, REPO, runTool, saveKerasIris, saveSklearnIris, type Tool, toolEnv, type Tools} from './lib/env.js'
import {mustRun} from './lib/proc.js'
import {fmtRatio, fmtSeconds, median, ratio} from './lib/stats.js'
import type {BenchContext, BenchResult, Row} from './lib/types.js'

/** Issue 20: P1 ≤ 0.07 on the iris projects; `bento --version` ≤ 1.6 × `node -e 0`; a no-op build ≤ 2.5 ×. */
export const P1_TARGET = 0.07
export const VERSION_TARGET = 1.6
export const NOOP_TARGET = 2.5

/** The real BentoML 1.4.40 (scripts/provision/bentoml-1.4.40-venv.sh); its rows are left out when it is missing. */
function bentoml1440(): string | undefined {
  const dir = process.env.BENTOML_1440_VENV ?? join(process.env.BENTO_TOOLS ?? join(REPO, '.tools'), 'bentoml-1.4.40-venv')
  const bin = join(dir, 'bin/bentoml')
  return existsSync(bin) ? bin : undefined
}

interface Variant {
  name: string
  keras: boolean
  lock: boolean
  /** The SDK iris (test/fixtures/sdk-iris, model saved by BentoML 1.4.40): also timed against 1.4.40. */
  sdk?: boolean
}

interface VariantResult extends Variant {
  bentoMs: number[]
  bentomlMs: number[]
  ratio: number | null
  /** BentoML 1.4.40, where it ran (sklearn). */
  bentoml1440Ms?: number[]
  ratio1440?: number | null
}

interface StartupResult {
  runs: number
  nodeMs: number[]
  versionMs: number[]
  noopMs: number[]
  /** `bento list` in the same home (one Bento): an oclif command line (dist/oclif.cjs). */
  listMs: number[]
  versionRatio: number | null
  noopRatio: number | null
  listRatio: number | null
  loadavg: {before: number[]; after: number[]}
}

function withoutLock(bentofile: string): string {
  const doc = (parse(bentofile) ?? {}) as Record<string, unknown>
  const python = (doc.python ?? {}) as Record<string, unknown>
  doc.python = {...python, lock_packages: false}
  return stringify(doc)
}

async function project(tools: Tools, keras: boolean, lock: boolean, sdk = false): Promise<{dir: string; home: string}> {
  const root = await freshDir(tools, 'p1', `${sdk ? 'sdk' : keras ? 'keras' : 'sklearn'}-${lock ? 'lock' : 'nolock'}`)
  const home = join(root, 'home')
  const dir = join(root, 'project')
  if (sdk) {
    const b1440 = bentoml1440()
    if (b1440 === undefined) throw new Error('the BentoML 1.4.40 venv is missing: run scripts/provision/bentoml-1.4.40-venv.sh')
    await cp(join(REPO, 'test/fixtures/sdk-iris'), dir, {recursive: true})
    await mustRun(join(b1440, '../python'), [join(dir, 'train.py')], {env: toolEnv(tools, home)})
  } else if (keras) {
    await cp(join(FIXTURES, 'keras-iris'), dir, {recursive: true})
    const own = await readFile(join(dir, 'bentofile.yaml'), 'utf8')
    await writeFile(join(dir, 'bentofile.yaml'), lock ? own : withoutLock(own))
    await saveKerasIris(tools, home)
  } else {
    await irisProject(dir)
    if (!lock) await writeFile(join(dir, 'bentofile.yaml'), withoutLock(await readFile(join(dir, 'bentofile.yaml'), 'utf8')))
    await saveSklearnIris(tools, home)
  }
  return {dir, home}
}

type Runner = Tool | 'bentoml-1.4.40'

async function runVariant(ctx: BenchContext, v: Variant, runs: number, startup?: (dir: string, home: string) => Promise<void>): Promise<VariantResult> {
  const {dir, home} = await project(ctx.tools, v.keras, v.lock, v.sdk)
  const b1440 = v.sdk ? bentoml1440() : undefined
  const runners: Runner[] = ['bento', 'bentoml', ...(b1440 ? (['bentoml-1.4.40'] as const) : [])]
  const samples: Record<Runner, number[]> = {bento: [], bentoml: [], 'bentoml-1.4.40': []}
  const once = async (tool: Runner, version: string): Promise<number> => {
    if (tool === 'bentoml-1.4.40') {
      return (await mustRun(b1440!, ['build', '--version', version], {cwd: dir, env: toolEnv(ctx.tools, home)})).ms
    }
    const r = await runTool(tool, {tools: ctx.tools, home, cwd: dir, keras: v.keras}, ['build', '--version', version])
    return r.ms
  }
  // One untimed warm-up each (page cache, Python bytecode), then alternating rounds (the order rotates). Quick (a smoke): no warm-up.
  if (!ctx.quick) for (const tool of runners) await once(tool, `warmup-${tool}`)
  for (let i = 0; i < runs; i++) {
    const order = [...runners.slice(i % runners.length), ...runners.slice(0, i % runners.length)]
    for (const tool of order) samples[tool].push(await once(tool, `run${i}-${tool}`))
  }
  const r = ratio(median(samples.bento), median(samples.bentoml))
  const r1440 = b1440 ? ratio(median(samples.bento), median(samples['bentoml-1.4.40'])) : undefined
  ctx.log(
    `P1 ${v.name}: bento ${fmtSeconds(median(samples.bento))}, bentoml ${fmtSeconds(median(samples.bentoml))}, ratio ${fmtRatio(r)}` +
      (b1440 ? `; bentoml 1.4.40 ${fmtSeconds(median(samples['bentoml-1.4.40']))}, ratio ${fmtRatio(r1440 ?? null)}` : ''),
  )
  if (startup) await startup(dir, home)
  if (!ctx.quick) await rm(join(dir, '..'), {recursive: true, force: true})
  return {
    ...v,
    bentoMs: samples.bento,
    bentomlMs: samples.bentoml,
    ratio: r,
    ...(b1440 ? {bentoml1440Ms: samples['bentoml-1.4.40'], ratio1440: r1440 ?? null} : {}),
  }
}

/** `node -e 0`, `bento --version`, a no-op `bento build` in `dir` (its Bento exists), `bento list`, alternating; medians. */
async function measureStartup(ctx: BenchContext, dir: string, home: string, runs: number): Promise<StartupResult> {
  const env = toolEnv(ctx.tools, home)
  const kinds = {
    node: ['-e', '0'],
    version: [ctx.tools.bentoBin, '--version'],
    noop: [ctx.tools.bentoBin, 'build'],
    list: [ctx.tools.bentoBin, 'list'],
  } as const
  const samples: Record<keyof typeof kinds, number[]> = {node: [], version: [], noop: [], list: []}
  const names = Object.keys(kinds) as Array<keyof typeof kinds>
  const before = loadavg()
  await mustRun(process.execPath, kinds.noop, {cwd: dir, env}) // the Bento of these inputs exists from now on
  for (let i = 0; i < runs; i++) {
    const order = [...names.slice(i % names.length), ...names.slice(0, i % names.length)]
    for (const k of order) samples[k].push((await mustRun(process.execPath, kinds[k], {cwd: dir, env})).ms)
  }
  const node = median(samples.node)
  const result: StartupResult = {
    runs,
    nodeMs: samples.node,
    versionMs: samples.version,
    noopMs: samples.noop,
    listMs: samples.list,
    versionRatio: ratio(median(samples.version), node),
    noopRatio: ratio(median(samples.noop), node),
    listRatio: ratio(median(samples.list), node),
    loadavg: {before, after: loadavg()},
  }
  ctx.log(`P1 start-up: node -e 0 ${fmtSeconds(node)}, bento --version ${fmtSeconds(median(samples.version))} (${fmtRatio(result.versionRatio)}×), no-op build ${fmtSeconds(median(samples.noop))} (${fmtRatio(result.noopRatio)}×), bento list ${fmtSeconds(median(samples.list))} (${fmtRatio(result.listRatio)}×)`)
  return result
}

export async function benchP1(ctx: BenchContext): Promise<BenchResult> {
  const runs = ctx.quick ? 1 : 5
  const variants: Variant[] = [
    {name: 'keras, lock_packages: false', keras: true, lock: false},
    {name: 'sklearn, lock_packages: false', keras: false, lock: false},
    {name: 'keras, project bentofile (bentoml locks)', keras: true, lock: true},
    {name: 'sklearn, project bentofile (bentoml locks)', keras: false, lock: true},
    {name: 'SDK style (test/fixtures/sdk-iris), lock_packages: false', keras: false, lock: false, sdk: true},
  ]
  const results: VariantResult[] = []
  let startup: StartupResult | undefined
  const startupRuns = ctx.quick ? 3 : 15
  // Quick (a smoke of the script): the sklearn like-for-like variant only (Keras trains a TensorFlow model first).
  for (const v of ctx.quick ? variants.slice(1, 2) : variants) {
    // The start-up figures in the sklearn like-for-like project (examples/iris), once its builds are done.
    const measure = !v.keras && !v.lock && !v.sdk ? async (dir: string, home: string) => void (startup = await measureStartup(ctx, dir, home, startupRuns)) : undefined
    results.push(await runVariant(ctx, v, runs, measure))
  }
  const status = (r: number | null | undefined, target: number, info = false): Row['status'] =>
    info ? 'info' : r !== null && r !== undefined && r <= target ? 'ok' : 'behind'
  const rows: Row[] = results.flatMap((v): Row[] => [
    {
      id: 'P1',
      metric: `build time, iris ${v.name} (median of ${v.bentoMs.length})`,
      bento: fmtSeconds(median(v.bentoMs)),
      other: `bentoml 1.4.15 ${fmtSeconds(median(v.bentomlMs))}`,
      ratio: v.ratio,
      value: fmtRatio(v.ratio),
      target: `≤ ${P1_TARGET}`,
      status: status(v.ratio, P1_TARGET, v.lock),
    },
    ...(v.bentoml1440Ms
      ? [
          {
            id: 'P1',
            metric: `build time, iris ${v.name}, vs 1.4.40 (median of ${v.bentoMs.length})`,
            bento: fmtSeconds(median(v.bentoMs)),
            other: `bentoml 1.4.40 ${fmtSeconds(median(v.bentoml1440Ms))}`,
            ratio: v.ratio1440 ?? null,
            value: fmtRatio(v.ratio1440 ?? null),
            target: `≤ ${P1_TARGET}`,
            status: status(v.ratio1440, P1_TARGET, v.lock),
          },
        ]
      : []),
  ])
  if (startup) {
    const s = startup
    const node = fmtSeconds(median(s.nodeMs))
    rows.push(
      {
        id: 'P1',
        metric: `start-up: bento --version ÷ node -e 0 (median of ${s.runs})`,
        bento: fmtSeconds(median(s.versionMs)),
        other: `node -e 0 ${node}`,
        ratio: s.versionRatio,
        value: `${fmtRatio(s.versionRatio)}×`,
        target: `≤ ${VERSION_TARGET}×`,
        status: status(s.versionRatio, VERSION_TARGET),
      },
      {
        id: 'P1',
        metric: `start-up: no-op bento build (iris sklearn) ÷ node -e 0 (median of ${s.runs})`,
        bento: fmtSeconds(median(s.noopMs)),
        other: `node -e 0 ${node}`,
        ratio: s.noopRatio,
        value: `${fmtRatio(s.noopRatio)}×`,
        target: `≤ ${NOOP_TARGET}×`,
        status: status(s.noopRatio, NOOP_TARGET),
      },
      {
        id: 'P1',
        metric: `start-up: bento list (an oclif command, one Bento) ÷ node -e 0 (median of ${s.runs})`,
        bento: fmtSeconds(median(s.listMs)),
        other: `node -e 0 ${node}`,
        ratio: s.listRatio,
        value: `${fmtRatio(s.listRatio)}×`,
        target: '—',
        status: 'info',
      },
    )
  }
  return {
    id: 'P1',
    title: 'bento build ÷ bentoml build (iris)',
    rows,
    curves: [],
    notes: [
      `${runs} alternating runs per tool after ${ctx.quick ? 'no' : 'one untimed'} warm-up${ctx.quick ? '' : ' each'}; \`--version runN-<tool>\` makes every run a fresh Bento.`,
      'Like-for-like rows set `python.lock_packages: false` (bento never runs a resolver); they are the ones held to the target. ' +
        'The "project bentofile" rows keep the bentofile as is, so BentoML also locks with `uv pip compile` against PyPI (network) — shown for information.',
      'Keras: `bentoml build` imports the service, hence TensorFlow; bento reads it statically.',
      'BentoML 1.4.40 runs beside 1.4.15 on the SDK iris (the same home and model, saved by 1.4.40): 1.4.40 refuses the runner-style iris (`Service.__init__() got an unexpected keyword argument \'runners\'`) and its venv has no TensorFlow.',
      `Start-up: ${startup?.runs ?? startupRuns} alternating rounds of \`node -e 0\`, \`bento --version\`, a no-op \`bento build\` (the iris sklearn project, its Bento already built) and \`bento list\` after one untimed no-op build; ` +
        `the machine's load average (1 min) was ${startup ? `${startup.loadavg.before[0]!.toFixed(1)} before and ${startup.loadavg.after[0]!.toFixed(1)} after` : 'not measured'} (2 cores, shared): the four share it.`,
    ],
    raw: {variants: results, startup},
  }
}
