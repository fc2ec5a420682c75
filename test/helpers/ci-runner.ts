/**
 * The two CI runners, as far as the recipes in ci/ use them: a GitHub composite action's `run:` steps (each a
 * `bash --noprofile --norc -eo pipefail` script, `env:` and `working-directory:` with `${{ }}` resolved, its own
 * GITHUB_OUTPUT / GITHUB_ENV / GITHUB_PATH files read after it, the first failing step ends the action), and a GitLab
 * job's `script:` (one `bash -eo pipefail` shell, the job's `variables:` expanded over the predefined ones).
 */
import {mkdir, readFile, writeFile} from 'node:fs/promises'
import {dirname, isAbsolute, join} from 'node:path'

import {parse as parseYaml} from 'yaml'

import {run} from './env.js'

export interface StepRun {
  id: string
  code: number
  durationMs: number
  stdout: string
  stderr: string
  outputs: Record<string, string>
}

export interface ActionRun {
  steps: StepRun[]
  /** The step that failed (the action stops there), if any. */
  failed?: StepRun
  /** The action's `outputs:`, resolved (only when every step passed). */
  outputs: Record<string, string>
}

interface ActionYaml {
  inputs?: Record<string, {default?: string; required?: boolean}>
  outputs?: Record<string, {value: string}>
  runs: {using: string; steps: Array<{id?: string; shell?: string; run?: string; uses?: string; env?: Record<string, string>; 'working-directory'?: string; if?: string}>}
}

/** `NAME=value` and `NAME<<DELIM … DELIM` lines, as GitHub reads GITHUB_OUTPUT and GITHUB_ENV. */
export function parseGithubFile(text: string): Record<string, string> {
  const out: Record<string, string> = {}
  const lines = text.split('\n')
  for (let i = 0; i < lines.length; i++) {
    const line = lines[i] as string
    const heredoc = /^([^=<]+)<<(.+)$/.exec(line)
    if (heredoc) {
      const body: string[] = []
      for (i++; i < lines.length && lines[i] !== heredoc[2]; i++) body.push(lines[i] as string)
      out[heredoc[1] as string] = body.join('\n')
    } else if (line.includes('=')) out[line.slice(0, line.indexOf('='))] = line.slice(line.indexOf('=') + 1)
  }
  return out
}

/**
 * Runs a composite action as the runner does. `env` is the runner's environment (PATH, HOME, RUNNER_TEMP,
 * GITHUB_WORKSPACE, …); the action's own directory is `github.action_path`.
 */
