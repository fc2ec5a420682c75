/**
 * The benchmarks run from a clone of the repository alone (issue 11, scope 10): P1 reads nothing from ../shared
 * (it trains its own Keras model), and P3–P5's wheel server finds the address build containers reach the host at
 * when the bridge reports no gateway (a daemon that assigned the subnet itself: `[{"Subnet":"172.17.0.0/16"}]`),
 * which made the URL `http://:18765/`. The Docker CLI is a stub answering as such a daemon does.
 */
import {chmod, readdir, readFile, rm, writeFile} from 'node:fs/promises'
import {join} from 'node:path'

import {afterAll, describe, expect, it} from 'vitest'

import type {Tools} from '../../bench/lib/env.js'
import {bridgeHostAddress} from '../../bench/lib/wheel-server.js'
import {REPO, tempDir} from '../helpers/env.js'

const dirs: string[] = []
afterAll(async () => {
  for (const d of dirs) await rm(d, {recursive: true, force: true})
})

/**
 * A `docker` that answers `network inspect bridge` for a bridge on interface `iface` whose IPAM config has no
 * gateway (`-f` with a Gateway template prints nothing, as the real CLI does), and `run … cat /proc/net/route`
 * with a default route via 172.17.0.1.
 */
async function daemonWithoutGateway(iface: string): Promise<Tools> {
  const dir = await tempDir('bento-bench-docker-')
  dirs.push(dir)
  const inspect = JSON.stringify({Name: 'bridge', Options: {'com.docker.network.bridge.name': iface}, IPAM: {Driver: 'default', Config: [{Subnet: '172.17.0.0/16'}]}})
  const route = 'Iface\tDestination\tGateway \tFlags\tRefCnt\tUse\tMetric\tMask\t\tMTU\tWindow\tIRTT\neth0\t00000000\t010011AC\t0003\t0\t0\t0\t00000000\t0\t0\t0\neth0\t000011AC\t00000000\t0001\t0\t0\t0\t0000FFFF\t0\t0\t0\n'
  const script = `#!/bin/sh
case "$*" in
  *"network inspect"*Gateway*) echo ;;
  *"network inspect"*) printf '%s\\n' '${inspect}' ;;
  *"/proc/net/route"*) printf '${route.replace(/\t/g, '\\t').replace(/\n/g, '\\n')}' ;;
  *) echo "unexpected: $*" >&2; exit 1 ;;
esac
`
  const docker = join(dir, 'docker')
  await writeFile(docker, script)
  await chmod(docker, 0o755)
  return {docker} as Tools
}

describe('bench: portable to a clone of the repository alone', () => {
  it('P3–P5 wheel server: the bridge interface’s own address when the bridge reports no gateway', async () => {
    // `lo` stands in for docker0: an interface every machine has, with a known IPv4 address.
    const host = await bridgeHostAddress(await daemonWithoutGateway('lo'))
    expect(host).toBe('127.0.0.1')
  })

  it('P3–P5 wheel server: no such interface and no gateway: the default route seen from a container', async () => {
    const host = await bridgeHostAddress(await daemonWithoutGateway('bento-no-such-if'))
    expect(host).toBe('172.17.0.1')
  })

  it('P1 and the other benchmarks read nothing from ../shared or an absolute path', async () => {
    const files: string[] = []
    const walk = async (dir: string): Promise<void> => {
      for (const e of await readdir(dir, {withFileTypes: true})) {
        if (e.name === 'out' || e.name === 'node_modules') continue
        if (e.isDirectory()) await walk(join(dir, e.name))
        else if (/\.(ts|py|sh|yaml|txt)$/.test(e.name)) files.push(join(dir, e.name))
      }
    }
    await walk(join(REPO, 'bench'))
    expect(files.length).toBeGreaterThan(5)
    const offenders: string[] = []
    for (const f of files) {
      const text = await readFile(f, 'utf8')
      if (/\.\.\/shared\b|['"`]\/work\//.test(text)) offenders.push(f.slice(REPO.length))
    }
    expect(offenders).toEqual([])
  })
})
