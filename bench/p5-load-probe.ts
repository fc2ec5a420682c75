/**
 * P5 probe (issue 18): what the model costs the daemon on a cold containerize, today's way against the `docker load`
 * assembly bench/analysis.md proposes, at one model size (default 4 GiB), same machine, same minute:
 *
 *   import  today's first step: the model layer (docker/model-image.ts `modelLayerTar`) streamed into
 *           `POST /images/create?fromSrc=-` (one unpack, one sha256 by the daemon). Today's Bento build then passes
 *           over the model twice more (`COPY --from`, export): not re-measured here (it fills the build cache with a
 *           copy of the model); bench/analysis.md has them from a whole cold containerize.
 *   load    the proposal: the same layer tar, hashed by bento as it streams, in a docker-archive whose config extends
 *           the base image's (python:3.11-slim) rootfs by it; `docker load` skips the base layers (their chain ids
 *           are in the daemon) and unpacks the model once. The Bento build would then be `FROM` that image (code and
 *           metadata only), so nothing copies or exports the model again.
 *   commit  the other way to put the layer on the base's chain without a build: a container of the base image
 *           (`docker create`), the layer tar extracted into it (`docker cp - CTR:/`, `PUT /containers/{id}/archive`),
 *           `docker commit`: the daemon hashes the diff itself (bento need not), writing the model twice as load does.
 *
 *   flock /work/docker.lock npx tsx bench/p5-load-probe.ts [--gib 4] [--base python:3.11-slim]
 *
 * Removes its images and its temp model at the end.
 */
import {spawn} from 'node:child_process'
import {createHash, randomBytes} from 'node:crypto'
import {createWriteStream} from 'node:fs'
import {mkdtemp, rm} from 'node:fs/promises'
import {tmpdir} from 'node:os'
import {join} from 'node:path'
import {PassThrough} from 'node:stream'

import tar from 'tar-stream'

import {DockerodeClient, modelLayerTar} from '../src/docker/index.js'

const args = process.argv.slice(2)
const opt = (name: string, dflt: string): string => {
  const i = args.indexOf(`--${name}`)
  return i === -1 ? dflt : (args[i + 1] ?? dflt)
}
const GIB = Number(opt('gib', '4'))
const BASE = opt('base', 'python:3.11-slim')
const DOCKER = process.env.BENTO_DOCKER_CLI ?? '/usr/bin/docker'
const id = randomBytes(4).toString('hex')

async function makeModel(dir: string, bytes: number): Promise<void> {
  const block = randomBytes(16 * 1024 * 1024)
  const out = createWriteStream(join(dir, 'weights.bin'))
  for (let n = 0; n < bytes; n += block.length) {
    if (!out.write(n + block.length <= bytes ? block : block.subarray(0, bytes - n))) await new Promise<void>((r) => out.once('drain', () => r()))
  }
  await new Promise<void>((resolve, reject) => out.end((e?: Error | null) => (e ? reject(e) : resolve())))
}

function cli(argv: string[], stdin?: NodeJS.ReadableStream): Promise<string> {
  return new Promise((resolve, reject) => {
    const p = spawn(DOCKER, argv, {stdio: [stdin ? 'pipe' : 'ignore', 'pipe', 'pipe']})
    let out = ''
    p.stdout?.on('data', (c: Buffer) => (out += c.toString()))
    p.stderr?.on('data', (c: Buffer) => (out += c.toString()))
    if (stdin && p.stdin) stdin.pipe(p.stdin)
    p.on('error', reject)
    p.on('exit', (code) => (code === 0 ? resolve(out) : reject(new Error(`docker ${argv.join(' ')}: exit ${code}: ${out}`))))
  })
}

