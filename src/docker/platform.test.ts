import {mkdir, mkdtemp, rm, writeFile} from 'node:fs/promises'
import {tmpdir} from 'node:os'
import {join} from 'node:path'

import {afterEach, describe, expect, it} from 'vitest'

import {emulationProblem, IMAGE_PLATFORMS, nativePlatform, parsePlatforms, perPlatformValues, platformImageTag, splitPlatformValue} from './platform.js'

const [AMD64, ARM64] = IMAGE_PLATFORMS as [(typeof IMAGE_PLATFORMS)[number], (typeof IMAGE_PLATFORMS)[number]]

describe('--platform', () => {
  it('takes comma-separated and repeated values, in order, each once; aliases name the same platform', () => {
    expect(parsePlatforms(['linux/amd64,linux/arm64']).map((p) => p.name)).toEqual(['linux/amd64', 'linux/arm64'])
    expect(parsePlatforms(['linux/arm64', 'linux/amd64', 'linux/arm64/v8']).map((p) => p.name)).toEqual(['linux/arm64', 'linux/amd64'])
    expect(parsePlatforms([])).toEqual([])
  })

  it('an unknown or empty platform is E_USAGE (exit 2) naming the accepted values', () => {
    for (const bad of [['linux/s390x'], ['windows/amd64'], ['linux/amd64,'], ['arm64']]) {
      let err: unknown
      try {
        parsePlatforms(bad)
      } catch (e) {
        err = e
      }
      expect(err).toMatchObject({code: 'E_USAGE', exitCode: 2, hint: expect.stringContaining('linux/amd64, linux/arm64'), data: {accepted: ['linux/amd64', 'linux/arm64']}})
    }
  })

  it('[PLATFORM=]VALUE flags: one value for all, one per platform; a platform not built or two values for all are E_USAGE', () => {
    expect(splitPlatformValue('linux/arm64=python:3.11-slim')).toEqual({platform: 'linux/arm64', value: 'python:3.11-slim'})
    expect(splitPlatformValue('python:3.11-slim')).toEqual({value: 'python:3.11-slim'})
    const v = perPlatformValues(['base:1', 'linux/arm64=base-arm:1'], '--base-image', [AMD64, ARM64])
    expect(v.all).toBe('base:1')
    expect([...v.byPlatform]).toEqual([['linux/arm64', 'base-arm:1']])
    expect(() => perPlatformValues(['linux/arm64=x:1'], '--base-image', [AMD64])).toThrow(/names linux\/arm64, which is not built/)
    expect(() => perPlatformValues(['linux/ppc64le=x:1'], '--base-image', [AMD64])).toThrow(/not a platform/)
    expect(() => perPlatformValues(['a:1', 'b:1'], '--base-image', [AMD64])).toThrow(/given twice/)
  })

  it('names each platform image after its tag, and knows the daemon platform from GET /version Arch', () => {
    expect(platformImageTag('127.0.0.1:5000/iris:1', ARM64)).toBe('127.0.0.1:5000/iris:1-linux-arm64')
    expect(platformImageTag('127.0.0.1:5000/iris', AMD64)).toBe('127.0.0.1:5000/iris:latest-linux-amd64')
    expect(nativePlatform('amd64')).toBe(AMD64)
    expect(nativePlatform('aarch64')).toBe(ARM64)
    expect(nativePlatform(undefined)).toBeUndefined()
  })
})

describe('QEMU user emulation (binfmt_misc)', () => {
  let dir: string
  afterEach(async () => {
    await rm(dir, {recursive: true, force: true})
  })
  const binfmt = async (entry?: string): Promise<string> => {
    dir = await mkdtemp(join(tmpdir(), 'bento-binfmt-'))
    await mkdir(dir, {recursive: true})
    await writeFile(join(dir, 'status'), 'enabled\n')
    if (entry !== undefined) await writeFile(join(dir, 'qemu-aarch64'), entry)
    return dir
  }

  it('fine with an enabled qemu-aarch64 entry with the F flag (what Debian\'s qemu-user-static registers)', async () => {
    expect(emulationProblem(ARM64, await binfmt('enabled\ninterpreter /usr/libexec/qemu-binfmt/aarch64-binfmt-P\nflags: PF\noffset 0\n'))).toBeNull()
  })

  it('no entry, a disabled one, one without F, or binfmt_misc not mounted: E_PLATFORM_EMULATION with the fix', async () => {
    expect(emulationProblem(ARM64, await binfmt())).toMatchObject({code: 'E_PLATFORM_EMULATION', exitCode: 8, message: expect.stringMatching(/no qemu-aarch64 entry/), hint: expect.stringMatching(/platform-arm64\.sh/)})
    await rm(dir, {recursive: true})
    expect(emulationProblem(ARM64, await binfmt('disabled\nflags: PF\n'))).toMatchObject({code: 'E_PLATFORM_EMULATION', message: expect.stringMatching(/disabled/)})
    await rm(dir, {recursive: true})
    expect(emulationProblem(ARM64, await binfmt('enabled\nflags: P\n'))).toMatchObject({code: 'E_PLATFORM_EMULATION', message: expect.stringMatching(/F \(fix-binary\) flag/)})
    expect(emulationProblem(ARM64, join(dir, 'not-mounted'))).toMatchObject({code: 'E_PLATFORM_EMULATION', message: expect.stringMatching(/not mounted/)})
  })
})
