import {execFile} from 'node:child_process'
import {chmod, mkdir, mkdtemp, readFile, rm, writeFile} from 'node:fs/promises'
import os from 'node:os'
import path from 'node:path'
import {promisify} from 'node:util'

import {afterEach, beforeEach, describe, expect, it} from 'vitest'

import {UsageError} from '../errors.js'
import {entrypointScript, renderInstallSh} from './install-script.js'

const run = promisify(execFile)

let dir: string
let bin: string
let calls: string

/** A fake executable that appends "name arg1 arg2 …" (args JSON-encoded) to calls.log. */
async function fake(name: string, body = ''): Promise<void> {
  const script = `#!/usr/bin/env bash
printf '%s' ${name} >> "${calls}"
for a in "$@"; do printf ' [%s]' "$a" >> "${calls}"; done
printf '\\n' >> "${calls}"
${body}
`
  await writeFile(path.join(bin, name), script)
  await chmod(path.join(bin, name), 0o755)
}

beforeEach(async () => {
  dir = await mkdtemp(path.join(os.tmpdir(), 'bento-scripts-'))
  bin = path.join(dir, 'bin')
  calls = path.join(dir, 'calls.log')
  await mkdir(bin)
  await writeFile(calls, '')
})
afterEach(async () => {
  await rm(dir, {recursive: true, force: true})
})

const baseEnv = (): Record<string, string> => ({PATH: `${bin}:/usr/bin:/bin`, HOME: dir})
const log = async (): Promise<string[]> => (await readFile(calls, 'utf8')).split('\n').filter(Boolean)

describe('entrypoint.sh', () => {
  let entry: string
  beforeEach(async () => {
    entry = path.join(dir, 'entrypoint.sh')
    await writeFile(entry, entrypointScript())
    await chmod(entry, 0o755)
    await fake('bentoml', 'echo "BENTOML_PORT=${BENTOML_PORT:-unset}"')
    await fake('python')
  })
  const entrypoint = async (args: string[], env: Record<string, string> = {}) =>
    run('bash', [entry, ...args], {cwd: dir, env: {...baseEnv(), BENTO_PATH: '/bento', ...env}})

  it('no args: bentoml serve $BENTO_PATH', async () => {
    await entrypoint([])
    expect(await log()).toEqual(['bentoml [serve] [/bento]'])
  })

  it('first arg a flag: bentoml serve FLAGS $BENTO_PATH', async () => {
    await entrypoint(['--port', '4000', '--development'])
    expect(await log()).toEqual(['bentoml [serve] [--port] [4000] [--development] [/bento]'])
  })

  it('serve, serve-http, serve-grpc, start-*: bentoml ARGS $BENTO_PATH', async () => {
    for (const cmd of ['serve', 'serve-http', 'serve-grpc', 'start-http-server']) await entrypoint([cmd, '--x'])
    expect(await log()).toEqual([
      'bentoml [serve] [--x] [/bento]',
      'bentoml [serve-http] [--x] [/bento]',
      'bentoml [serve-grpc] [--x] [/bento]',
      'bentoml [start-http-server] [--x] [/bento]',
    ])
  })

  it('anything else runs as is', async () => {
    const {stdout} = await entrypoint(['echo', 'hello world'])
    expect(stdout).toBe('hello world\n')
    expect(await log()).toEqual([])
  })

  it('$PORT becomes $BENTOML_PORT', async () => {
    const {stdout, stderr} = await entrypoint([], {PORT: '8080'})
    expect(stdout).toContain('BENTOML_PORT=8080')
    expect(stderr).toContain('$PORT is set')
    const without = await entrypoint([])
    expect(without.stdout).toContain('BENTOML_PORT=unset')
  })

  it('BENTOML_SERVE_COMPONENT selects a start-* command', async () => {
    await entrypoint([], {BENTOML_SERVE_COMPONENT: 'runner'})
    expect(await log()).toEqual(['bentoml [start-runner-server] [/bento]'])
  })

  it('rewrites yatai-era python -m commands', async () => {
    await entrypoint(['python', '-m', 'bentoml._internal.server.cli.api_server', '--port', '3000'])
    expect(await log()).toEqual(['bentoml [start-http-server] [--port] [3000]'])
  })

  it('activates ./.venv when present', async () => {
    await mkdir(path.join(dir, '.venv', 'bin'), {recursive: true})
    await writeFile(path.join(dir, '.venv', 'bin', 'activate'), 'export VENV_ACTIVE=yes\n')
    const {stdout} = await entrypoint(['bash', '-c', 'echo $VENV_ACTIVE'])
    expect(stdout).toBe('yes\n')
  })
})

