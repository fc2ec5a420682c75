import {describe, expect, it} from 'vitest'

import {SUPPORTED_PYTHON_VERSIONS} from './config-facts.js'
import {Image, populateImageFromBuildConfig} from './image.js'
import {newestPythonFor, pythonMinorOf} from './python-version.js'

describe('newestPythonFor', () => {
  it.each([
    ['>=3.12', '3.13'],
    ['>=3.12,<3.13', '3.12'],
    ['>=3.9,<3.11', '3.10'],
    ['~=3.11.4', '3.11'],
    ['==3.12.*', '3.12'],
    ['>=3.10.1,!=3.13.*', '3.12'],
    ['<=3.12', '3.12'],
    ['>=3.14', null],
    ['<3.8', null],
  ])('%s → %s', (spec, want) => {
    expect(newestPythonFor(spec, SUPPORTED_PYTHON_VERSIONS)).toBe(want)
  })

  it('throws on what is not a specifier', () => {
    expect(() => newestPythonFor('3.12+', SUPPORTED_PYTHON_VERSIONS)).toThrow(TypeError)
  })
})

describe('pythonMinorOf (.python-version)', () => {
  it.each([
    ['3.12.4', '3.12'],
    ['3.12', '3.12'],
    [' 3.10 ', '3.10'],
    ['cpython@3.13.1', '3.13'],
    ['pypy3.10', null],
    ['system', null],
    ['3.13t', null],
  ])('%s → %s', (line, want) => {
    expect(pythonMinorOf(line)).toBe(want)
  })
})

describe('Image.saysPythonVersion', () => {
  it('is false for the default, true when python_version or base_image is given, assigned or merged in', () => {
    expect(new Image({}, {defaultPythonVersion: '3.12'})).toMatchObject({saysPythonVersion: false, python_version: '3.12', base_image: 'python:3.12-slim'})
    expect(new Image({python_version: '3.11'}).saysPythonVersion).toBe(true)
    expect(new Image({base_image: 'nvidia/cuda:12.1.1-runtime-ubuntu22.04'}).saysPythonVersion).toBe(true)
    const img = new Image()
    img.python_version = '3.13'
    expect(img.saysPythonVersion).toBe(true)
    expect(new Image().evolve({lock_python_packages: false}).saysPythonVersion).toBe(false)
    expect(populateImageFromBuildConfig(new Image(), {docker: {python_version: '3.10'}}).image?.saysPythonVersion).toBe(true)
    expect(populateImageFromBuildConfig(null, {}, {defaultPythonVersion: '3.12'}).image).toMatchObject({saysPythonVersion: false, python_version: '3.12'})
  })
})
