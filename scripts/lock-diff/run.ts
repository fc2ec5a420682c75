/**
 * The lock differential (issue 17, Tests bullet 3): on projects of the corpus that BentoML can lock offline, the
 * package set the real `bentoml build` 1.4.40 locks equals the set `bento build` locks, both resolving with the
 * same uv against the same local index (a PEP 503 index started here over the corpus lock wheelhouse,
 * scripts/provision/corpus-lock-wheelhouse.sh; given to both as UV_INDEX_URL). The builds themselves run through the
 * corpus-diff harness (heavy imports stubbed for BentoML's side).
 *
 *   npx tsx scripts/lock-diff/run.ts [PROJECT…]
 *
 * Prints one line per project (`same set (N packages)` or what differs); exits 1 when a set differs.
 */
import {existsSync} from 'node:fs'
import {join} from 'node:path'
import {fileURLToPath} from 'node:url'

import {startLocalIndex} from '../../test/helpers/pypi-index.js'
import {defaultCorpus, defaultVenv} from '../corpus-diff/run.js'
import {runProject, type Side} from '../corpus-diff/harness.js'
import {startHfStandIn} from '../corpus-diff/hf-stand-in.js'

const REPO = fileURLToPath(new URL('../../', import.meta.url))

/** The projects, and a bentofile for those that have none (which service to build). */
export const LOCK_PROJECTS: Readonly<Record<string, string | undefined>> = {
  'langgraph-anthropic': undefined,
  'bml-service-in-module': 'service: "single_service:svc"\n',
  'bml-static-http': 'service: "service:StaticHTTP2"\n',
}

export interface LockDiffRow {
  project: string
  /** `name==version`, names normalized, sorted; null when that side built no locked Bento. */
  bentoml: string[] | null
  bento: string[] | null
  /** Why a side has no set. */
  errors: {bentoml?: string; bento?: string}
  onlyBentoml: string[]
  onlyBento: string[]
  durationMs: number
}

/** The pinned `name==version` set of a lock (requirement lines only; option lines, comments and hashes left out). */
export function lockedSet(text: string): string[] {
  return text
    .split('\n')
    .map((l) => /^([A-Za-z0-9][A-Za-z0-9._-]*)(?:\[[^\]]*\])?==([^\s;\\]+)/.exec(l.trim()))
    .filter((m): m is RegExpExecArray => m !== null)
    .map((m) => `${(m[1] as string).toLowerCase().replace(/[-_.]+/g, '-')}==${m[2] as string}`)
    .sort()
}

function lockOf(side: Side): string | null {
  return side.python?.['requirements.lock.txt'] ?? side.python?.['requirements.txt'] ?? null
}

export function defaultLockWheelhouse(env: NodeJS.ProcessEnv = process.env): string {
  return env.BENTO_CORPUS_LOCK_WHEELHOUSE ?? join(env.BENTO_TOOLS ?? join(REPO, '.tools'), 'corpus-lock-wheelhouse')
}

export async function lockDiff(opts: {corpus: string; projects: string[]; venv: string; wheelhouse: string; jobs?: number}): Promise<LockDiffRow[]> {
  if (!existsSync(opts.wheelhouse)) throw new Error(`no corpus lock wheelhouse at ${opts.wheelhouse}: run scripts/provision/corpus-lock-wheelhouse.sh`)
  const index = await startLocalIndex(opts.wheelhouse)
  const hf = await startHfStandIn()
  try {
    const rows: LockDiffRow[] = new Array<LockDiffRow>(opts.projects.length)
    let next = 0
    const worker = async (): Promise<void> => {
      while (next < opts.projects.length) {
        const i = next++
        const project = opts.projects[i] as string
        const bentofile = LOCK_PROJECTS[project]
        const run = await runProject(join(opts.corpus, project), {
          venv: opts.venv,
          repo: REPO,
          hfEndpoint: hf.endpoint,
          // Only the local index: uv's resolution sees the same packages from both tools.
          lock: {env: {UV_INDEX_URL: index.url, UV_PYTHON_DOWNLOADS: 'never'}},
          ...(bentofile !== undefined ? {bentofile} : {}),
        })
        const theirs = lockOf(run.bentoml)
        const ours = lockOf(run.bento)
        const a = theirs === null ? null : lockedSet(theirs)
        const b = ours === null ? null : lockedSet(ours)
        rows[i] = {
          project,
          bentoml: a,
          bento: b,
          errors: {
            ...(a === null ? {bentoml: run.bentoml.error ?? run.bentoml.readError ?? 'no lock in the Bento'} : {}),
            ...(b === null ? {bento: run.bento.error ?? run.bento.readError ?? 'no lock in the Bento'} : {}),
          },
          onlyBentoml: a && b ? a.filter((p) => !b.includes(p)) : [],
          onlyBento: a && b ? b.filter((p) => !a.includes(p)) : [],
          durationMs: run.durationMs,
        }
      }
    }
    await Promise.all(Array.from({length: Math.max(1, opts.jobs ?? 1)}, worker))
    return rows
  } finally {
    await hf.close()
    await index.close()
  }
}

export function describeRow(r: LockDiffRow): string {
  if (r.bentoml === null || r.bento === null) return `${r.project}: no set to compare (${JSON.stringify(r.errors)})`
  if (r.onlyBentoml.length === 0 && r.onlyBento.length === 0) return `${r.project}: same set (${r.bento.length} packages), ${(r.durationMs / 1000).toFixed(1)} s`
  return `${r.project}: differs: only bentoml build ${r.onlyBentoml.join(' ') || '-'}; only bento build ${r.onlyBento.join(' ') || '-'}`
}

async function main(argv: string[]): Promise<number> {
  const projects = argv.length > 0 ? argv : Object.keys(LOCK_PROJECTS)
  const rows = await lockDiff({corpus: defaultCorpus(), projects, venv: defaultVenv(), wheelhouse: defaultLockWheelhouse(), jobs: 2})
  for (const r of rows) console.log(describeRow(r))
  return rows.every((r) => r.bentoml !== null && r.bento !== null && r.onlyBentoml.length === 0 && r.onlyBento.length === 0) ? 0 : 1
}

if (process.argv[1] && fileURLToPath(import.meta.url) === process.argv[1]) {
  main(process.argv.slice(2)).then(
    (code) => process.exit(code),
    (error: unknown) => {
      console.error(error)
      process.exit(2)
    },
  )
}