describe('install.sh', () => {
  let envPython: string
  let script: string
  beforeEach(async () => {
    envPython = path.join(dir, 'env', 'python')
    await mkdir(path.join(envPython, 'wheels'), {recursive: true})
    script = path.join(envPython, 'install.sh')
  })
  const install = async (opts: {pipArgs?: string[]; env?: Record<string, string>} = {}) => {
    await writeFile(script, renderInstallSh({bentomlVersion: '1.4.15', pipArgs: opts.pipArgs ?? []}))
    return run('bash', [script], {cwd: dir, env: {...baseEnv(), ...opts.env}})
  }

  it('renders PIP_ARGS shell-quoted and the bentoml version', () => {
    const text = renderInstallSh({bentomlVersion: '1.4.15', pipArgs: ['--index-url', 'https://x/simple', "it's"]})
    expect(text).toContain(`PIP_ARGS=(--index-url https://x/simple 'it'"'"'s')`)
    expect(text).toContain('BENTOML_VERSION="${BENTOML_VERSION:-1.4.15}"')
    expect(renderInstallSh({bentomlVersion: '1.4.15', pipArgs: []})).toContain('PIP_ARGS=()\n')
    expect(() => renderInstallSh({bentomlVersion: '1.4.15"; rm -rf /', pipArgs: []})).toThrow(UsageError)
  })

  it('installs requirements.txt, wheels, then bentoml when missing (pip3)', async () => {
    await writeFile(path.join(envPython, 'requirements.txt'), 'numpy\n')
    await writeFile(path.join(envPython, 'wheels', 'a-1.0-py3-none-any.whl'), '')
    await fake('pip3')
    await fake('python3', 'exit 1') // `import bentoml` fails
    await install({pipArgs: ['--index-url', 'https://pypi.example/simple']})
    expect(await log()).toEqual([
      'pip3 [install] [-r] [requirements.txt] [--index-url] [https://pypi.example/simple]',
      `pip3 [install] [${envPython}/wheels/a-1.0-py3-none-any.whl] [--index-url] [https://pypi.example/simple]`,
      'python3 [-c] [import bentoml; print(bentoml.__version__)]',
      'pip3 [install] [bentoml==1.4.15] [--index-url] [https://pypi.example/simple]',
    ])
  })

  it('prefers requirements.lock.txt and uv; warns on a different installed bentoml', async () => {
    await writeFile(path.join(envPython, 'requirements.txt'), 'numpy\n')
    await writeFile(path.join(envPython, 'requirements.lock.txt'), 'numpy==2.0\n')
    await fake('uv')
    await fake('pip3')
    await fake('python3', 'echo 1.4.0')
    const {stderr} = await install()
    expect(await log()).toEqual(['uv [pip] [install] [-r] [requirements.lock.txt]', 'python3 [-c] [import bentoml; print(bentoml.__version__)]'])
    expect(stderr).toContain('WARNING: the Bento was built with bentoml 1.4.15 but 1.4.0 is installed')
  })

  it('a hashed requirements.lock.txt (bento build\'s lock) is installed with --require-hashes; wheels and bentoml are not', async () => {
    await writeFile(path.join(envPython, 'requirements.txt'), 'numpy\n')
    await writeFile(path.join(envPython, 'requirements.lock.txt'), 'numpy==2.0 \\\n    --hash=sha256:' + 'a'.repeat(64) + '\n')
    await writeFile(path.join(envPython, 'wheels', 'a-1.0-py3-none-any.whl'), '')
    await fake('pip3')
    await fake('python3', 'exit 1')
    await install({pipArgs: ['--no-index']})
    expect(await log()).toEqual([
      'pip3 [install] [-r] [requirements.lock.txt] [--require-hashes] [--no-index]',
      `pip3 [install] [${envPython}/wheels/a-1.0-py3-none-any.whl] [--no-index]`,
      'python3 [-c] [import bentoml; print(bentoml.__version__)]',
      'pip3 [install] [bentoml==1.4.15] [--no-index]',
    ])
  })

  it('BENTOML_VERSION overrides the default', async () => {
    await fake('pip3')
    await fake('python3', 'exit 1')
    await install({env: {BENTOML_VERSION: '1.4.14'}})
    expect((await log()).at(-1)).toBe('pip3 [install] [bentoml==1.4.14]')
  })

  it('offline: --no-index and --find-links for the wheelhouse and wheels/', async () => {
    const wheelhouse = path.join(dir, 'wheelhouse')
    await mkdir(wheelhouse)
    await writeFile(path.join(wheelhouse, 'numpy-2.0-cp311-none-any.whl'), '')
    await writeFile(path.join(envPython, 'wheels', 'a-1.0-py3-none-any.whl'), '')
    await writeFile(path.join(envPython, 'requirements.txt'), 'numpy\n')
    await fake('pip3')
    await fake('python3', 'echo 1.4.15')
    await install({env: {BENTO_PIP_OFFLINE: '1', BENTO_WHEELHOUSE: wheelhouse}})
    expect((await log())[0]).toBe(`pip3 [install] [-r] [requirements.txt] [--no-index] [--find-links] [${wheelhouse}] [--find-links] [${envPython}/wheels]`)
  })

  it('offline without any wheels warns but stays offline', async () => {
    await writeFile(path.join(envPython, 'requirements.txt'), 'numpy\n')
    await fake('pip3')
    await fake('python3', 'echo 1.4.15')
    const {stderr} = await install({env: {BENTO_PIP_OFFLINE: '1', BENTO_WHEELHOUSE: path.join(dir, 'missing')}})
    expect(stderr).toContain('BENTO_PIP_OFFLINE=1 but no wheels')
    expect((await log())[0]).toBe('pip3 [install] [-r] [requirements.txt] [--no-index]')
  })

  it('a failing pip fails the script', async () => {
    await writeFile(path.join(envPython, 'requirements.txt'), 'nonexistent\n')
    await fake('pip3', 'exit 1')
    await fake('python3', 'echo 1.4.15')
    await expect(install()).rejects.toMatchObject({code: 1})
  })
})
