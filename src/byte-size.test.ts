import {describe, expect, it} from 'vitest'

import {humanSize} from './byte-size.js'

describe('humanSize, short form ({digits: 1}): what the progress line, the import limits and the MiB messages print', () => {
  it.each([
    [0, '0 B'],
    [1023, '1023 B'],
    [1024, '1.0 KiB'],
    [1280, '1.3 KiB'],
    [1536, '1.5 KiB'],
    [5 * 2 ** 30, '5.0 GiB'],
    [256 * 2 ** 30, '256.0 GiB'],
    [2048 * 2 ** 40, '2048.0 TiB'],
  ])('%d → %s', (n, expected) => {
    expect(humanSize(n, {digits: 1})).toBe(expected)
  })

  it.each([
    [0, '0.0 MiB'],
    [512 * 1024, '0.5 MiB'],
    [11 * 2 ** 20 + 100_000, '11.1 MiB'],
    [3 * 2 ** 30, '3072.0 MiB'],
  ])('in MiB: %d → %s', (n, expected) => {
    expect(humanSize(n, {digits: 1, unit: 'MiB'})).toBe(expected)
  })
})
