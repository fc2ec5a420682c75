/**
 * One project of the differential corpus, built twice on copies: by the real `bentoml build` (driver.py, one BentoML
 * process) and by `bento build` (bin/run.js, against dist/), with the same BENTOML_HOME, HF_ENDPOINT and environment.
 * Both Bentos are then read by the real BentoML (`bentoml get -o json`, in the same driver process).
 */
import {spawn} from 'node:child_process'
import {existsSync} from 'node:fs'
import {chmod, cp, mkdir, mkdtemp, readFile, rm, writeFile} from 'node:fs/promises'
import {tmpdir} from 'node:os'
import {basename, join} from 'node:path'
import {createInterface} from 'node:readline'
import {fileURLToPath} from 'node:url'

const HERE = fileURLToPath(new URL('.', import.meta.url))
const MARK = '__corpus_diff__ '

/** What one tool made of a project: the Bento as the real BentoML reads it, or why there is none. */
export interface Side {
  tag?: string
  /** `bentoml get -o json` of the Bento. */
  info?: Record<string, unknown>
  /** The files under the Bento's `src/`, relative, sorted. */
  src?: string[]
  /** The Bento's `env/python/requirements.txt` and (spec 1) `requirements.lock.txt`, by name. */
  python?: Record<string, string>
  /** The build's error (bento: `CODE message`). */
  error?: string
  /** Why the real lock (`uv pip compile`) would have failed this build; the Bento is the unlocked one. */
  lockRefusal?: string
  /** The Bento was built but the real BentoML cannot read it. */
  readError?: string
}

export interface ProjectRun {
  project: string
  bentoml: Side
  bento: Side
  /** The packages stubbed for `bentoml build`. */
  stubs: string[]
  /** The models saved in the store (by the real BentoML) before the builds. */
  models: string[]
  durationMs: number
}

export interface HarnessOptions {
  /** The BentoML 1.4.40 venv (its bin/python, bin/uv). */
  venv: string
  /** The repository whose bin/run.js (and dist/) is `bento`. */
  repo: string
  hfEndpoint: string
  /** Extra environment for both builds. */
  env?: NodeJS.ProcessEnv
  /**
   * A site directory of real packages (e.g. fastapi) put on BentoML's PYTHONPATH before the stubs: what it holds is
   * imported, not stubbed (CORPUS_DIFF_SITE).
   */
  site?: string
  /**
   * The `service:` both tools build, written as a bentofile.yaml into both copies (EXTRA_BENTOFILES): for projects
   * that hold two services and no bentofile. The project must not have a bentofile.yaml of its own.
   */
  service?: string
  /** The row's name (default: the directory's name). */
  name?: string
  timeoutMs?: number
  /**
   * Lock for real (scripts/lock-diff/): both builds run the venv's uv (no stand-in) and `bento build` locks too, with
   * `env` (e.g. UV_INDEX_URL naming a local index) for both.
   */
  lock?: {env: NodeJS.ProcessEnv}
  /** A bentofile.yaml written into both copies (for a project that has none). */
  bentofile?: string
}

/**
 * `uv pip compile IN --output-file=OUT` without PyPI: the requirements as they are. Where two exact pins of one
 * package disagree (`bentoml==1.4.11` of the project beside the `bentoml==1.4.40` BentoML appends) uv refuses ("your
 * requirements are unsatisfiable"), the one lock failure the corpus meets: its message goes to `log` and the build
 * goes on unlocked, so the other keys are still compared (the row says the real lock refuses). The harness compares
 * requirements by package name, which a real lock would only blur (and it needs PyPI and time). Any other `uv` call
 * goes to the venv's uv.
 */
function fakeUv(venv: string, log: string): string {
  return `#!${join(venv, 'bin/python')}
import os, re, shutil, sys
args = sys.argv[1:]
if args[:2] != ["pip", "compile"]:
    os.execv(${JSON.stringify(join(venv, 'bin/uv'))}, ["uv", *args])
src = args[2]
out = next(a.split("=", 1)[1] for a in args if a.startswith("--output-file="))
pins = {}
for line in open(src):
    m = re.match(r"^\\s*([A-Za-z0-9][A-Za-z0-9._-]*)(?:\\[[^\\]]*\\])?\\s*==\\s*([^\\s;#]+)", line)
    if not m:
        continue
    name = re.sub(r"[-_.]+", "-", m.group(1)).lower()
    if name in pins and pins[name] != m.group(2):
        with open(${JSON.stringify(log)}, "a") as f:
            f.write(f"Because you require {name}=={pins[name]} and {name}=={m.group(2)}, we can conclude that your requirements are unsatisfiable.\\n")
    pins[name] = m.group(2)
shutil.copyfile(src, out)
`
}

