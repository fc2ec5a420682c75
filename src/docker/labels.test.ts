import {describe, expect, it} from 'vitest'

import {imageLabels} from './labels.js'

describe('imageLabels', () => {
  it('describes the Bento with OCI and dev.bento labels', () => {
    expect(
      imageLabels({
        tag: 'iris:v1',
        name: 'iris',
        version: 'v1',
        labels: {stage: 'dev', owner: 'ml'},
        models: ['z:1', 'a:2'],
        bentomlVersion: '1.4.15',
        description: '# Iris\n\nA classifier for ' + 'x'.repeat(300),
        creationTime: new Date('2025-05-30T10:20:30Z'),
      }),
    ).toEqual({
      'org.opencontainers.image.title': 'iris',
      'org.opencontainers.image.version': 'v1',
      'org.opencontainers.image.created': '2025-05-30T10:20:30.000Z',
      'org.opencontainers.image.description': `A classifier for ${'x'.repeat(238)}…`,
      'dev.bento.tag': 'iris:v1',
      'dev.bento.name': 'iris',
      'dev.bento.version': 'v1',
      'dev.bento.bentoml-version': '1.4.15',
      'dev.bento.models': 'a:2,z:1',
      'dev.bento.labels.owner': 'ml',
      'dev.bento.labels.stage': 'dev',
    })
  })

  it('the lock digest bento build put in the labels is the image label dev.bento.lock.sha256 itself', () => {
    const l = imageLabels({tag: 'a:b', name: 'a', version: 'b', labels: {'dev.bento.lock.sha256': 'f'.repeat(64), team: 'x'}, models: [], bentomlVersion: '1.4.40', creationTime: 'x'})
    expect(l['dev.bento.lock.sha256']).toBe('f'.repeat(64))
    expect(l).not.toHaveProperty('dev.bento.labels.dev.bento.lock.sha256')
    expect(l['dev.bento.labels.team']).toBe('x')
  })

  it('omits an empty description', () => {
    const l = imageLabels({tag: 'a:b', name: 'a', version: 'b', labels: {}, models: [], bentomlVersion: '1.4.15', description: '\n# Title\n', creationTime: 'x'})
    expect(l).not.toHaveProperty('org.opencontainers.image.description')
    expect(l['dev.bento.models']).toBe('')
  })
})
