/** Where things are, and how to run each tool the same way in every benchmark. */
import {existsSync, statSync} from 'node:fs'
import {cp, mkdir, readdir, rm, stat, symlink, writeFile} from 'node:fs/promises'
import {join} from 'node:path'
import {fileURLToPath} from 'node:url'

import {type Measured, mustRun, mustRunMeasured, mustRunWithRss, type RunOptions, type RunOutput} from './proc.js'

export const REPO = fileURLToPath(new URL('../../', import.meta.url))
export const BENCH = join(REPO, 'bench')
export const FIXTURES = join(BENCH, 'fixtures')

export interface Tools {
  /** bin/run.js of this checkout (needs `npm run build`). */
  bentoBin: string
  /** The real BentoML 1.4.15 venv and the Keras one (tensorflow-cpu 2.15). */
  venv: string
  kerasVenv: string
  wheelhouse: string
  /** The Docker CLI the provisioning installed (20.10, BuildKit without buildx). */
  docker: string
  /** A directory holding only a `docker` symlink to `docker`, put first on PATH for `bentoml containerize`. */
  dockerBinDir: string
  /** bench/out/<run>: everything big or temporary; git-ignored. */
  out: string
  /** $BENTO_TOOLS (else .tools): what provisioning keeps between runs. */
  toolsDir: string
}

export async function resolveTools(out: string): Promise<Tools> {
  const tools = process.env.BENTO_TOOLS ?? join(REPO, '.tools')
  const t: Tools = {
    bentoBin: join(REPO, 'bin/run.js'),
    venv: process.env.BENTOML_VENV ?? join(tools, 'bentoml-venv'),
    kerasVenv: process.env.BENTOML_KERAS_VENV ?? join(tools, 'bentoml-keras-venv'),
    wheelhouse: process.env.BENTO_WHEELHOUSE ?? join(tools, 'wheelhouse'),
    docker: process.env.BENTO_DOCKER_CLI ?? '/usr/bin/docker',
    dockerBinDir: join(out, 'docker-bin'),
    out,
    toolsDir: tools,
  }
  const need: Array<[string, string]> = [
    [join(REPO, 'dist/commands/index.js'), 'run `npm run build`'],
    [join(t.venv, 'bin/bentoml'), 'run scripts/provision/bentoml-venv.sh'],
    [t.wheelhouse, 'run scripts/provision/wheelhouse.sh'],
  ]
  for (const [path, fix] of need) if (!existsSync(path)) throw new Error(`${path} is missing: ${fix}`)
  await mkdir(t.dockerBinDir, {recursive: true})
  const link = join(t.dockerBinDir, 'docker')
  if (!existsSync(link)) await symlink(t.docker, link)
  return t
}

/** Whether some file under src/ is newer than the compiled CLI (the bench would measure stale code). */
export async function distIsStale(): Promise<boolean> {
  const built = statSync(join(REPO, 'dist/commands/index.js')).mtimeMs
  const walk = async (dir: string): Promise<boolean> => {
    for (const e of await readdir(dir, {withFileTypes: true})) {
      const p = join(dir, e.name)
      if (e.isDirectory() ? await walk(p) : p.endsWith('.ts') && !p.endsWith('.test.ts') && (await stat(p)).mtimeMs > built) return true
    }
    return false
  }
  return walk(join(REPO, 'src'))
}

/** The environment both tools get: the same BENTOML_HOME, no telemetry, the provisioned docker CLI first on PATH. */
export function toolEnv(tools: Tools, home: string): Record<string, string> {
  return {
    BENTOML_HOME: home,
    BENTOML_DO_NOT_TRACK: 'true',
    PATH: `${tools.dockerBinDir}:${process.env.PATH ?? '/usr/bin:/bin'}`,
    COLUMNS: '200',
    NO_COLOR: '1',
    TF_CPP_MIN_LOG_LEVEL: '3',
  }
}

export type Tool = 'bento' | 'bentoml'

export interface ToolRun {
  tools: Tools
  home: string
  cwd?: string
  /** Use the Keras venv's bentoml (for services that import tensorflow). */
  keras?: boolean
  timeoutMs?: number
}

