/**
 * The differential corpus: every project of the corpus roots built by the real `bentoml build` 1.4.40 and by
 * `bento build`, compared key by key; prints a markdown table (stdout) and progress (stderr).
 *
 *   npm run corpus-diff                        # all projects (npm run build first: bento runs from dist/)
 *   npm run corpus-diff -- blip infinity       # some of them
 *   npm run corpus-diff -- --root DIR          # the projects under DIR instead (repeatable)
 *   npm run corpus-diff -- --json out.json     # also every run's details (both documents, errors)
 *
 * Environment: BENTOML_1440_VENV (else $BENTO_TOOLS/bentoml-1.4.40-venv, else .tools/), CORPUS_PROJECTS (the default
 * root, else ../shared/corpus/projects), CORPUS_EXTRA_ROOTS (more roots, `:`-separated, added to the default or to
 * --root), CORPUS_DIFF_JOBS (projects built at once, default 2), CORPUS_DIFF_BENTO_REPO (the checkout whose bin/run.js
 * and dist/ are `bento`, default this one), CORPUS_DIFF_VENV_PY3_13 (a BentoML 1.4.40 venv on Python 3.13 for the
 * projects whose `.python-version` / `requires-python` needs 3.12+; without it they are built by the 3.11 reference
 * venv, whose import of 3.12 syntax fails), CORPUS_DIFF_SITE (a directory of real packages, e.g. `uv pip install
 * --target DIR --no-deps fastapi annotated-doc`, put on BentoML's PYTHONPATH before the stubs: a mounted FastAPI app
 * then has its real routes), EXTRA_BENTOFILES (`project=module:Attr` entries, `;`-separated: one more row per entry,
 * named `project[module:Attr]`, where both tools build that `service:`, for projects that hold two services and no
 * bentofile; a project named this way is not built without one).
 */
import {existsSync} from 'node:fs'
import {readdir, readFile, writeFile} from 'node:fs/promises'
import {join, resolve} from 'node:path'
import {fileURLToPath} from 'node:url'

import {compareBentos, type Comparison} from './compare.js'
import {runProject, type ProjectRun, type Side} from './harness.js'
import {startHfStandIn} from './hf-stand-in.js'

const REPO = fileURLToPath(new URL('../../', import.meta.url))

export interface Row {
  project: string
  builtByBentoml: boolean
  builtByBento: boolean
  /** Both built: the comparison; else the refusals. */
  comparison?: Comparison
  outcome: string
  run: ProjectRun
}

export function defaultVenv(env: NodeJS.ProcessEnv = process.env): string {
  return env.BENTOML_1440_VENV ?? join(env.BENTO_TOOLS ?? join(REPO, '.tools'), 'bentoml-1.4.40-venv')
}

export function defaultCorpus(env: NodeJS.ProcessEnv = process.env): string {
  return env.CORPUS_PROJECTS ?? resolve(REPO, '..', 'shared', 'corpus', 'projects')
}

/** One row of the table: a project directory, built as it is or with the `service:` of an EXTRA_BENTOFILES entry. */
export interface ProjectSpec {
  name: string
  dir: string
  service?: string
}

/** EXTRA_BENTOFILES: `project=module:Attr` entries separated by `;` (or new lines). */
export function parseExtraBentofiles(value: string | undefined): Array<{project: string; service: string}> {
  const out: Array<{project: string; service: string}> = []
  for (const entry of (value ?? '').split(/[;\n]/).map((e) => e.trim()).filter(Boolean)) {
    const eq = entry.indexOf('=')
    const project = entry.slice(0, eq).trim()
    const service = entry.slice(eq + 1).trim()
    if (eq <= 0 || !service) throw new Error(`EXTRA_BENTOFILES: "${entry}" is not project=module:Attr`)
    out.push({project, service})
  }
  return out
}

/**
 * The projects of the roots (each directory of each root; the first root wins a name that two hold), where an
 * EXTRA_BENTOFILES entry names one, a row per entry instead of the project as it is.
 */
