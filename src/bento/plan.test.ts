import {describe, expect, it} from 'vitest'
import {parse} from 'yaml'

import {ConfigError} from '../errors.js'
import {type BuildPlan, hfKey, type PlanConfig, type PlanInputs, type PlanSdk, planBuild, planIdentity, requirementName, versionFromDigest} from './plan.js'

const config = (over: Partial<PlanConfig> = {}): PlanConfig => ({
  service: 'service:svc',
  name: null,
  description: null,
  labels: {owner: 'bentoml-team', stage: 'dev'},
  include: ['*.py'],
  exclude: [],
  envs: [],
  args: {},
  docker: {
    distro: 'debian',
    python_version: null,
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
  ...over,
})

const inputs = (over: Partial<PlanInputs> = {}): PlanInputs => ({
  config: config(),
  configFile: 'bentofile.yaml',
  files: [{rel: 'service.py', abs: '/p/service.py', size: 10, mode: 0o100644, sha256: 'aa'}],
  service: {
    importString: 'service:svc',
    kind: 'legacy',
    legacyStyle: 'runner',
    file: 'service.py',
    line: 9,
    name: 'clasificador_iris',
    runners: [{name: 'flower_model', runnableType: 'KerasRunnable', modelTag: 'flower_model:latest', embedded: false}],
    apis: [{name: 'classify', inputType: 'NumpyNdarray', outputType: 'NumpyNdarray'}],
  },
  models: [
    {
      name: 'flower_model',
      version: 'zfshqahix2dpoax4',
      module: 'bentoml.keras',
      creationTime: '2025-05-30T10:11:12.123456+00:00',
      dir: '/home/models/flower_model/zfshqahix2dpoax4',
      digest: 'd1',
      bentomlVersion: '1.4.20',
      pythonVersion: '3.11.7',
      frameworkVersions: {tensorflow: '2.15.1'},
    },
  ],
  readme: {text: '# hi\n', source: 'project'},
  extras: {wheels: []},
  now: new Date('2025-05-30T10:20:30.123Z'),
  toolVersion: '0.1.0',
  templates: {
    entrypoint: '#!/bin/sh\n',
    renderInstallSh: ({bentomlVersion}) => `install ${bentomlVersion}\n`,
    renderDockerfile: (ctx) => `FROM ${ctx.baseImage}\n`,
    openapi: () => ({openapi: '3.0.2'}),
  },
  ...over,
})

describe('planBuild', () => {
  it('writes a spec-1 bento.yaml that names the service, its runners, APIs and models', () => {
    const plan = planBuild(inputs())
    const yamlText = plan.texts.find((t) => t.path === 'bento.yaml')!.content
    const m = parse(yamlText) as Record<string, unknown>
    expect(Object.keys(m)).toEqual([
      'service', 'name', 'version', 'bentoml_version', 'creation_time', 'labels', 'models', 'entry_service',
      'services', 'envs', 'schema', 'args', 'spec', 'runners', 'apis', 'docker', 'python', 'conda',
    ])
    expect(m.name).toBe('clasificador_iris')
    expect(m.version).toMatch(/^[a-z2-7]{16}$/)
    expect(m.creation_time).toBe('2025-05-30T10:20:30.123000+00:00')
    expect(m.runners).toEqual([
      {name: 'flower_model', runnable_type: 'KerasRunnable', embedded: false, models: ['flower_model:zfshqahix2dpoax4'], resource_config: null},
    ])
    expect((m.docker as Record<string, unknown>).python_version).toBe('3.11')
    expect(Object.keys(m.python as object)).not.toContain('is_src_layout')
    // every string scalar quoted: PyYAML (YAML 1.1) must not read `3.11` as a float
    expect(yamlText).toContain("python_version: '3.11'")
    expect(yamlText).toContain("bentoml_version: '1.4.15'")
  })

  it('caps bentoml at 1.4.15 for a runner-style service and adds the framework package', () => {
    const plan = planBuild(inputs())
    expect(plan.requirements).toEqual(['scikit-learn', 'pandas', 'tensorflow==2.15.1', 'bentoml==1.4.15', 'setuptools<81'])
    expect(plan.texts.find((t) => t.path === 'env/python/requirements.txt')!.content).toBe(
      'scikit-learn\npandas\ntensorflow==2.15.1\nbentoml==1.4.15\nsetuptools<81\n',
    )
    expect(plan.texts.find((t) => t.path === 'env/python/version.txt')!.content).toBe('3.11.7')
  })

  it('keeps the version that saved the models for an SDK service, and the user pin of a framework', () => {
    const plan = planBuild(
      inputs({
        service: {importString: 'service:Iris', kind: 'sdk', name: 'iris', runners: [], apis: []},
        config: config({python: {...config().python, packages: ['tensorflow-cpu', 'TensorFlow>=2.0']}}),
      }),
    )
    expect(plan.requirements).toEqual(['tensorflow-cpu', 'TensorFlow>=2.0', 'bentoml==1.4.20'])
  })

  it('--bentoml-version overrides; for a runner-style service a release that cannot import it is an error', () => {
    const sdk = {importString: 'service:Iris', kind: 'sdk' as const, name: 'iris', runners: [], apis: []}
    const plan = planBuild(inputs({service: sdk, bentomlVersionOverride: '1.4.20'}))
    expect(plan.requirements.at(-1)).toBe('bentoml==1.4.20') // no setuptools pin needed from 1.4.20 on
    expect(() => planBuild(inputs({bentomlVersionOverride: '1.4.20'}))).toThrow(/service\.py:9[\s\S]*served only by BentoML up to 1\.4\.15/)
  })

  it('targets the newest known BentoML for an SDK service without models, without setuptools<81', () => {
    const plan = planBuild(inputs({service: {importString: 'service:Iris', kind: 'sdk', name: 'iris', runners: [], apis: []}, models: []}))
    expect(plan.requirements).toEqual(['scikit-learn', 'pandas', 'bentoml==1.4.40'])
    expect(plan.warnings).toEqual([])
  })

  it('keeps a user range and extras on bentoml and adds the exact pin, as bentoml build does', () => {
    const sdk = {importString: 'service:Iris', kind: 'sdk' as const, name: 'iris', runners: [], apis: []}
    const plan = planBuild(inputs({service: sdk, models: [], config: config({python: {...config().python, packages: ['bentoml[io]>=1.4.22']}})}))
    expect(plan.requirements).toEqual(['bentoml[io]>=1.4.22', 'bentoml==1.4.40'])
    const pinned = planBuild(inputs({service: sdk, models: [], config: config({python: {...config().python, packages: ['bentoml[io]==1.4.38']}})}))
    expect(pinned.requirements).toEqual(['bentoml[io]==1.4.38'])
    expect(pinned.manifest.bentoml_version).toBe('1.4.38')
  })

  it('writes only the keys the target reads: envs[].stage from 1.4.31 (first published: 1.4.32), python.is_src_layout from 1.4.38', () => {
    const legacy = {...inputs().service, legacyStyle: 'legacy' as const}
    const envs = [{name: 'A', value: '1', stage: 'all' as const}]
    const at = (v: string): Record<string, unknown> =>
      parse(planBuild(inputs({service: legacy, config: config({envs}), bentomlVersionOverride: v})).texts.find((t) => t.path === 'bento.yaml')!.content) as Record<string, unknown>
    expect(at('1.4.30').envs).toEqual([{name: 'A', value: '1'}])
    expect(at('1.4.32').envs).toEqual([{name: 'A', value: '1', stage: 'all'}])
    expect(Object.keys(at('1.4.37').python as object)).not.toContain('is_src_layout')
    expect((at('1.4.38').python as Record<string, unknown>).is_src_layout).toBe(false)
  })

  it('derives the same version from the same inputs, and another one when anything changes', () => {
    const a = planBuild(inputs())
    const b = planBuild(inputs({now: new Date('2030-01-01T00:00:00Z')}))
    expect(a.version).toBe(b.version)
    const c = planBuild(inputs({files: [{rel: 'service.py', abs: '/p/service.py', size: 10, mode: 0o100644, sha256: 'ab'}]}))
    expect(c.version).not.toBe(a.version)
    const d = planBuild(inputs({models: [{...inputs().models[0]!, digest: 'd2'}]}))
    expect(d.version).not.toBe(a.version)
    expect(planBuild(inputs({versionOverride: 'v1'})).tag).toBe('clasificador_iris:v1')
  })

  it('plans the models inside the Bento with a newline-free latest file', () => {
    const plan = planBuild(inputs())
    expect(plan.models).toEqual([
      {from: '/home/models/flower_model/zfshqahix2dpoax4', path: 'models/flower_model/zfshqahix2dpoax4', name: 'flower_model', version: 'zfshqahix2dpoax4'},
    ])
    expect(plan.texts.find((t) => t.path === 'models/flower_model/latest')!.content).toBe('zfshqahix2dpoax4')
  })

  it('writes the filled bentofile into src/ unless the user bentofile is included', () => {
    expect(planBuild(inputs()).texts.some((t) => t.path === 'src/bentofile.yaml')).toBe(true)
    const withUser = planBuild(inputs({files: [...inputs().files, {rel: 'bentofile.yaml', abs: '/p/bentofile.yaml', size: 1, mode: 0o644, sha256: 'cc'}]}))
    expect(withUser.texts.some((t) => t.path === 'src/bentofile.yaml')).toBe(false)
    expect(withUser.copies.map((c) => c.path)).toContain('src/bentofile.yaml')
  })
})

describe('helpers', () => {
  it('versionFromDigest gives BentoML-shaped versions', () => {
    expect(versionFromDigest('00'.repeat(32))).toBe('aaaaaaaaaaaaaaaa')
    expect(versionFromDigest('ff'.repeat(32))).toBe('7777777777777777')
  })
  it('requirementName normalizes names and skips options', () => {
    expect(requirementName('Scikit_Learn>=1.0 ; python_version>"3"')).toBe('scikit-learn')
    expect(requirementName('-r other.txt')).toBeNull()
    expect(requirementName('# c')).toBeNull()
    expect(requirementName('torch[cpu]==2.0')).toBe('torch')
  })
})

describe('planBuild: @bentoml.service (spec 2, as BentoML 1.4.40 writes it)', () => {
  const irisModel = {
    name: 'iris_clf',
    version: 'xfst4ahl7kgeyax4',
    module: 'bentoml.sklearn',
    creationTime: '2026-11-29T13:42:30.997240+00:00',
    dir: '/home/models/iris_clf/xfst4ahl7kgeyax4',
    digest: 'd1',
    bentomlVersion: '1.4.40',
    pythonVersion: '3.11.7',
    frameworkVersions: {'scikit-learn': '1.9.1'},
  }
  const schema = {
    name: 'Iris',
    type: 'service',
    routes: [{name: 'classify', route: '/classify', batchable: false, input: {type: 'object'}, output: {type: 'tensor'}, is_task: false}],
    paths: {'/classify': {mounted: false}},
  }
  const sdkInputs = (over: Partial<PlanInputs> = {}): PlanInputs =>
    inputs({
      config: config({python: {...config().python, packages: ['scikit-learn']}, labels: {}}),
      service: {importString: 'service:Iris', kind: 'sdk', legacyStyle: null, file: 'service.py', line: 5, name: 'iris', runners: [], apis: []},
      models: [irisModel],
      sdk: {
        services: [{name: 'Iris', models: [{tag: 'iris_clf:latest', registry: 'bentoml'}], dependencies: [], config: {resources: {cpu: '1'}}}],
        labels: {},
        envs: [],
        description: null,
        schema,
      },
      image: {
        info: {
          base_image: 'python:3.11-slim',
          python_version: '3.11',
          commands: ['apt-get update && apt-get install -q -y --no-install-recommends --allow-remove-essential ca-certificates gnupg2 bash build-essential git'],
          python_requirements: 'scikit-learn\n',
          post_commands: [],
          build_include: [],
        },
        lockPackages: true,
        scripts: [],
        warnings: [],
      },
      ...over,
    })

  it("src/bentofile.yaml fills docker.env from every env, the entry service's included (with_defaults after Bento.create)", () => {
    const plan = planBuild(sdkInputs({sdk: {...sdkInputs().sdk!, envs: [{name: 'GREETING', value: 'hello', stage: 'all'}]}}))
    const filled = parse(plan.texts.find((t) => t.path === 'src/bentofile.yaml')!.content) as {docker: Record<string, unknown>}
    expect(filled.docker.env).toEqual({GREETING: 'hello'})
  })

  it('writes services, entry_service, schema and image; models only under services[].models', () => {
    const plan = planBuild(sdkInputs())
    const m = parse(plan.texts.find((t) => t.path === 'bento.yaml')!.content) as Record<string, unknown>
    expect(Object.keys(m)).toEqual([
      'service', 'name', 'version', 'bentoml_version', 'creation_time', 'labels', 'models', 'entry_service',
      'services', 'envs', 'schema', 'args', 'spec', 'image',
    ])
    expect(m).toMatchObject({service: 'service:Iris', name: 'iris', bentoml_version: '1.4.40', labels: {}, models: [], entry_service: 'Iris', envs: [], spec: 2})
    expect(m.services).toEqual([
      {
        name: 'Iris',
        service: '',
        models: [{tag: 'iris_clf:xfst4ahl7kgeyax4', module: 'bentoml.sklearn', creation_time: '2026-11-29T13:42:30.997240+00:00'}],
        dependencies: [],
        config: {resources: {cpu: '1'}},
      },
    ])
    expect(m.schema).toEqual(schema)
    expect(m.image).toEqual({
      base_image: 'python:3.11-slim',
      python_version: '3.11',
      commands: ['apt-get update && apt-get install -q -y --no-install-recommends --allow-remove-essential ca-certificates gnupg2 bash build-essential git'],
      python_requirements: 'scikit-learn\nbentoml==1.4.40\n',
      post_commands: [],
      build_include: [],
    })
  })

  it('lays out env/ as spec 2: requirements.in and .txt, Dockerfile and entrypoint, no install.sh or version.txt', () => {
    const plan = planBuild(sdkInputs())
    const paths = plan.texts.map((t) => t.path)
    expect(paths).toEqual(expect.arrayContaining(['apis/openapi.yaml', 'apis/schema.json', 'env/docker/Dockerfile', 'env/docker/entrypoint.sh', 'env/python/requirements.in', 'env/python/requirements.txt']))
    expect(paths).not.toContain('env/python/install.sh')
    expect(paths).not.toContain('env/python/version.txt')
    expect(plan.texts.find((t) => t.path === 'env/python/requirements.in')!.content).toBe('scikit-learn\nbentoml==1.4.40\n')
    expect(JSON.parse(plan.texts.find((t) => t.path === 'apis/schema.json')!.content)).toEqual(schema)
    expect(plan.models.map((x) => x.name)).toEqual(['iris_clf'])
  })

  it('merges the entry service labels and envs, adds openai_endpoint, keeps bentofile models top-level with alias', () => {
    const plan = planBuild(
      sdkInputs({
        config: config({labels: {team: 'a'}, envs: [{name: 'A', value: '1', stage: 'all'}], models: [{tag: 'iris_clf:latest', alias: 'clf'}]}),
        sdk: {
          ...sdkInputs().sdk!,
          labels: {owner: 'x'},
          envs: [{name: 'HF_TOKEN', value: '', stage: 'runtime'}],
          schema: {...schema, paths: {'/v1/chat/completions': {mounted: true}}},
        },
      }),
    )
    const m = parse(plan.texts.find((t) => t.path === 'bento.yaml')!.content) as Record<string, unknown>
    expect(m.labels).toEqual({team: 'a', owner: 'x', openai_endpoint: '/v1'})
    expect(m.envs).toEqual([
      {name: 'A', value: '1', stage: 'all'},
      {name: 'HF_TOKEN', value: '', stage: 'runtime'},
    ])
    expect(m.models).toEqual([{tag: 'iris_clf:xfst4ahl7kgeyax4', module: 'bentoml.sklearn', creation_time: '2026-11-29T13:42:30.997240+00:00', alias: 'clf'}])
  })

  it('records dependencies and Hugging Face models as BentoML does', () => {
    const plan = planBuild(
      sdkInputs({
        models: [],
        sdk: {
          ...sdkInputs().sdk!,
          services: [
            {name: 'Front', models: [], dependencies: [{service: 'Back'}, {url: 'http://x:3000'}], config: {}},
            {name: 'Back', models: [{tag: 'Org/Model', registry: 'huggingface', hf: {revision: 'main', endpoint: null, include: null, exclude: null}}], dependencies: [], config: {workers: 2}},
          ],
        },
        hfModels: [
          {
            key: hfKey('Org/Model', {revision: 'main', endpoint: null, include: null, exclude: null}),
            tag: 'org--model:0123456789abcdef0123456789abcdef',
            metadata: {model_id: 'org/model', revision: 'a'.repeat(40), endpoint: 'https://huggingface.co', include: null, exclude: null},
          },
        ],
      }),
    )
    const m = parse(plan.texts.find((t) => t.path === 'bento.yaml')!.content) as {services: unknown[]; entry_service: string}
    expect(m.entry_service).toBe('Front')
    expect(m.services).toEqual([
      {name: 'Front', service: '', models: [], dependencies: [{service: 'Back'}, {url: 'http://x:3000'}], config: {}},
      {
        name: 'Back',
        service: '',
        models: [
          {
            tag: 'org--model:0123456789abcdef0123456789abcdef',
            module: null,
            creation_time: '2025-05-30T10:20:30.123000+00:00',
            registry: 'huggingface',
            metadata: {model_id: 'org/model', revision: 'a'.repeat(40), endpoint: 'https://huggingface.co', include: null, exclude: null},
          },
        ],
        dependencies: [],
        config: {workers: 2},
      },
    ])
  })

  it('an SDK service the bentofile forces to spec 1 still gets its services, schema and entry_service', () => {
    const plan = planBuild(sdkInputs({image: null}))
    const m = parse(plan.texts.find((t) => t.path === 'bento.yaml')!.content) as Record<string, unknown>
    expect(m.spec).toBe(1)
    expect(m.entry_service).toBe('Iris')
    expect((m.services as unknown[]).length).toBe(1)
    expect(m.models).toEqual([])
    expect(plan.texts.map((t) => t.path)).toContain('env/python/install.sh')
  })

  it('an SDK service forced to spec 1 writes apis: [] and runners: [] (BentoInfo for a non-legacy service, BentoML 1.4.40)', () => {
    const service = {...sdkInputs().service, apis: [{name: 'classify', inputType: '', outputType: ''}]}
    const plan = planBuild(sdkInputs({service, image: null}))
    const m = parse(plan.texts.find((t) => t.path === 'bento.yaml')!.content) as Record<string, unknown>
    expect(m.spec).toBe(1)
    expect(m.apis).toEqual([])
    expect(m.runners).toEqual([])
  })

  const yamlOf = (plan: ReturnType<typeof planBuild>): Record<string, unknown> => parse(plan.texts.find((t) => t.path === 'bento.yaml')!.content) as Record<string, unknown>
  const twoServices = (over: Partial<PlanSdk> = {}): PlanSdk => ({
    ...sdkInputs().sdk!,
    services: [
      {name: 'Iris', models: [{tag: 'iris_clf:latest', registry: 'bentoml'}], dependencies: [{service: 'Back'}], config: {resources: {cpu: '1'}}},
      {name: 'Back', models: [], dependencies: [], config: {}},
    ],
    ...over,
  })
  // The pin as the build hands it over: in the bentofile and in the image the bentofile merged into.
  const pinned13 = (v: string): Pick<PlanInputs, 'config' | 'image'> => {
    const image = sdkInputs().image!
    return {
      config: config({python: {...config().python, packages: ['scikit-learn', `bentoml==${v}`]}, labels: {}}),
      image: {...image, info: {...image.info, python_requirements: `scikit-learn\nbentoml==${v}\n`}},
    }
  }

  it('a bentoml==1.3.22 pin writes the spec 2 Bento 1.3.22 writes: no args, no schema paths, image.scripts, no build_include, no requirements.in (issue 16)', () => {
    const plan = planBuild(sdkInputs({...pinned13('1.3.22')}))
    const m = yamlOf(plan)
    expect(m.bentoml_version).toBe('1.3.22')
    expect(m.spec).toBe(2)
    expect(Object.keys(m)).toEqual(['service', 'name', 'version', 'bentoml_version', 'creation_time', 'labels', 'models', 'entry_service', 'services', 'envs', 'schema', 'spec', 'image'])
    expect(m.schema).not.toHaveProperty('paths')
    expect(Object.keys(m.image as object)).toEqual(['base_image', 'python_version', 'commands', 'python_requirements', 'post_commands', 'scripts'])
    expect((m.image as {scripts: unknown}).scripts).toEqual({})
    expect(plan.texts.map((t) => t.path)).not.toContain('env/python/requirements.in')
    // the filled build config in src/ has no args either (1.3.x BentoBuildConfig has none)
    expect(parse(plan.texts.find((t) => t.path === 'src/bentofile.yaml')!.content)).not.toHaveProperty('args')
    expect(plan.requirements).toContain('bentoml==1.3.22')
    expect(plan.requirements.filter((r) => r.startsWith('bentoml'))).toHaveLength(1)
  })

  it('1.3.21–1.3.22 take a service image= as it is: bentofile python/docker options beside it get a warning that 1.3.x ignores them', () => {
    const p = pinned13('1.3.22')
    const plan = planBuild(sdkInputs({...p, sdk: {...sdkInputs().sdk!, imageDeclared: true}}))
    expect(plan.warnings.map((w) => [w.key, w.message])).toContainEqual(['python.packages', expect.stringMatching(/BentoML 1\.3\.22 ignores .*python\.packages.*image=/)])
    // no image= declared: the bentofile is the image, no warning
    expect(planBuild(sdkInputs({...p})).warnings.filter((w) => /ignores/.test(w.message))).toEqual([])
  })

  it('1.3.10–1.3.20 write an SDK service as spec 1 (with `spec: 1`) and ignore its image= with a warning, as BentoML does', () => {
    const plan = planBuild(sdkInputs({...pinned13('1.3.15'), sdk: {...sdkInputs().sdk!, imageDeclared: true}}))
    const m = yamlOf(plan)
    expect(m.spec).toBe(1)
    expect(m.runners).toEqual([])
    expect(m.apis).toEqual([])
    expect(m).not.toHaveProperty('image')
    expect(m).not.toHaveProperty('args')
    expect((m.python as {packages: string[]}).packages).toEqual(['scikit-learn', 'bentoml==1.3.15'])
    expect(plan.texts.map((t) => t.path)).toEqual(expect.arrayContaining(['env/python/install.sh', 'env/python/version.txt']))
    expect(plan.warnings.map((w) => w.message)).toContainEqual(expect.stringMatching(/image=.*ignored.*1\.3\.15.*spec 1/))
    // no image declared: no warning
    expect(planBuild(sdkInputs({...pinned13('1.3.15')})).warnings.filter((w) => /image=/.test(w.message))).toEqual([])
  })

  it('1.3.6–1.3.9 write no `spec` key; 1.3.0–1.3.5 also write dependencies as service names', () => {
    const m9 = yamlOf(planBuild(sdkInputs({...pinned13('1.3.7'), sdk: twoServices()})))
    expect(m9).not.toHaveProperty('spec')
    // BentoInfo's field order up to 1.3.9: runners right after models (1.3.9 bento.py `class BentoInfo`)
    expect(Object.keys(m9)).toEqual(['service', 'name', 'version', 'bentoml_version', 'creation_time', 'labels', 'models', 'runners', 'entry_service', 'services', 'envs', 'schema', 'apis', 'docker', 'python', 'conda'])
    expect((m9.services as Array<{dependencies: unknown}>)[0]!.dependencies).toEqual([{service: 'Back'}])
    const m5 = yamlOf(planBuild(sdkInputs({...pinned13('1.3.5'), sdk: twoServices()})))
    expect(m5).not.toHaveProperty('spec')
    expect(m5.bentoml_version).toBe('1.3.5')
    expect((m5.services as Array<{dependencies: unknown}>)[0]!.dependencies).toEqual(['Back'])
  })

  it('what a 1.3.x target cannot hold is an error naming the release: service labels=, args, a root input, image= before 1.3.10, remote dependencies and Hugging Face models before 1.3.6', () => {
    const fails = (over: Partial<PlanInputs>, re: RegExp): void => {
      let error: unknown
      try {
        planBuild(sdkInputs(over))
      } catch (e) {
        error = e
      }
      expect(error, String(re)).toBeInstanceOf(ConfigError)
      expect((error as ConfigError).diagnostics.map((d) => d.message).join('\n')).toMatch(re)
    }
    fails({...pinned13('1.3.22'), sdk: {...sdkInputs().sdk!, labels: {team: 'a'}}}, /labels=.*1\.4\.0.*1\.3\.22/)
    fails({...pinned13('1.3.22'), config: {...pinned13('1.3.22').config, args: {size: 3}}}, /args.*1\.4\.0.*1\.3\.22/)
    const rootSchema = {...sdkInputs().sdk!.schema, routes: [{name: 'classify', route: '/classify', input: {type: 'string', root_input: true}, output: {type: 'string'}}]}
    fails({...pinned13('1.3.22'), sdk: {...sdkInputs().sdk!, schema: rootSchema}}, /classify.*positional-only.*1\.4\.0.*1\.3\.22/)
    fails({...pinned13('1.3.9'), sdk: {...sdkInputs().sdk!, imageDeclared: true}}, /bentoml\.images.*1\.3\.10.*1\.3\.9/)
    fails({...pinned13('1.3.5'), sdk: twoServices({services: [{name: 'Iris', models: [], dependencies: [{url: 'http://x:3000'}], config: {}}]})}, /1\.3\.6.*1\.3\.5/)
    const hf = {name: 'Iris', models: [{tag: 'Org/Model', registry: 'huggingface' as const, hf: {revision: 'main', endpoint: null, include: null, exclude: null}}], dependencies: [], config: {}}
    fails({...pinned13('1.3.5'), sdk: twoServices({services: [hf]})}, /HuggingFaceModel.*1\.3\.6.*1\.3\.5/)
  })

  it('older spec-2 targets: no build_include before 1.4.31 (and 1.4.32–1.4.35), no --force-confdef before 1.4.29', () => {
    const info = {...sdkInputs().image!.info, commands: ['x', 'apt-get install -q -y -o Dpkg::Options::=--force-confdef curl']}
    const image = (v: string): Record<string, unknown> =>
      (parse(planBuild(sdkInputs({image: {...sdkInputs().image!, info}, bentomlVersionOverride: v})).texts.find((t) => t.path === 'bento.yaml')!.content) as {image: Record<string, unknown>}).image
    expect(Object.keys(image('1.4.28'))).not.toContain('build_include')
    expect(image('1.4.28').commands).toEqual(['x', 'apt-get install -q -y curl'])
    expect(image('1.4.29').commands).toEqual(info.commands)
    expect(Object.keys(image('1.4.35'))).not.toContain('build_include')
    expect(image('1.4.36').build_include).toEqual([])
    expect(image('1.4.15').python_requirements).toBe('scikit-learn\nbentoml==1.4.15\nsetuptools<81\n')
  })

  it('bentofile packages beside requirements_txt: installed too before 1.4.19, ignored from 1.4.19 on (as BentoML)', () => {
    // The merge (1.4.40 rule) put only the requirements file's lines into the image.
    const info = {...sdkInputs().image!.info, python_requirements: 'numpy\n'}
    const cfg = config({python: {...config().python, requirements_txt: 'requirements.txt', packages: ['pandas', 'scikit-learn']}, labels: {}})
    const reqs = (v: string): string[] => planBuild(sdkInputs({config: cfg, image: {...sdkInputs().image!, info}, bentomlVersionOverride: v})).requirements
    expect(reqs('1.4.18')).toEqual(['numpy', 'pandas', 'scikit-learn', 'bentoml==1.4.18', 'setuptools<81'])
    expect(reqs('1.4.19')).toEqual(['numpy', 'scikit-learn==1.9.1', 'bentoml==1.4.19', 'setuptools<81'])
    expect(reqs('1.4.40')).toEqual(['numpy', 'scikit-learn==1.9.1', 'bentoml==1.4.40'])
  })

  it("the 'packages is ignored' warning is the plan's: spec 1 and spec-2 targets from 1.4.19 ignore them, older spec-2 targets install them (no warning)", () => {
    const python = {...config().python, requirements_txt: 'requirements.txt', packages: ['pandas']}
    const ignored = (plan: BuildPlan): string[] => plan.warnings.filter((w) => w.key === 'python.packages').map((w) => `${w.file} ${w.message}`)
    const said = ["bentofile.yaml python.requirements_txt 'requirements.txt' is used, so 'packages' is ignored"]
    expect(ignored(planBuild(inputs({config: config({python})})))).toEqual(said)
    const sdk = (v: string): BuildPlan => planBuild(sdkInputs({config: config({python, labels: {}}), bentomlVersionOverride: v}))
    expect(ignored(sdk('1.4.18'))).toEqual([])
    expect(ignored(sdk('1.4.19'))).toEqual(said)
    expect(ignored(planBuild(inputs({config: config({python: {...python, packages: []}})})))).toEqual([])
  })
})

describe('planBuild: envs stages for targets that do not know them', () => {
  it('warns that a build or runtime env is an "all" env for a target before 1.4.31', () => {
    const legacy = {...inputs().service, legacyStyle: 'legacy' as const}
    const envs = [{name: 'TOKEN', value: 's', stage: 'build' as const}, {name: 'A', value: '1', stage: 'all' as const}]
    const old = planBuild(inputs({service: legacy, config: config({envs}), bentomlVersionOverride: '1.4.30'}))
    expect(old.warnings.map((w) => w.key)).toContain('envs[0].stage')
    expect(old.warnings.map((w) => w.key)).not.toContain('envs[1].stage')
    const recent = planBuild(inputs({service: legacy, config: config({envs}), bentomlVersionOverride: '1.4.32'}))
    expect(recent.warnings.map((w) => w.key)).not.toContain('envs[0].stage')
  })
})

describe('planIdentity: what a no-op build stops at', () => {
  const unrendered: PlanInputs['templates'] = {
    entrypoint: '',
    renderInstallSh: () => expect.unreachable('install.sh rendered'),
    renderDockerfile: () => expect.unreachable('Dockerfile rendered'),
    openapi: () => expect.unreachable('openapi rendered'),
  }
  const legacy = {...inputs().service, legacyStyle: 'legacy' as const}
  const cases: Array<[string, PlanInputs]> = [
    ['runner-style', inputs()],
    ['a user lock', inputs({lock: {sha256: 'ab'.repeat(32), text: 'numpy==2.0.0\n'} as PlanInputs['lock']})],
    ['env stages an old target warns about', inputs({service: legacy, config: config({envs: [{name: 'T', value: 's', stage: 'build'}]}), bentomlVersionOverride: '1.4.30'})],
    ['a src/ layout the target does not flatten', inputs({service: legacy, config: config({python: {...config().python, is_src_layout: true}}), bentomlVersionOverride: '1.4.30'})],
    ['a src/ layout without the service module', inputs({config: config({python: {...config().python, is_src_layout: true}}), service: {...legacy, importString: 'src.app.service:svc'}, bentomlVersionOverride: '1.4.40'})],
    ['--version', inputs({versionOverride: 'v1'})],
  ]
  for (const [what, given] of cases) {
    it(`${what}: the identity, requirements and warnings of the full plan, without rendering a file`, () => {
      const full = planBuild(given)
      const id = planIdentity({...given, templates: unrendered})
      expect(id).toEqual({
        name: full.name,
        version: full.version,
        tag: full.tag,
        digest: full.digest,
        bentomlVersion: full.manifest.bentoml_version,
        spec: full.manifest.spec === 2 ? 2 : 1,
        requirements: full.requirements,
        pythonVersion: full.pythonVersion,
        lockPackages: full.lockPackages,
        warnings: full.warnings,
      })
      if (what.startsWith('a src/') || what.startsWith('env')) expect(id.warnings).not.toEqual([])
    })
  }
})
