/**
 * The static reading of `@bentoml.service` / `bentoml.images.Image` against the REAL `bentoml build` 1.4.40, on
 * every fixture of test/fixtures/sdk-projects: the real build runs with a spy on `Image.freeze`
 * (spy_build.py) that records the image before locking; bento.yaml gives envs, labels, args and
 * services[].config. The same project is read by bento's evaluator + merge, and the two must agree. Fixtures
 * bento refuses are built by BentoML (proving they import) and refused by bento at the expected line.
 */
import {createHash} from 'node:crypto'
import {existsSync, readFileSync, readdirSync, realpathSync} from 'node:fs'
import {availableParallelism} from 'node:os'
import {join} from 'node:path'

import {parse as parseToml} from 'smol-toml'
import {afterAll, beforeAll, describe, expect, it} from 'vitest'
import {parse as parseYaml} from 'yaml'

import {argSourceOrder, type BentoArgSource, mergeBentoArgs} from '../../src/bentoml/args.js'
import {type ImageBuildConfig, imageFilesFor, ImageMergeError, populateImageFromBuildConfig, scriptTarget} from '../../src/bentoml/image.js'
import {readService} from '../../src/python/service/service.js'
import {readSdkConfig} from '../../src/python/service/sdk-config.js'
import {runBentoInProcess} from '../helpers/cli-in-process.js'
import {bentomlVenv, removeDir, REPO, tempDir} from '../helpers/env.js'
import {startZygote, type Zygote} from '../helpers/zygote.js'
import {cp, readFile} from 'node:fs/promises'

const FIXTURES = join(REPO, 'test/fixtures/sdk-projects')
const names = readdirSync(FIXTURES, {withFileTypes: true})
  .filter((d) => d.isDirectory())
  .map((d) => d.name)
  .sort()

interface FixtureMeta {
  args?: string[]
  refuse?: Array<{where: string; contains: string}>
  bentomlFails?: string
  /** BentoML's merge with the bentofile raises: bento's merge throws the same, naming the key. */
  mergeError?: {key: string; message: string}
  /** Set in the environment of both builds (the service module reads it with os.getenv / os.environ). */
  env?: Record<string, string>
}

interface Spied {
  base_image: string
  distro: string
  python_version: string
  commands: string[]
  lock_python_packages: boolean
  pack_git_packages: boolean
  python_requirements: string
  post_commands: string[]
  build_include_paths: string[]
  scripts: Record<string, string>
}

function listFiles(dir: string, rel = ''): string[] {
  return readdirSync(join(dir, rel), {withFileTypes: true}).flatMap((e) => {
    const r = rel ? `${rel}/${e.name}` : e.name
    return e.isDirectory() ? listFiles(dir, r) : [r]
  })
}

/** `BentoBuildConfig.from_pyproject`: `[tool.bentoml.build]`, with `[project].dependencies` appended to `python.packages`. */
function fromPyproject(dir: string): Record<string, unknown> {
  const doc = parseToml(readFileSync(join(dir, 'pyproject.toml'), 'utf8')) as {tool: {bentoml: {build: Record<string, unknown>}}; project?: {dependencies?: string[]}}
  const cfg = doc.tool.bentoml.build
  const python = (cfg.python ?? {}) as {packages?: string[]}
  return {...cfg, python: {...python, packages: [...(python.packages ?? []), ...(doc.project?.dependencies ?? [])]}}
}

/** The fixture's sources and build config as `bento` reads them. */
function ours(dir: string, meta: FixtureMeta) {
  const files = new Map<string, string>()
  const walk = (rel: string): void => {
    for (const e of readdirSync(join(dir, rel), {withFileTypes: true})) {
      const r = rel ? `${rel}/${e.name}` : e.name
      if (e.isDirectory()) walk(r)
      else if (e.name.endsWith('.py')) files.set(r, readFileSync(join(dir, r), 'utf8'))
    }
  }
  walk('')
  const raw = (existsSync(join(dir, 'bentofile.yaml')) ? parseYaml(readFileSync(join(dir, 'bentofile.yaml'), 'utf8')) : fromPyproject(dir)) as ImageBuildConfig & {
    service: string
    labels?: Record<string, string>
    envs?: Array<{name: string; value?: string; stage?: string}>
    args?: Record<string, unknown>
  }
  const argv = meta.args ?? []
  const sources: BentoArgSource[] = argSourceOrder(argv).map((kind) => {
    if (kind === 'arg') return {kind, values: argv.flatMap((a, i) => (a === '--arg' ? [argv[i + 1] as string] : []))}
    const path = argv[argv.indexOf('--arg-file') + 1] as string
    return {kind, path, data: parseYaml(readFileSync(join(dir, path), 'utf8')) as unknown}
  })
  const args = mergeBentoArgs(sources, raw.args ?? {})
  const service = readService({files, service: raw.service})
  const ctx = realpathSync(dir)
  const imageFiles = imageFilesFor(ctx, {
    realpath: (p) => {
      try {
        return realpathSync(p)
      } catch {
        return undefined
      }
    },
    readText: (p) => {
      try {
        return readFileSync(p, 'utf8')
      } catch {
        return undefined
      }
    },
  })
  const sdk = readSdkConfig({
    files,
    module: service.module,
    args,
    imageFiles,
    services: service.services.map((s) => ({file: s.file, line: s.line})),
    cpuCount: availableParallelism(),
    environ: {...process.env, ...meta.env},
  })
  const entry = sdk.services[0] ?? null
  let merged: ReturnType<typeof populateImageFromBuildConfig> | undefined
  let mergeError: {key: string; message: string} | undefined
  if (entry && !sdk.diagnostics.some((d) => d.severity === 'error')) {
    try {
      merged = populateImageFromBuildConfig(entry.image, raw, {files: imageFiles})
    } catch (e) {
      if (!(e instanceof ImageMergeError)) throw e
      mergeError = {key: e.key, message: e.message}
    }
  }
  return {raw, args, service, sdk, entry, merged, mergeError}
}

