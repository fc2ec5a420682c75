import {describe, expect, it} from 'vitest'

import {LockError} from '../errors.js'
import {evaluateMarker, markerEnvironment} from './markers.js'

const amd311 = markerEnvironment({uvTarget: 'x86_64-manylinux_2_36', pythonVersion: '3.11'})
const arm312 = markerEnvironment({uvTarget: 'aarch64-manylinux_2_36', pythonVersion: '3.12'})

describe('PEP 508 markers for a lock target', () => {
  it('describes a Linux CPython target', () => {
    expect(amd311).toMatchObject({sys_platform: 'linux', platform_system: 'Linux', os_name: 'posix', platform_machine: 'x86_64', python_version: '3.11', python_full_version: '3.11.0', implementation_name: 'cpython', platform_python_implementation: 'CPython'})
    expect(arm312.platform_machine).toBe('aarch64')
    expect(markerEnvironment({uvTarget: 'x86_64-pc-windows-msvc', pythonVersion: '3.12'})).toMatchObject({sys_platform: 'win32', os_name: 'nt', platform_system: 'Windows', platform_machine: 'AMD64'})
    expect(markerEnvironment({uvTarget: 'aarch64-apple-darwin', pythonVersion: '3.12'})).toMatchObject({sys_platform: 'darwin', platform_system: 'Darwin', platform_machine: 'arm64'})
  })

  it.each([
    ["platform_machine == 'x86_64'", true, false],
    ["platform_machine == 'aarch64'", false, true],
    ["python_version < '3.12'", true, false],
    ["python_full_version >= '3.12'", false, true],
    ["python_full_version >= '3.11.0' and python_full_version < '3.12'", true, false],
    ["sys_platform == 'linux' and (platform_machine == 'aarch64' or python_version == '3.11')", true, true],
    ["sys_platform == 'darwin' or sys_platform == 'win32'", false, false],
    ["'linux' in sys_platform", true, true],
    ["sys_platform not in 'win32 cygwin'", true, true],
    ["platform_machine != \"x86_64\"", false, true],
    ["python_version ~= '3.11'", true, true],
    ["python_version > '3.11'", false, true],
    ["'3.12' <= python_version", false, true],
    ["python_version in '3.11 3.13'", true, false],
    ["implementation_name == 'pypy'", false, false],
    ["os_name == 'nt'", false, false],
  ])('%s: amd64/3.11 %s, arm64/3.12 %s', (m, a, b) => {
    expect(evaluateMarker(m, amd311)).toBe(a)
    expect(evaluateMarker(m, arm312)).toBe(b)
  })

  it('extras: normalized names, false without the extra', () => {
    expect(evaluateMarker("extra == 'web'", amd311)).toBe(false)
    expect(evaluateMarker("extra == 'Web_UI'", amd311, new Set(['web-ui']))).toBe(true)
    expect(evaluateMarker("python_version < '3.12' and extra == 'cli'", amd311, new Set(['cli']))).toBe(true)
  })

  it('PEP 751 sets: extras and dependency_groups', () => {
    expect(evaluateMarker("'web' in extras", amd311, new Set(['web']))).toBe(true)
    expect(evaluateMarker("'web' in extras", amd311)).toBe(false)
    expect(evaluateMarker("'dev' in dependency_groups and 'web' not in extras", amd311, new Set(), new Set(['dev']))).toBe(true)
  })

  it('the empty marker is true', () => {
    expect(evaluateMarker('', amd311)).toBe(true)
    expect(evaluateMarker('  ', amd311)).toBe(true)
  })

  it.each(["platform_machine = 'x86_64'", "python_version < '3.12", 'foo == "1"', "(python_version < '3.12'", "python_version < '3.12' and", "python_version"])('a malformed marker is a typed error: %s', (m) => {
    expect(() => evaluateMarker(m, amd311)).toThrow(LockError)
  })
})