export async function listProjects(roots: string[], extra: Array<{project: string; service: string}> = []): Promise<ProjectSpec[]> {
  const seen = new Map<string, string>()
  for (const root of roots) {
    if (!existsSync(root)) throw new Error(`no corpus at ${root}`)
    for (const d of (await readdir(root, {withFileTypes: true})).filter((e) => e.isDirectory()).sort((a, b) => a.name.localeCompare(b.name))) {
      if (!seen.has(d.name)) seen.set(d.name, join(root, d.name))
    }
  }
  const unknown = extra.filter((e) => !seen.has(e.project)).map((e) => e.project)
  if (unknown.length) throw new Error(`EXTRA_BENTOFILES names projects no root holds: ${unknown.join(', ')}`)
  const specs: ProjectSpec[] = []
  for (const [name, dir] of [...seen].sort(([a], [b]) => a.localeCompare(b))) {
    const entries = extra.filter((e) => e.project === name)
    if (!entries.length) specs.push({name, dir})
    for (const e of entries) specs.push({name: `${name}[${e.service}]`, dir, service: e.service})
  }
  return specs
}

function firstLine(s: string | undefined): string {
  const line = (s ?? '').split('\n').find((l) => l.trim()) ?? ''
  return line.length > 160 ? `${line.slice(0, 157)}...` : line
}

function built(side: Side): boolean {
  return Boolean(side.tag && side.info)
}

export function toRow(run: ProjectRun): Row {
  const a = built(run.bentoml)
  const b = built(run.bento)
  const row: Row = {project: run.project, builtByBentoml: a, builtByBento: b, outcome: '', run}
  if (run.bento.readError) row.outcome = `the real BentoML cannot read bento's Bento: ${firstLine(run.bento.readError)}`
  else if (a && b) {
    row.comparison = compareBentos({info: run.bentoml.info!, src: run.bentoml.src ?? []}, {info: run.bento.info!, src: run.bento.src ?? []})
    row.outcome = row.comparison.differing.length ? 'differ' : 'agree'
  } else if (!a && !b) row.outcome = `both refuse — bentoml: ${firstLine(run.bentoml.error)}; bento: ${firstLine(run.bento.error)}`
  else if (a) row.outcome = `bento refuses: ${firstLine(run.bento.error)}`
  else row.outcome = `bentoml refuses: ${firstLine(run.bentoml.error)}`
  return row
}

const cell = (s: string): string => s.replace(/\|/g, '\\|').replace(/\n/g, ' ')

export function markdownTable(rows: Row[]): string {
  const lines = [
    '| project | built by bentoml | built by bento | agreeing keys | differences | explanation |',
    '| --- | --- | --- | --- | --- | --- |',
  ]
  for (const r of rows) {
    const agreeing = r.comparison ? `${r.comparison.agreeing.length}: ${r.comparison.agreeing.join(', ')}` : '—'
    const diffs = r.comparison
      ? r.comparison.differing.map((d) => `**${d.key}**: ${d.paths.join('; ')}`).join('<br>') || 'none'
      : r.outcome
    const bentoml = r.builtByBentoml ? (r.run.bentoml.lockRefusal ? `yes, but its lock refuses: ${r.run.bentoml.lockRefusal.split('\n')[0]}` : 'yes') : 'no'
    lines.push(`| ${r.project} | ${cell(bentoml)} | ${r.builtByBento ? 'yes' : 'no'} | ${cell(agreeing)} | ${cell(diffs)} |  |`)
  }
  return lines.join('\n')
}

/** Run `projects` (names under `corpus`), `jobs` at a time, in the given order. */
/**
 * Whether the project's code needs a Python newer than 3.11 (the reference venv's): `.python-version` or the lower
 * bound of `requires-python` at 3.12 or above (3.12 syntax such as `class C[T]:` does not import on 3.11).
 */