describe('static @bentoml.service / Image reading ⇄ real bentoml build 1.4.40', () => {
  let home: string
  let ourHome: string
  // One Python for the file: BentoML's CLI and the spy's imports once, each fixture's build in a fork (test/helpers/zygote.ts).
  let python: Zygote
  beforeAll(async () => {
    home = await tempDir('bento-sdk-home-')
    ourHome = await tempDir('bento-sdk-ours-')
    python = startZygote(bentomlVenv('1.4.40').python, ['attrs', '_bentoml_sdk', 'bentoml_cli.cli'], {BENTOML_DO_NOT_TRACK: 'true'})
  })
  afterAll(async () => {
    await python.close()
    await removeDir(home)
    await removeDir(ourHome)
  })

  for (const name of names) {
    it(name, async () => {
      const src = join(FIXTURES, name)
      const meta = (existsSync(join(src, 'fixture.json')) ? JSON.parse(readFileSync(join(src, 'fixture.json'), 'utf8')) : {}) as FixtureMeta
      const dir = await tempDir(`bento-sdk-${name}-`)
      try {
        await cp(src, dir, {recursive: true})
        const spyOut = join(dir, '.spy.json')
        const r = await python.run([join(FIXTURES, 'spy_build.py'), spyOut, ...(meta.args ?? []), '-o', 'tag'], {
          cwd: dir,
          env: {...meta.env, BENTOML_HOME: home, BENTOML_DO_NOT_TRACK: 'true'},
        })
        const mine = ours(dir, meta)
        // The whole path: the CLI (dist/) builds the same project, with the same --arg/--arg-file.
        const built = await runBentoInProcess(['build', '.', '--json', ...(meta.args ?? [])], {cwd: dir, env: {...meta.env, BENTOML_HOME: ourHome}})
        if (meta.bentomlFails || meta.refuse || meta.mergeError) {
          // What bento refuses is exit 3 (E_CONFIG) naming the file:line, and nothing is written to the store.
          expect(built.code, built.stdout).toBe(3)
          const err = JSON.parse(built.stdout || built.stderr) as {error: {code: string; message: string}}
          expect(err.error.code).toBe('E_CONFIG')
          for (const want of meta.refuse ?? []) {
            expect(err.error.message).toContain(want.where)
            expect(err.error.message).toContain(want.contains)
          }
          if (meta.mergeError) {
            // at the line of the bentofile key whose merge BentoML refuses
            const line = readFileSync(join(dir, 'bentofile.yaml'), 'utf8').split('\n').findIndex((l) => l.trimStart().startsWith(`${meta.mergeError?.key.split('.').at(-1)}:`)) + 1
            expect(err.error.message).toContain(`bentofile.yaml:${line}:`)
            expect(err.error.message).toContain(meta.mergeError.message)
          }
          expect(existsSync(join(ourHome, 'bentos')) ? listFiles(join(ourHome, 'bentos')).filter((f) => f.startsWith(`${name}/`)) : []).toEqual([])
        } else {
          expect(built.code, built.stderr + built.stdout).toBe(0)
        }
        if (meta.bentomlFails) {
          expect(r.code, r.stdout).not.toBe(0)
          expect(r.stderr).toContain(meta.bentomlFails)
        } else {
          expect(r.code, r.stderr).toBe(0)
        }
        if (meta.mergeError) {
          expect(mine.mergeError).toEqual(meta.mergeError)
          return
        }
        if (meta.refuse) {
          const errors = mine.sdk.diagnostics.filter((d) => d.severity === 'error')
          for (const want of meta.refuse) {
            expect(errors.map((d) => `${d.file}:${d.line} ${d.message}`)).toContainEqual(expect.stringContaining(`${want.where} `))
            expect(errors.map((d) => d.message).join('\n')).toContain(want.contains)
          }
          return
        }
        expect(mine.sdk.diagnostics.filter((d) => d.severity === 'error')).toEqual([])
        const tag = /__tag__:(\S+)/.exec(r.stdout)?.[1] ?? ''
        const [bentoName, version] = tag.split(':')
        const info = parseYaml(await readFile(join(home, 'bentos', bentoName ?? '', version ?? '', 'bento.yaml'), 'utf8')) as Record<string, unknown>
        const spied = (JSON.parse(await readFile(spyOut, 'utf8')) as {image: Spied | null}).image

        // The image before locking (script names: bento's machine-independent target for BentoML's md5 of the host path).
        const img = mine.merged?.image ?? null
        // BentoML names a script by the md5 of its absolute path (and may have lost the file, see run-script); bento by
        // the md5 of the path relative to the build context, so a Bento is the same on every machine (deliberate).
        const ctx = realpathSync(dir)
        const rename = new Map(listFiles(ctx).map((rel) => [`./env/docker/script__${createHash('md5').update(join(ctx, rel)).digest('hex')}`, scriptTarget(rel)]))
        const fix = (c: string): string => [...rename].reduce((s, [a, b]) => s.split(a).join(b), c)
        expect(img === null, 'spec-2 image').toBe(spied === null)
        if (img && spied) {
          expect({
            base_image: img.base_image,
            distro: img.distro,
            python_version: img.python_version,
            commands: img.commands,
            lock_python_packages: img.lock_python_packages,
            pack_git_packages: img.pack_git_packages,
            python_requirements: img.python_requirements,
            post_commands: img.post_commands,
            build_include_paths: img.build_include_paths,
          }).toEqual({
            base_image: spied.base_image,
            distro: spied.distro,
            python_version: spied.python_version,
            commands: spied.commands.map(fix),
            lock_python_packages: spied.lock_python_packages,
            pack_git_packages: spied.pack_git_packages,
            python_requirements: spied.python_requirements,
            post_commands: spied.post_commands.map(fix),
            build_include_paths: spied.build_include_paths,
          })
          // bento.yaml's image block agrees with the spy on everything but the locked requirements
          const block = info.image as Record<string, unknown>
          expect(block.commands).toEqual(spied.commands)
          expect(block.post_commands).toEqual(spied.post_commands)
          expect(block.base_image).toBe(spied.base_image)
        }

        // envs: bentofile's then the entry service's; labels: bentofile's updated with the service's.
        const envs = [...(mine.raw.envs ?? []), ...(mine.entry?.envs ?? [])].map((e) => ({name: e.name, value: e.value ?? '', stage: e.stage ?? 'all'}))
        expect(info.envs ?? []).toEqual(envs)
        expect(info.labels ?? {}).toEqual({...(mine.raw.labels ?? {}), ...(mine.entry?.labels ?? {})})
        expect(info.args ?? {}).toEqual(mine.args)
        // services[].config for the entry and every dependency, by name
        const services = info.services as Array<{name: string; config: Record<string, unknown>}>
        expect(services.map((s) => s.name).sort()).toEqual(mine.sdk.services.map((s) => s?.name).sort())
        for (const s of mine.sdk.services) {
          expect(services.find((x) => x.name === s?.name)?.config, `config of ${s?.name}`).toEqual(s?.config)
        }
        expect(info.entry_service).toBe(mine.entry?.name)

        // The Bento bento build wrote agrees with the one bentoml build wrote.
        const ourTag = (JSON.parse(built.stdout) as {tag: string}).tag
        const [ourName, ourVersion] = ourTag.split(':')
        const ourDir = join(ourHome, 'bentos', ourName ?? '', ourVersion ?? '')
        const realDir = join(home, 'bentos', bentoName ?? '', version ?? '')
        const ourInfo = parseYaml(await readFile(join(ourDir, 'bento.yaml'), 'utf8')) as Record<string, unknown>
        expect(ourName).toBe(bentoName)
        expect(ourInfo.spec).toBe(info.spec)
        const realImage = info.image as {commands: string[]; post_commands: string[]} | undefined
        expect(ourInfo.image, 'bento.yaml image:').toEqual(realImage && {...realImage, commands: realImage.commands.map(fix), post_commands: realImage.post_commands.map(fix)})
        expect(ourInfo.envs ?? [], 'bento.yaml envs').toEqual(info.envs ?? [])
        expect(ourInfo.labels ?? {}, 'bento.yaml labels').toEqual(info.labels ?? {})
        expect(ourInfo.args ?? {}, 'bento.yaml args').toEqual(info.args ?? {})
        expect(ourInfo.entry_service).toBe(info.entry_service)
        const ourServices = ourInfo.services as Array<{name: string; config: Record<string, unknown>}>
        expect(ourServices.map((s) => s.name).sort()).toEqual(services.map((s) => s.name).sort())
        for (const s of services) expect(ourServices.find((x) => x.name === s.name)?.config, `services[${s.name}].config`).toEqual(s.config)
        const reqLines = async (d: string): Promise<string[] | undefined> => {
          const p = join(d, 'env/python/requirements.txt')
          return existsSync(p) ? (await readFile(p, 'utf8')).split('\n').map((l) => l.trim()).filter((l) => l !== '') : undefined
        }
        expect(await reqLines(ourDir), 'env/python/requirements.txt').toEqual(await reqLines(realDir))
      } finally {
        await removeDir(dir)
      }
    })
  }
})
