/**
 * `bento k8s` played for real: the legacy iris example (BentoML 1.4.15, the model saved by the real bentoml.sklearn)
 * containerized with the offline wheelhouse and pushed to the local registry (127.0.0.1:5000); `bento k8s` pins the
 * pushed digest; Debian's Podman (`podman kube play`, scripts/provision/podman.sh) pulls the image by that digest and
 * runs the Deployment's pod with its security context (uid 1034, read-only root file system, the emptyDir volumes);
 * the probes' own paths and ports (read back from the YAML) answer 200 on the pod IP, and `/classify` answers
 * `["setosa"]`. Podman 4.3 turns a livenessProbe into a `curl` healthcheck run by systemd timers (neither is here),
 * so the test calls the probes itself. Afterwards: `podman kube down`, the pulled image, the volumes, the Docker
 * images and the registry manifest are removed.
 */
import {randomBytes} from 'node:crypto'
import {writeFile} from 'node:fs/promises'
import {join} from 'node:path'

import {afterAll, beforeAll, describe, expect, it} from 'vitest'
import {parseAllDocuments} from 'yaml'

import {DOCKER_CLI as DOCKER, imagesMadeBy, irisProject, removeDir, REPO, requireDocker, run, runBento, saveIrisModel, tempDir} from '../helpers/env.js'

const PODMAN = process.env.BENTO_PODMAN ?? '/usr/bin/podman'
const TOOLS = process.env.BENTO_TOOLS ?? join(REPO, '.tools')
const WHEELHOUSE = process.env.BENTO_WHEELHOUSE ?? join(TOOLS, 'wheelhouse')
const REGISTRY = process.env.BENTO_REGISTRY ?? '127.0.0.1:5000'
const RUN_ID = randomBytes(4).toString('hex')

const docker = (...args: string[]) => run(DOCKER, args, {timeoutMs: 600_000})
const podman = (...args: string[]) => run(PODMAN, args, {timeoutMs: 300_000})

interface K8sJson {
  bento: string
  image: string
  imageSource: string
  name: string
  probes: {readyz: string; livez: string; startupSeconds: number}
  warnings: string[]
  objects: Array<{kind: string}>
  manifest: string
}

type Probe = {httpGet: {path: string; port: number}}
type Container = {image: string; startupProbe: Probe; readinessProbe: Probe; livenessProbe: Probe; volumeMounts: Array<{name: string}>}

async function get(url: string, init?: RequestInit): Promise<{status: number; body: string}> {
  try {
    const r = await fetch(url, {...init, signal: AbortSignal.timeout(3000)})
    return {status: r.status, body: await r.text()}
  } catch (error) {
    return {status: 0, body: String(error)}
  }
}