export async function runCompositeAction(actionFile: string, inputs: Record<string, string>, env: Record<string, string>): Promise<ActionRun> {
  const action = parseYaml(await readFile(actionFile, 'utf8')) as ActionYaml
  if (action.runs.using !== 'composite') throw new Error(`${actionFile}: runs.using is ${action.runs.using}, not composite`)
  const given: Record<string, string> = {}
  for (const [name, spec] of Object.entries(action.inputs ?? {})) {
    const value = inputs[name] ?? spec.default ?? ''
    if (spec.required && value === '') throw new Error(`input ${name} is required`)
    given[name] = value
  }
  for (const name of Object.keys(inputs)) if (!(name in given)) throw new Error(`the action has no input ${name}`)
  const stepOutputs: Record<string, Record<string, string>> = {}
  const resolve = (text: string): string =>
    text.replace(/\$\{\{\s*([^}]+?)\s*\}\}/g, (_, expr: string) => {
      let m = /^inputs\.([\w-]+)$/.exec(expr)
      if (m) return given[m[1] as string] ?? ''
      m = /^steps\.([\w-]+)\.outputs\.([\w-]+)$/.exec(expr)
      if (m) return stepOutputs[m[1] as string]?.[m[2] as string] ?? ''
      if (expr === 'github.action_path') return dirname(actionFile)
      throw new Error(`the test runner does not know the expression \${{ ${expr} }}`)
    })

  const temp = env.RUNNER_TEMP as string
  const stepEnv: Record<string, string> = {...env}
  const steps: StepRun[] = []
  let n = 0
  for (const step of action.runs.steps) {
    n++
    if (step.uses !== undefined || step.if !== undefined) throw new Error(`step ${step.id ?? n}: the recipe must not need uses:/if: (the test runs run: steps)`)
    if (step.shell !== 'bash') throw new Error(`step ${step.id ?? n}: shell is ${step.shell}, the recipe uses bash`)
    const id = step.id ?? `step${n}`
    const files = {output: join(temp, `_output_${n}`), env: join(temp, `_env_${n}`), path: join(temp, `_path_${n}`), script: join(temp, `_step_${n}.sh`)}
    await mkdir(temp, {recursive: true})
    for (const f of [files.output, files.env, files.path]) await writeFile(f, '')
    await writeFile(files.script, step.run ?? '')
    const wd = resolve(step['working-directory'] ?? '.')
    const cwd = isAbsolute(wd) ? wd : join(env.GITHUB_WORKSPACE as string, wd)
    const vars: Record<string, string> = {...stepEnv, GITHUB_OUTPUT: files.output, GITHUB_ENV: files.env, GITHUB_PATH: files.path, GITHUB_ACTION_PATH: dirname(actionFile)}
    for (const [k, v] of Object.entries(step.env ?? {})) vars[k] = resolve(String(v))
    const started = performance.now()
    const r = await run('bash', ['--noprofile', '--norc', '-eo', 'pipefail', files.script], {cwd, env: vars, cleanEnv: true, timeoutMs: 600_000})
    const durationMs = Math.round(performance.now() - started)
    const outputs = parseGithubFile(await readFile(files.output, 'utf8'))
    stepOutputs[id] = outputs
    Object.assign(stepEnv, parseGithubFile(await readFile(files.env, 'utf8')))
    const added = (await readFile(files.path, 'utf8')).split('\n').filter(Boolean)
    if (added.length > 0) stepEnv.PATH = [...added.reverse(), stepEnv.PATH].join(':')
    const done: StepRun = {id, code: r.code, durationMs, stdout: r.stdout, stderr: r.stderr, outputs}
    steps.push(done)
    if (r.code !== 0) return {steps, failed: done, outputs: {}}
  }
  const outputs: Record<string, string> = {}
  for (const [name, spec] of Object.entries(action.outputs ?? {})) outputs[name] = resolve(spec.value)
  return {steps, outputs}
}

/** Expands `$NAME` and `${NAME}` as GitLab expands variables (unknown names become empty). */
function expand(value: string, vars: Record<string, string>): string {
  return value.replace(/\$(?:\{(\w+)\}|(\w+))/g, (_, a: string | undefined, b: string | undefined) => vars[(a ?? b) as string] ?? '')
}

/**
 * Runs the `script:` of job `job` of a GitLab CI file: the predefined variables (CI_PROJECT_DIR, …) in `predefined`,
 * the job's `variables:` over them (expanded), the extending job's `variables` over those (as `extends:` merges
 * them), all in one `bash -eo pipefail` shell started in CI_PROJECT_DIR.
 */
export async function runGitlabJob(
  file: string,
  job: string,
  predefined: Record<string, string>,
  overrides: Record<string, string>,
): Promise<{code: number; stdout: string; stderr: string}> {
  const doc = parseYaml(await readFile(file, 'utf8')) as Record<string, {variables?: Record<string, string>; before_script?: string[]; script?: string[]}>
  const spec = doc[job]
  if (spec?.script === undefined) throw new Error(`${file} has no job ${job} with a script`)
  const vars: Record<string, string> = {...predefined}
  const merged = {...spec.variables, ...overrides}
  for (const [k, v] of Object.entries(merged)) vars[k] = String(v)
  // GitLab expands references between variables; two passes cover the template's one level of nesting.
  for (let pass = 0; pass < 2; pass++) for (const k of Object.keys(merged)) vars[k] = expand(vars[k] as string, vars)
  const script = [...(spec.before_script ?? []), ...spec.script].join('\n')
  return run('bash', ['--noprofile', '--norc', '-eo', 'pipefail', '-c', script], {cwd: predefined.CI_PROJECT_DIR, env: vars, cleanEnv: true, timeoutMs: 600_000})
}
