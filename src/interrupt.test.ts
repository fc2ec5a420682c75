import {existsSync} from 'node:fs'
import {mkdir, mkdtemp, writeFile} from 'node:fs/promises'
import {tmpdir} from 'node:os'
import path from 'node:path'

import {describe, expect, it} from 'vitest'

import {Interrupts} from './interrupt.js'

function harness(): {interrupts: Interrupts; exits: number[]; lines: string[]} {
  const exits: number[] = []
  const lines: string[] = []
  const interrupts = new Interrupts({exit: (code) => void exits.push(code), write: (t) => void lines.push(t), json: () => false})
  return {interrupts, exits, lines}
}

describe('Interrupts', () => {
  it('before the command starts (Node and oclif loading, D20): exits 130 at once with E_INTERRUPTED', () => {
    const {interrupts, exits, lines} = harness()
    interrupts.onSignal('SIGINT')
    expect(exits).toEqual([130])
    expect(lines.join('')).toMatch(/Error \[E_INTERRUPTED\]: Interrupted \(SIGINT\) before the command started; nothing was changed/)
  })

  it('while running: the first signal aborts the command (it cleans up itself), a second removes what is registered and exits (D7)', async () => {
    const {interrupts, exits, lines} = harness()
    interrupts.start()
    const dir = await mkdtemp(path.join(tmpdir(), 'bento-int-'))
    const tmp = path.join(dir, 'bento-x-build')
    await mkdir(tmp)
    await writeFile(path.join(tmp, 'f'), 'x')
    const forget = interrupts.cleanup.add(tmp)
    const done = path.join(dir, 'renamed-into-place')
    interrupts.cleanup.add(done)()
    expect(interrupts.signal.aborted).toBe(false)
    interrupts.onSignal('SIGTERM')
    expect(interrupts.signal.aborted).toBe(true)
    expect(exits).toEqual([])
    expect(lines.join('')).toMatch(/press Ctrl-C again/)
    interrupts.onSignal('SIGINT')
    expect(exits).toEqual([130])
    expect(existsSync(tmp)).toBe(false)
    expect(lines.join('')).toMatch(/removed 1 temp path/)
    forget()
  })

  it('after the result is printed: ends at once with the command’s own exit code (the result stands)', () => {
    const {interrupts, exits} = harness()
    interrupts.start()
    interrupts.finish()
    const saved = process.exitCode
    process.exitCode = 0
    try {
      interrupts.onSignal('SIGINT')
    } finally {
      process.exitCode = saved
    }
    expect(exits).toEqual([0])
  })

  it('prints one JSON error object on stdout with --json', () => {
    const exits: number[] = []
    const out: string[] = []
    const write = process.stdout.write.bind(process.stdout)
    process.stdout.write = ((chunk: string) => {
      out.push(chunk)
      return true
    }) as typeof process.stdout.write
    try {
      new Interrupts({exit: (c) => void exits.push(c), write: () => undefined, json: () => true}).onSignal('SIGTERM')
    } finally {
      process.stdout.write = write
    }
    expect(JSON.parse(out.join(''))).toMatchObject({error: {code: 'E_INTERRUPTED', exitCode: 130}})
    expect(exits).toEqual([130])
  })
})