describe('bento k8s, played by podman kube play (legacy iris, pulled by digest from the local registry)', () => {
  let home: string
  let project: string
  let work: string
  let bentoTag: string
  let yamlFile: string
  const repo = `${REGISTRY}/k8s-play-e2e`
  const ref = `${repo}:${RUN_ID}`
  const images: string[] = [ref]
  let pushedDigest = ''
  let podmanImage = ''
  let volumes: string[] = []
  let podId: string | undefined

  beforeAll(async () => {
    const v = await podman('version', '--format', '{{.Client.Version}}')
    if (v.code !== 0) throw new Error(`no podman at ${PODMAN}: run scripts/provision/podman.sh (${v.stderr})`)
    await requireDocker()
    home = await tempDir('bento-home-k8s-')
    work = await tempDir('bento-k8s-work-')
    yamlFile = join(work, 'iris.yaml')
    project = await irisProject()
    const t0 = performance.now()
    await saveIrisModel(home)
    const b = await runBento(['build', '--json'], {cwd: project, env: {BENTOML_HOME: home}})
    expect(b.code, b.stderr).toBe(0)
    bentoTag = (JSON.parse(b.stdout) as {tag: string}).tag
    const c = await runBento(['containerize', bentoTag, '-t', ref, '--push', '--wheelhouse', WHEELHOUSE, '--json'], {env: {BENTOML_HOME: home}})
    expect(c.code, c.stderr).toBe(0)
    const cj = JSON.parse(c.stdout) as {digest?: string; pushed?: Array<{digest: string}>}
    images.push(...imagesMadeBy(cj))
    pushedDigest = cj.pushed?.[0]?.digest ?? cj.digest ?? ''
    expect(pushedDigest).toMatch(/^sha256:[0-9a-f]{64}$/)
    console.log(`k8s play: model saved, Bento built, containerized and pushed in ${Math.round(performance.now() - t0)} ms`)
  }, 600_000)

  afterAll(async () => {
    const t0 = performance.now()
    // Stop at once (kube down would wait for the stop timeout), then kube down removes what the play made.
    if (podId) await podman('pod', 'rm', '-f', '-t', '0', podId)
    if (yamlFile) await podman('kube', 'down', yamlFile)
    for (const vol of volumes) await podman('volume', 'rm', '-f', vol)
    const t1 = performance.now()
    if (podmanImage) await podman('rmi', '-f', podmanImage)
    const rmiMs = Math.round(performance.now() - t1)
    for (const i of new Set(images)) await docker('rmi', '-f', i)
    // The registry keeps blobs until its garbage collection (shared with the other iris pushes); the manifest goes.
    if (pushedDigest) await fetch(`http://${REGISTRY}/v2/k8s-play-e2e/manifests/${pushedDigest}`, {method: 'DELETE'}).catch(() => undefined)
    await removeDir(home)
    await removeDir(project)
    await removeDir(work)
    console.log(`k8s play: cleaned up in ${Math.round(performance.now() - t0)} ms (podman rmi of the pulled image: ${rmiMs} ms)`)
  }, 120_000)

  it('pins the pushed digest, and the pod podman plays from it is ready, passes its probes and classifies', async () => {
    const j = await runBento(['k8s', bentoTag, '--image', ref, '--json'], {env: {BENTOML_HOME: home}})
    expect(j.code, j.stderr).toBe(0)
    const json = JSON.parse(j.stdout) as K8sJson
    expect(json).toMatchObject({bento: bentoTag, image: `${repo}@${pushedDigest}`, imageSource: 'engine-digest', name: 'clasificador-iris'})
    expect(json.objects.map((o) => o.kind)).toEqual(['Service', 'Deployment'])

    // `manifest` is the text `bento k8s` prints without --json (-o yaml).
    await writeFile(yamlFile, json.manifest)
    const docs = parseAllDocuments(json.manifest).map((d) => d.toJS() as {kind: string; spec: {template: {spec: {containers: Container[]; volumes: Array<{name: string}>}}}})
    const pod = docs.find((d) => d.kind === 'Deployment')!.spec.template.spec
    const container = pod.containers[0]!
    expect(container.image).toBe(`${repo}@${pushedDigest}`)
    volumes = pod.volumes.map((v) => v.name)

    await podman('pod', 'rm', '-f', 'clasificador-iris-pod-0') // a pod a killed run left
    const started = performance.now()
    const play = await podman('kube', 'play', '--tls-verify=false', yamlFile)
    expect(play.code, play.stderr).toBe(0)
    podId = /Pod:\s*\n([0-9a-f]{64})/.exec(play.stdout)?.[1]
    expect(podId, play.stdout).toBeTruthy()
    podmanImage = `${repo}@${pushedDigest}`

    const infra = (await podman('pod', 'inspect', podId!, '--format', '{{.InfraContainerID}}')).stdout.trim()
    const ip = (await podman('inspect', infra, '--format', '{{range .NetworkSettings.Networks}}{{.IPAddress}}{{end}}')).stdout.trim()
    expect(ip).toMatch(/^\d+\.\d+\.\d+\.\d+$/)
    const names = (await podman('pod', 'inspect', podId!, '--format', '{{range .Containers}}{{.Name}} {{end}}')).stdout.trim().split(/\s+/)
    const bentoContainer = names.find((n) => n.endsWith('-bento'))!
    const inspected = (await podman('inspect', bentoContainer, '--format', '{{.ImageName}}|{{.HostConfig.ReadonlyRootfs}}|{{.Config.User}}')).stdout.trim()
    expect(inspected).toBe(`${repo}@${pushedDigest}|true|1034:1034`)

    // The startupProbe as the kubelet would run it: the probe's path and port. The wait is three times its allowance:
    // on a loaded CI machine (load 13 on 2 cores, seen) the import of BentoML alone took longer than 61 s.
    const url = (p: Probe) => `http://${ip}:${p.httpGet.port}${p.httpGet.path}`
    const deadline = started + 3 * json.probes.startupSeconds * 1000
    let ready = await get(url(container.startupProbe))
    while (ready.status !== 200 && performance.now() < deadline) {
      const state = (await podman('inspect', bentoContainer, '--format', '{{.State.Status}}')).stdout.trim()
      if (state === 'exited') throw new Error(`the pod's container exited: ${(await podman('logs', '--tail', '30', bentoContainer)).stderr}`)
      await new Promise((r) => setTimeout(r, 250))
      ready = await get(url(container.startupProbe))
    }
    const readyMs = Math.round(performance.now() - started)
    if (ready.status !== 200) {
      const logs = await podman('logs', '--tail', '40', bentoContainer)
      throw new Error(`${url(container.startupProbe)} answered ${ready.status} (${ready.body}) for ${readyMs} ms; the pod's log:\n${logs.stdout}${logs.stderr}`)
    }
    expect((await get(url(container.readinessProbe))).status).toBe(200)
    expect((await get(url(container.livenessProbe))).status).toBe(200)
    const answer = await get(`http://${ip}:3000/classify`, {method: 'POST', headers: {'Content-Type': 'application/json'}, body: '[[5.1, 3.5, 1.4, 0.2]]'})
    expect(answer).toEqual({status: 200, body: '["setosa"]'})
    console.log(`k8s play: kube play (pull by digest) + ready in ${readyMs} ms (startup allowance ${json.probes.startupSeconds} s)`)
    // Nothing written outside the volumes: the read-only root held (BentoML's writes went to the emptyDirs).
    expect(container.volumeMounts.map((m) => m.name)).toContain('bentoml-prometheus-multiproc-dir')
  }, 300_000)
})