export async function needsNewerPython(dir: string): Promise<boolean> {
  const pin = await readFile(join(dir, '.python-version'), 'utf8').catch(() => '')
  const requires = /requires-python\s*=\s*["']\s*>=?\s*3\.(\d+)/.exec(await readFile(join(dir, 'pyproject.toml'), 'utf8').catch(() => ''))
  const minor = /^\s*3\.(\d+)/.exec(pin)?.[1] ?? requires?.[1]
  return minor !== undefined && Number(minor) >= 12
}

export async function corpusDiff(opts: {
  projects: ProjectSpec[]
  venv: string
  /** A BentoML 1.4.40 venv on Python 3.12+, for the projects that need one (needsNewerPython). */
  newerPythonVenv?: string
  jobs: number
  bentoRepo?: string
  /** CORPUS_DIFF_SITE: real packages on BentoML's PYTHONPATH before the stubs. */
  site?: string
  log?: (s: string) => void
}): Promise<Row[]> {
  const hf = await startHfStandIn()
  try {
    const rows: Row[] = new Array<Row>(opts.projects.length)
    let next = 0
    const worker = async (): Promise<void> => {
      while (next < opts.projects.length) {
        const i = next++
        const {name, dir, service} = opts.projects[i]!
        const venv = opts.newerPythonVenv && (await needsNewerPython(dir)) ? opts.newerPythonVenv : opts.venv
        const run = await runProject(dir, {
          venv,
          repo: opts.bentoRepo ?? REPO,
          hfEndpoint: hf.endpoint,
          name,
          ...(service !== undefined ? {service} : {}),
          ...(opts.site ? {site: opts.site} : {}),
        })
        rows[i] = toRow(run)
        opts.log?.(`${name}: ${rows[i].outcome} (${(run.durationMs / 1000).toFixed(1)} s)\n`)
      }
    }
    await Promise.all(Array.from({length: Math.max(1, opts.jobs)}, worker))
    return rows
  } finally {
    await hf.close()
  }
}

async function main(argv: string[]): Promise<number> {
  let jsonOut: string | undefined
  const names: string[] = []
  const roots: string[] = []
  for (let i = 0; i < argv.length; i++) {
    if (argv[i] === '--json') jsonOut = argv[++i]
    else if (argv[i] === '--root') roots.push(resolve(argv[++i] ?? ''))
    else names.push(argv[i]!)
  }
  if (!roots.length) roots.push(defaultCorpus())
  roots.push(...(process.env.CORPUS_EXTRA_ROOTS ?? '').split(':').filter(Boolean).map((r) => resolve(r)))
  const venv = defaultVenv()
  if (!existsSync(join(venv, 'bin/python'))) throw new Error(`no BentoML 1.4.40 venv at ${venv}: run scripts/provision/bentoml-1.4.40-venv.sh`)
  // Another checkout's bento (its bin/ and dist/), e.g. to compare before and after a change.
  const bentoRepo = process.env.CORPUS_DIFF_BENTO_REPO ?? REPO
  if (!existsSync(join(bentoRepo, 'dist/commands/index.js'))) throw new Error(`no dist/ in ${bentoRepo}: run \`npm run build\` first`)
  const all = await listProjects(roots, parseExtraBentofiles(process.env.EXTRA_BENTOFILES))
  const unknown = names.filter((n) => !all.some((p) => p.name === n || p.name.startsWith(`${n}[`)))
  if (unknown.length) throw new Error(`not in ${roots.join(', ')}: ${unknown.join(', ')}`)
  const site = process.env.CORPUS_DIFF_SITE
  if (site && !existsSync(site)) throw new Error(`CORPUS_DIFF_SITE: no directory ${site}`)
  const started = Date.now()
  const newer = process.env.CORPUS_DIFF_VENV_PY3_13
  const rows = await corpusDiff({
    projects: names.length ? all.filter((p) => names.some((n) => p.name === n || p.name.startsWith(`${n}[`))) : all,
    ...(site ? {site} : {}),
    venv,
    ...(newer ? {newerPythonVenv: newer} : {}),
    jobs: Number(process.env.CORPUS_DIFF_JOBS ?? 2),
    bentoRepo,
    log: (s) => process.stderr.write(s),
  })
  process.stdout.write(`${markdownTable(rows)}\n`)
  const agree = rows.filter((r) => r.outcome === 'agree').length
  process.stderr.write(`${rows.length} projects, ${agree} agree on every compared key, in ${((Date.now() - started) / 1000).toFixed(0)} s\n`)
  if (jsonOut) await writeFile(jsonOut, `${JSON.stringify(rows, null, 2)}\n`)
  return 0
}

if (process.argv[1] && resolve(process.argv[1]) === fileURLToPath(import.meta.url)) {
  main(process.argv.slice(2)).then(
    (code) => process.exit(code),
    (error: unknown) => {
      process.stderr.write(`corpus-diff: ${error instanceof Error ? error.message : String(error)}\n`)
      process.exit(2)
    },
  )
}
