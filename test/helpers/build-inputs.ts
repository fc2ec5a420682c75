/**
 * Building blocks of the bad-input CLI tests of `bento build` (test/unit/build-errors*.test.ts): a model store
 * written by hand, projects from an object literal, a snapshot of the store, and the error contract check.
 */
import {execFile} from 'node:child_process'
import {mkdir, readdir, readFile, rm, writeFile} from 'node:fs/promises'
import {join, relative} from 'node:path'
import {promisify} from 'node:util'

import {expect} from 'vitest'

import {runBentoInProcess} from './cli-in-process.js'
import {REPO, type RunResult, runBento, tempDir} from './env.js'
import {writeTree} from './files.js'

const execFileP = promisify(execFile)

export const MODEL_VERSION = 'ztwoitq3vgzr3mxk'
/** model.yaml with every key BentoML requires (§3 of the format doc); `overrides` replace or (undefined) drop keys. */
export function modelYaml(name: string, version: string, overrides: Record<string, unknown> = {}): string {
  const info: Record<string, unknown> = {
    name,
    version,
    module: 'bentoml.sklearn',
    labels: {},
    options: {},
    metadata: {},
    context: {
      framework_name: 'sklearn',
      framework_versions: {'scikit-learn': '1.5.2'},
      bentoml_version: '1.4.15',
      python_version: '3.11.7',
    },
    signatures: {predict: {batchable: false}},
    api_version: 'v1',
    creation_time: '2025-05-30T10:11:12.123456+00:00',
    ...overrides,
  }
  // JSON is YAML flow syntax: every string quoted, so creation_time stays a string as PyYAML writes it.
  return Object.entries(info)
    .filter(([, v]) => v !== undefined)
    .map(([k, v]) => `${k}: ${JSON.stringify(v)}\n`)
    .join('')
}

/** A model store entry `models/<name>/<version>/{model.yaml, saved_model.pkl}` and `models/<name>/latest`. */
export async function writeModel(home: string, opts: {name?: string; version?: string; yaml?: string; bytes?: number} = {}): Promise<string> {
  const name = opts.name ?? 'iris_clf'
  const version = opts.version ?? MODEL_VERSION
  const dir = join(home, 'models', name, version)
  await mkdir(dir, {recursive: true})
  await writeFile(join(dir, 'model.yaml'), opts.yaml ?? modelYaml(name, version))
  await writeFile(join(dir, 'saved_model.pkl'), Buffer.alloc(opts.bytes ?? 2048, 7))
  await writeFile(join(home, 'models', name, 'latest'), version)
  return dir
}

export const BENTOFILE = 'service: "service:svc"\ninclude:\n  - "*.py"\npython:\n  packages:\n    - scikit-learn\n'

/** A project dir from an object literal of files (paths relative to it); service.py is the iris example's. */
export async function makeProject(files: Record<string, string | Buffer> = {}, root?: string): Promise<string> {
  const service = await readFile(join(REPO, 'examples/iris/service.py'))
  return writeTree(root ?? (await tempDir('bento-bad-proj-')), {'service.py': service, 'bentofile.yaml': BENTOFILE, ...files})
}

export async function walk(dir: string, root = dir): Promise<string[]> {
  let entries
  try {
    entries = await readdir(dir, {withFileTypes: true})
  } catch {
    return []
  }
  const out: string[] = []
  for (const e of entries) {
    const p = join(dir, e.name)
    out.push(relative(root, p))
    if (e.isDirectory()) out.push(...(await walk(p, root)))
  }
  return out.sort()
}

/** What "the store is unchanged" compares: every path under bentos/, and what tmp/ holds. */
export async function snapshot(home: string): Promise<{bentos: string[]; tmp: string[]}> {
  return {bentos: await walk(join(home, 'bentos')), tmp: await walk(join(home, 'tmp'))}
}

export interface ErrorJson {
  error: {code: string; exitCode: number; message: string; hint?: string; [key: string]: unknown}
}

/** The error contract: exit code, code, no stack, exactly one JSON error object on stdout. */
export function expectError(r: RunResult, code: string, exitCode: number, message?: RegExp, observed?: Map<string, number>): ErrorJson['error'] {
  const context = `stdout:\n${r.stdout}\nstderr:\n${r.stderr}`
  expect(r.code, context).toBe(exitCode)
  expect(r.stderr, context).not.toContain('    at ')
  expect(r.stderr, context).toContain(`Error [${code}]: `)
  const json = JSON.parse(r.stdout) as ErrorJson
  expect(Object.keys(json), context).toEqual(['error'])
  expect(json.error).toMatchObject({code, exitCode})
  observed?.set(code, exitCode)
  expect(typeof json.error.message).toBe('string')
  if (message) expect(json.error.message, context).toMatch(message)
  return json.error
}

/** `bento build --json ARGS` in `project` with BENTOML_HOME=`home`: the compiled CLI, in this process (cli-in-process.ts). */
export async function build(project: string, home: string, args: string[] = []): Promise<RunResult> {
  return runBentoInProcess(['build', '--json', ...args], {cwd: project, env: {BENTOML_HOME: home}})
}

/** The same build in a child process of its own: for builds that must run at the same time. */
export async function buildInChild(project: string, home: string, args: string[] = []): Promise<RunResult> {
  return runBento(['build', '--json', ...args], {cwd: project, env: {BENTOML_HOME: home}})
}

export async function sh(cmd: string, args: string[]): Promise<void> {
  await execFileP(cmd, args)
}

/** Temp dirs and mounts a test file made, undone by `cleanup()` (call it in afterAll). */
export class Scratch {
  private readonly undo: Array<() => Promise<void>> = []

  add(f: () => Promise<void>): void {
    this.undo.push(f)
  }

  async dir(prefix: string): Promise<string> {
    const dir = await tempDir(prefix)
    this.add(() => rm(dir, {recursive: true, force: true}))
    return dir
  }

  async cleanup(): Promise<void> {
    for (const f of this.undo.reverse()) await f().catch(() => {})
    this.undo.length = 0
  }
}

/** A tmpfs mounted on `dir` (needs root), unmounted by `scratch.cleanup()`. */
export async function tmpfs(scratch: Scratch, dir: string, options: string): Promise<void> {
  await mkdir(dir, {recursive: true})
  await sh('mount', ['-t', 'tmpfs', '-o', options, 'tmpfs', dir])
  scratch.add(() => sh('umount', ['-l', dir]))
}
