/**
 * scripts/lib/common.sh daemonize: a daemon the provisioning starts holds none of the caller's descriptors. Under
 * `flock LOCK bash scripts/test-all.sh`, a dockerd started the old way (setsid nohup … &) kept LOCK held for as
 * long as it ran, which blocked every other user of the lock.
 */
import {spawnSync} from 'node:child_process'
import {join} from 'node:path'

import {afterAll, describe, expect, it} from 'vitest'

import {REPO, removeDir, tempDir} from '../helpers/env.js'

const dirs: string[] = []
afterAll(async () => {
  for (const d of dirs) await removeDir(d)
})

describe('daemonize (scripts/lib/common.sh)', () => {
  it('a daemon started under a caller`s flock does not keep the lock', async () => {
    const dir = await tempDir('bento-daemonize-')
    dirs.push(dir)
    const lock = join(dir, 'lock')
    const script = `source ${JSON.stringify(join(REPO, 'scripts/lib/common.sh'))}; daemonize ${JSON.stringify(join(dir, 'log'))} sleep 30; echo $!`
    const started = spawnSync('flock', [lock, 'bash', '-c', script], {encoding: 'utf8'})
    expect(started.status, started.stderr).toBe(0)
    const pid = Number(started.stdout.trim())
    try {
      expect(spawnSync('kill', ['-0', String(pid)]).status).toBe(0)
      const free = spawnSync('flock', ['-n', lock, 'true'])
      expect(free.status).toBe(0)
    } finally {
      spawnSync('kill', [String(pid)])
    }
  })
})