export async function runProject(projectDir: string, opts: HarnessOptions): Promise<ProjectRun> {
  const started = Date.now()
  const project = opts.name ?? basename(projectDir)
  const tmp = await mkdtemp(join(tmpdir(), `corpus-diff-${basename(projectDir)}-`))
  try {
    const home = join(tmp, 'home')
    const stubs = join(tmp, 'stubs')
    const bin = join(tmp, 'bin')
    const ours = join(tmp, 'bento', basename(projectDir))
    const theirs = join(tmp, 'bentoml', basename(projectDir))
    await Promise.all([mkdir(home), mkdir(stubs), mkdir(bin)])
    await cp(projectDir, ours, {recursive: true})
    await cp(projectDir, theirs, {recursive: true})
    if (opts.bentofile !== undefined) for (const d of [ours, theirs]) await writeFile(join(d, 'bentofile.yaml'), opts.bentofile)
    if (opts.service !== undefined) {
      if (existsSync(join(projectDir, 'bentofile.yaml'))) throw new Error(`${project}: has a bentofile.yaml of its own; EXTRA_BENTOFILES is for projects without one`)
      const bentofile = `service: ${JSON.stringify(opts.service)}\n`
      await Promise.all([writeFile(join(ours, 'bentofile.yaml'), bentofile), writeFile(join(theirs, 'bentofile.yaml'), bentofile)])
    }
    if (opts.lock === undefined) {
      await writeFile(join(bin, 'uv'), fakeUv(opts.venv, join(tmp, 'lock-refusals.log')))
      await chmod(join(bin, 'uv'), 0o755)
    }
    const env: NodeJS.ProcessEnv = {
      ...process.env,
      ...opts.env,
      ...(opts.lock ? {...opts.lock.env, BENTO_UV: join(opts.venv, 'bin/uv'), UV_CACHE_DIR: join(tmp, 'uv-cache')} : {}),
      BENTOML_HOME: home,
      BENTOML_DO_NOT_TRACK: 'true',
      HF_ENDPOINT: opts.hfEndpoint,
      PYTHONPATH: opts.site ? `${opts.site}:${stubs}` : stubs,
      PYTHONDONTWRITEBYTECODE: '1',
      COLUMNS: '10000',
      PATH: `${bin}:${join(opts.venv, 'bin')}:${process.env.PATH ?? ''}`,
    }
    const deadline = AbortSignal.timeout(opts.timeoutMs ?? 240_000)
    const driver = spawn(join(opts.venv, 'bin/python'), [join(HERE, 'driver.py'), theirs, stubs], {
      cwd: theirs,
      env,
      stdio: ['pipe', 'pipe', 'pipe'],
      signal: deadline,
    })
    let stderr = ''
    driver.stderr.on('data', (d: Buffer) => (stderr = (stderr + d.toString()).slice(-20_000)))
    driver.on('error', () => {})
    const messages = (async function* () {
      for await (const line of createInterface({input: driver.stdout})) {
        if (line.startsWith(MARK)) yield JSON.parse(line.slice(MARK.length)) as Record<string, unknown>
      }
    })()
    const ready = (await messages.next()).value as {stubs: string[]; models: string[]} | undefined
    if (!ready) throw new Error(`the BentoML driver ended before it was ready:\n${stderr}`)

    const bento = await bentoBuild(ours, opts.repo, env, deadline, opts.lock !== undefined)
    driver.stdin.end(`${bento.tag ?? ''}\n`)
    const result = (await messages.next()).value as {bentoml: Side; bento: Side | null} | undefined
    if (!result) throw new Error(`the BentoML driver ended without a result:\n${stderr}`)
    const ourSide: Side = bento.tag ? {...result.bento, tag: bento.tag} : {error: bento.error}
    const lockRefusal = await readFile(join(tmp, 'lock-refusals.log'), 'utf8').catch(() => '')
    if (lockRefusal) result.bentoml.lockRefusal = lockRefusal.trim()
    return {project, bentoml: result.bentoml, bento: ourSide, stubs: ready.stubs, models: ready.models, durationMs: Date.now() - started}
  } finally {
    await rm(tmp, {recursive: true, force: true})
  }
}

/**
 * `bento build --no-lock`: BentoML's side gets a copy for its lock (above), so both sides compare the requirements as
 * written; a real lock here would need PyPI (the venv's uv is on PATH) and compare resolutions, not the two tools.
 * With `lock` (scripts/lock-diff/), `bento build` locks, as BentoML's side does with the real uv.
 */
async function bentoBuild(dir: string, repo: string, env: NodeJS.ProcessEnv, signal: AbortSignal, lock: boolean): Promise<{tag?: string; error?: string}> {
  const args = [join(repo, 'bin/run.js'), 'build', '.', '--json', ...(lock ? [] : ['--no-lock'])]
  const child = spawn(process.execPath, args, {cwd: dir, env, stdio: ['ignore', 'pipe', 'pipe'], signal})
  let stdout = ''
  let stderr = ''
  child.stdout.on('data', (d: Buffer) => (stdout += d.toString()))
  child.stderr.on('data', (d: Buffer) => (stderr += d.toString()))
  const code = await new Promise<number>((resolve) => {
    child.on('close', (c) => resolve(c ?? 1))
    child.on('error', () => resolve(1))
  })
  try {
    const json = JSON.parse(stdout) as {tag?: string; error?: {code: string; message: string}}
    if (code === 0 && json.tag) return {tag: json.tag}
    if (json.error) return {error: `${json.error.code} ${json.error.message}`}
  } catch {}
  return {error: `exit ${code}: ${(stderr || stdout).trim().slice(-2000)}`}
}