async function main(): Promise<void> {
  const client = new DockerodeClient({env: process.env})
  const dir = await mkdtemp(join(tmpdir(), 'bento-p5-probe-'))
  const model = {name: 'p5probe', version: id, dir}
  const importTag = `bento-p5-probe.invalid/import:${id}`
  const loadTag = `bento-p5-probe.invalid/load:${id}`
  const commitTag = `bento-p5-probe.invalid/commit:${id}`
  let container = ''
  try {
    let t = performance.now()
    await makeModel(dir, GIB * 1024 ** 3)
    console.log(`model ${GIB} GiB written in ${((performance.now() - t) / 1000).toFixed(1)} s; sync`)
    await cli(['image', 'inspect', BASE]) // the base image is there: its layers are what the load skips
    const {execSync} = await import('node:child_process')
    execSync('sync')

    t = performance.now()
    await client.importImage({layer: modelLayerTar(model), tag: importTag, labels: {}})
    const importS = (performance.now() - t) / 1000
    console.log(`import (today's model image): ${importS.toFixed(1)} s`)
    execSync('sync')

    // The proposal: [base layers (skipped), model layer] + config, the manifest last (the daemon reads it after the whole archive).
    const base = JSON.parse(await cli(['image', 'inspect', BASE])) as Array<{Config: Record<string, unknown>; Architecture: string; Os: string; RootFS: {Layers: string[]}}>
    const b = base[0]!
    t = performance.now()
    const pack = tar.pack()
    const through = new PassThrough()
    pack.pipe(through)
    const loading = cli(['load', '-q'], through)
    const hash = createHash('sha256')
    let size = 0
    // Size first: tar needs it in the header. The probe takes it from a first pass over the tar (page cache, no
    // hashing, timed apart); bento would compute it from the model's manifest (sizes, names) without reading.
    for await (const c of modelLayerTar(model) as AsyncIterable<Buffer>) size += c.length
    const sizeS = (performance.now() - t) / 1000
    t = performance.now()
    await new Promise<void>((resolve, reject) => {
      const entry = pack.entry({name: 'layer.tar', size, mtime: new Date(0)}, (e) => (e ? reject(e) : resolve()))
      void (async () => {
        for await (const c of modelLayerTar(model) as AsyncIterable<Buffer>) {
          hash.update(c)
          if (!entry.write(c)) await new Promise<void>((r) => entry.once('drain', () => r()))
        }
        entry.end(undefined)
      })().catch(reject)
    })
    const diffId = `sha256:${hash.digest('hex')}`
    const config = Buffer.from(
      JSON.stringify({architecture: b.Architecture, os: b.Os, config: b.Config, rootfs: {type: 'layers', diff_ids: [...b.RootFS.Layers, diffId]}, history: []}),
    )
    const configName = `${createHash('sha256').update(config).digest('hex')}.json`
    pack.entry({name: configName, mtime: new Date(0)}, config)
    pack.entry({name: 'manifest.json', mtime: new Date(0)}, Buffer.from(JSON.stringify([{Config: configName, RepoTags: [loadTag], Layers: [...b.RootFS.Layers.map((_, i) => `base-${i}.tar`), 'layer.tar']}])))
    pack.finalize()
    await loading
    const loadS = (performance.now() - t) / 1000
    console.log(`load (the proposal; base layers skipped, bento hashing the layer as it streams): ${loadS.toFixed(1)} s (+ ${sizeS.toFixed(1)} s for the probe's size pass, which bento would take from the model manifest)`)
    execSync('sync')

    t = performance.now()
    container = (await cli(['create', BASE, 'true'])).trim()
    await cli(['cp', '-', `${container}:/`], modelLayerTar(model))
    await cli(['commit', container, commitTag])
    const commitS = (performance.now() - t) / 1000
    console.log(`commit (create + cp of the layer tar + commit): ${commitS.toFixed(1)} s`)
    const layers = JSON.parse(await cli(['image', 'inspect', '-f', '{{json .RootFS.Layers}}', commitTag])) as string[]
    console.log(`  committed layer ${layers.at(-1)} (the load's: ${diffId})`)
    console.log(JSON.stringify({gib: GIB, importS: Number(importS.toFixed(1)), loadS: Number(loadS.toFixed(1)), commitS: Number(commitS.toFixed(1)), diffId}))
  } finally {
    if (container) await cli(['rm', '-f', container]).catch(() => undefined)
    await cli(['rmi', '-f', importTag, loadTag, commitTag]).catch(() => undefined)
    await rm(dir, {recursive: true, force: true})
  }
}

await main()