function command(tool: Tool, r: ToolRun, args: readonly string[]): [string, string[], RunOptions] {
  const opts: RunOptions = {cwd: r.cwd, env: toolEnv(r.tools, r.home), timeoutMs: r.timeoutMs}
  if (tool === 'bento') return [process.execPath, [r.tools.bentoBin, ...args], opts]
  return [join(r.keras ? r.tools.kerasVenv : r.tools.venv, 'bin/bentoml'), [...args], opts]
}

export function runTool(tool: Tool, r: ToolRun, args: readonly string[]): Promise<RunOutput> {
  const [cmd, a, opts] = command(tool, r, args)
  return mustRun(cmd, a, opts)
}

export function runToolWithRss(tool: Tool, r: ToolRun, args: readonly string[]): Promise<RunOutput & {rssKiB: number}> {
  const [cmd, a, opts] = command(tool, r, args)
  return mustRunWithRss(cmd, a, opts)
}

/** Wall time, peak RSS and the bytes the tool's processes read and wrote (see `mustRunMeasured`). */
export function runToolMeasured(tool: Tool, r: ToolRun, args: readonly string[]): Promise<RunOutput & Measured> {
  const [cmd, a, opts] = command(tool, r, args)
  return mustRunMeasured(cmd, a, opts)
}

/** A fresh directory under the run's output folder. */
export async function freshDir(tools: Tools, ...parts: string[]): Promise<string> {
  const dir = join(tools.out, ...parts)
  await rm(dir, {recursive: true, force: true})
  await mkdir(dir, {recursive: true})
  return dir
}

/** Copy examples/iris (the sklearn variant) into `dir`, optionally replacing its bentofile. */
export async function irisProject(dir: string, bentofile?: string): Promise<string> {
  await cp(join(REPO, 'examples/iris'), dir, {recursive: true})
  if (bentofile !== undefined) await writeFile(join(dir, 'bentofile.yaml'), bentofile)
  return dir
}

/** Save the sklearn iris model with the real `bentoml.sklearn.save_model` (examples/iris/train.py). */
export async function saveSklearnIris(tools: Tools, home: string): Promise<string> {
  const r = await mustRun(join(tools.venv, 'bin/python'), [join(REPO, 'examples/iris/train.py')], {env: toolEnv(tools, home)})
  const m = /Model saved: (\S+)/.exec(r.stdout)
  if (!m?.[1]) throw new Error(`train.py printed no tag: ${r.stdout}`)
  return m[1]
}

/** Train the benchmarks' own Keras iris model and save it as `flower_model` with `bentoml.keras` (TensorFlow 2.15). */
export async function saveKerasIris(tools: Tools, home: string): Promise<string> {
  if (!existsSync(join(tools.kerasVenv, 'bin/python'))) throw new Error(`${tools.kerasVenv} is missing: run scripts/provision/bentoml-keras-venv.sh`)
  const r = await mustRun(join(tools.kerasVenv, 'bin/python'), [join(FIXTURES, 'train_keras.py')], {env: toolEnv(tools, home)})
  const m = /Model saved: (\S+)/.exec(r.stdout)
  if (!m?.[1]) throw new Error(`train_keras.py printed no tag: ${r.stdout}`)
  return m[1]
}

/** A model of `bytes` bytes (one random-ish weights.bin) saved with the real `bentoml.models.create`. */
export async function saveBigModel(tools: Tools, home: string, name: string, bytes: number): Promise<{tag: string; path: string}> {
  const r = await mustRun(join(tools.venv, 'bin/python'), [join(FIXTURES, 'save_big_model.py'), name, String(bytes)], {
    env: toolEnv(tools, home),
    timeoutMs: 30 * 60_000,
  })
  const m = /Model saved: (\S+) at (\S+)/.exec(r.stdout)
  if (!m?.[1] || !m[2]) throw new Error(`save_big_model.py printed no tag: ${r.stdout}`)
  return {tag: m[1], path: m[2]}
}
