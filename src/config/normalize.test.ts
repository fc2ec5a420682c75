import {describe, expect, it} from 'vitest'
import {parseBuildConfig} from './parse.js'
import type {BuildConfig} from './types.js'

/** The seed project's bentofile (../shared/seed/bentofile.yaml), as written: Spanish comments, 3-space indents. */
const SEED = `service: "service:svc"  # El mismo que el argumento pasado a \`bentoml serve\`
labels:
   owner: bentoml-team
   stage: dev
include:
- "*.py"  # Un patrón para definir que archivos incluir en el Bento
python:
   packages:  # Paquetes adicionales requeridos por el servicio
   - scikit-learn
   - pandas`

describe('normalized defaults (BentoML 1.4.15 with_defaults)', () => {
  it('fills every default for the seed bentofile', () => {
    const result = parseBuildConfig(SEED, 'bentofile.yaml', 'bentofile')
    expect(result.diagnostics).toEqual([])
    const expected: BuildConfig = {
      service: 'service:svc',
      name: null,
      description: null,
      labels: {owner: 'bentoml-team', stage: 'dev'},
      include: ['*.py'],
      exclude: [],
      docker: {
        distro: 'debian',
        python_version: '3.11',
        cuda_version: null,
        env: null,
        system_packages: null,
        setup_script: null,
        base_image: null,
        dockerfile_template: null,
      },
      python: {
        requirements_txt: null,
        packages: ['scikit-learn', 'pandas'],
        lock_packages: true,
        pack_git_packages: true,
        index_url: null,
        no_index: null,
        trusted_host: null,
        find_links: null,
        extra_index_url: null,
        pip_args: null,
        wheels: null,
        is_src_layout: null,
      },
      conda: {environment_yml: null, channels: null, dependencies: null, pip: null},
      models: null,
      envs: [],
      args: {},
    }
    expect(result.config).toEqual(expected)
    // Key order follows BentoBuildConfig's field order.
    expect(Object.keys(result.config ?? {})).toEqual(Object.keys(expected))
  })

  it('uses the defaultPythonVersion option for docker.python_version', () => {
    const result = parseBuildConfig('service: svc\n', 'bentofile.yaml', 'bentofile', {defaultPythonVersion: '3.12'})
    expect(result.config?.docker.python_version).toBe('3.12')
  })

  it('gives the all-defaults config for a file with only a service', () => {
    const result = parseBuildConfig('service: "service:svc"\n', 'bentofile.yaml')
    expect(result.config).toMatchObject({service: 'service:svc', include: ['*'], exclude: [], labels: {}, models: null, envs: [], args: {}})
  })

  it('treats a null include/exclude and empty sections as unset', () => {
    const result = parseBuildConfig('service: svc\ninclude:\nexclude:\ndocker:\npython:\nconda:\n', 'bentofile.yaml')
    expect(result.diagnostics).toEqual([])
    expect(result.config).toMatchObject({include: ['*'], exclude: [], docker: {distro: 'debian'}, python: {lock_packages: true}})
  })
})
