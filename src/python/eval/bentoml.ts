/**
 * The BentoML names the interpreter models: `bentoml.images.Image` and its methods (../../bentoml/image.ts, with
 * object identity), `@bentoml.service` envs as BentoML converts them, `bentoml.models.HuggingFaceModel` (recorded
 * for the build), the canonical names of their aliases, and the `os.environ` names that read or change the
 * environment.
 */
import {Image, IMAGE_INIT_PARAMS, type ImageInit, ImageRuleError} from '../../bentoml/image.js'
import type {CallCtx, Runtime} from './context.js'
import type {EvaluatedHfModel} from './context.js'
import {FALSE, keyOf, str, typeName} from './pyops.js'
import {ImportFailure} from './signals.js'
import type {PyValue, ServiceValue, Site, Unknown} from './values.js'

/** Canonical names for the BentoML objects the evaluator models. */
export function canonicalExt(q: string): string {
  switch (q) {
    case 'bentoml.images.PythonImage':
    case '_bentoml_sdk.images.Image':
    case '_bentoml_sdk.images.PythonImage':
      return 'bentoml.images.Image'
    case '_bentoml_sdk.service':
    case '_bentoml_sdk.service.service':
    case '_bentoml_sdk.service.factory.service':
      return 'bentoml.service'
    case 'bentoml._internal.utils.args.use_arguments':
      return 'bentoml.use_arguments'
    case '_bentoml_impl.loader.importing':
      return 'bentoml.importing'
    case 'pydantic.fields.Field':
      return 'pydantic.Field'
    case 'bentoml.models.huggingface.HuggingFaceModel':
    case '_bentoml_sdk.models.HuggingFaceModel':
    case '_bentoml_sdk.models.huggingface.HuggingFaceModel':
      return 'bentoml.models.HuggingFaceModel'
    case '_bentoml_sdk.task':
    case '_bentoml_sdk.decorators.task':
      return 'bentoml.task'
    default:
      return q
  }
}

/** A name from a package: `TYPE_CHECKING` is False while BentoML imports the service. */
export function extValue(q: string): PyValue {
  if (q === 'typing.TYPE_CHECKING' || q === 'typing_extensions.TYPE_CHECKING') return FALSE
  return {t: 'ext', name: q}
}

export const ENV_READS = new Set(['os.environ', 'os.getenv', 'os.environ.get', 'os.getenvb', 'os.environ.setdefault', 'dotenv.load_dotenv', 'dotenv.dotenv_values'])
/** Calls that change the environment in ways bento does not follow: later reads of it are unknown. */
export const ENV_MUTATORS = new Set([
  'os.environ.update', 'os.environ.pop', 'os.environ.popitem', 'os.environ.clear', 'os.environ.__setitem__', 'os.environ.__delitem__',
  'os.putenv', 'os.unsetenv', 'dotenv.load_dotenv', 'dotenv.main.load_dotenv',
])

export function newImage(ev: Runtime, pos: PyValue[], kw: Map<string, PyValue>, c: CallCtx): PyValue {
  const init: ImageInit = {}
  const params = IMAGE_INIT_PARAMS as readonly string[]
  if (pos.length > params.length) throw ev.failure(c.mod, c.e, `Image() takes at most ${params.length} positional arguments`, 'pass keyword arguments')
  const given = new Map<string, PyValue>()
  pos.forEach((v, i) => given.set(params[i] as string, v))
  for (const [k, v] of kw) {
    if (!params.includes(k)) throw ev.failure(c.mod, c.e, `Image() got an unexpected keyword argument '${k}'`, `Image() takes ${params.join(', ')}`)
    if (given.has(k)) throw ev.failure(c.mod, c.e, `Image() got multiple values for argument '${k}'`, 'pass each argument once')
    given.set(k, v)
  }
  for (const [k, v] of given) {
    const u = ev.unknownIn(v)
    if (u) return {t: 'opaque', u: {...u, why: `Image(${k}=…): ${u.why}`}}
    const rec = init as Record<string, unknown>
    if (k === 'lock_python_packages' || k === 'pack_git_packages') {
      if (v.t !== 'bool') throw ev.failure(c.mod, c.e, `Image(${k}=…) must be True or False`, `write ${k}=False`)
      rec[k] = v.v
    } else if (k === 'commands' || k === 'post_commands' || k === 'build_include_paths') {
      const items = v.t === 'list' || v.t === 'tuple' ? v.items : undefined
      if (items === undefined || items.some((x) => x.t !== 'str')) throw ev.failure(c.mod, c.e, `Image(${k}=…) must be a list of strings`, `write ${k}=["..."]`)
      rec[k] = items.map((x) => (x as {v: string}).v)
    } else {
      if (v.t !== 'str') throw ev.failure(c.mod, c.e, `Image(${k}=…) must be a string, not a ${typeName(v)}`, `write ${k}="..."`)
      rec[k] = v.v
    }
  }
  try {
    return {t: 'image', img: new Image(init, {files: ev.imageOptions.files, defaultPythonVersion: ev.imageOptions.defaultPythonVersion})}
  } catch (err) {
    if (err instanceof ImageRuleError) throw new ImportFailure(err.toDiagnostic(c.site))
    throw err
  }
}

export function callImage(ev: Runtime, self: Extract<PyValue, {t: 'image'}>, name: string, pos: PyValue[], kw: Map<string, PyValue>, c: CallCtx): PyValue {
  const kwName: Record<string, string> = {requirements_file: 'file_path', pyproject_toml: 'file_path', run: 'command', run_script: 'script'}
  const args = [...pos]
  for (const [k, v] of kw) {
    if (kwName[name] === k && args.length === 0) args.push(v)
    else throw ev.failure(c.mod, c.e, `Image.${name}() got an unexpected keyword argument '${k}'`, `pass the argument positionally`)
  }
  for (const a of args) {
    const u = ev.unknownIn(a)
    if (u) {
      const t: Unknown = {...u, why: `image.${name}(...) is given a value bento cannot read: ${u.why}`}
      self.taint ??= t
      return self
    }
    if (a.t !== 'str') throw ev.failure(c.mod, c.e, `Image.${name}() takes strings, not a ${typeName(a)}`, 'pass strings')
  }
  const s = args.map((a) => (a as {v: string}).v)
  const img = self.img
  const one = (what: string): string => {
    if (s.length !== 1) throw ev.failure(c.mod, c.e, `Image.${name}() takes exactly one ${what}`, `call ${name}() once per ${what}`)
    return s[0] as string
  }
  // python_packages lines remember this call's line (src/bentoml/target.ts names it for a bentoml pin).
  img.site = {file: c.site.file, line: c.site.line}
  try {
    switch (name) {
      case 'system_packages':
        img.systemPackages(...s)
        break
      case 'python_packages':
        img.pythonPackages(...s)
        break
      case 'requirements_file':
        img.requirementsFile(one('path'))
        break
      case 'pyproject_toml':
        if (s.length > 1) one('path')
        if (s.length === 0) img.pyprojectToml()
        else img.pyprojectToml(s[0])
        break
      case 'uv_lock':
        if (s.length > 0) throw ev.failure(c.mod, c.e, 'Image.uv_lock() takes no arguments', 'call uv_lock()')
        img.uvLockRequirements()
        break
      case 'run':
        img.run(one('command'))
        break
      case 'run_script':
        img.runScript(one('script path'))
        break
      case 'build_include':
        img.buildInclude(...s)
        break
      default:
        throw ev.failure(c.mod, c.e, `'Image' object has no attribute '${name}'`, `the image methods are ${Object.keys(Image.METHODS).join(', ')}`)
    }
  } catch (err) {
    if (err instanceof ImageRuleError) throw new ImportFailure(err.toDiagnostic(c.site))
    throw err
  } finally {
    img.site = undefined
  }
  return self
}

/** BentoML's `convert_envs` at decoration time: `[BentoEnvSchema(**env) for env in envs or []]`. */
export function convertEnvs(ev: Runtime, v: PyValue | undefined, site: Site): ServiceValue['envs'] {
  if (v === undefined || v.t === 'none') return []
  const u = ev.unknownIn(v)
  if (u) return u
  if (v.t !== 'list' && v.t !== 'tuple') {
    return {why: `envs is a ${typeName(v)}, not a list of {"name": …, "value": …} dicts`, hint: 'write envs=[{"name": "NAME", "value": "value"}]', site}
  }
  const out: Array<{name: string; value: string; stage: string}> = []
  for (const item of v.items) {
    if (item.t !== 'dict') return {why: `an envs entry is a ${typeName(item)}, not a dict`, hint: 'write {"name": "NAME", "value": "value"}', site}
    const get = (k: string): PyValue | undefined => item.map.get(keyOf(str(k), ev.budget))?.value
    const keys = [...item.map.values()].map((x) => (x.key.t === 'str' ? x.key.v : '?'))
    const extra = keys.filter((k) => !['name', 'value', 'stage'].includes(k))
    if (extra.length > 0) return {why: `envs entry has unexpected key(s) ${extra.join(', ')}`, hint: 'an envs entry has name, value and stage', site}
    const name = get('name')
    const value = get('value') ?? str('')
    const stage = get('stage') ?? str('all')
    if (name?.t !== 'str') return {why: 'an envs entry has no string "name"', hint: 'write {"name": "NAME", "value": "value"}', site}
    if (value.t !== 'str') return {why: `the value of env ${name.v} is a ${typeName(value)}`, hint: 'write the value as a string literal', site}
    if (stage.t !== 'str' || !['all', 'build', 'runtime'].includes(stage.v)) {
      return {why: `the stage of env ${name.v} must be "all", "build" or "runtime"`, hint: 'write "stage": "build" (or "runtime", "all")', site}
    }
    out.push({name: name.v, value: value.v, stage: stage.v})
  }
  return out
}

/** `HuggingFaceModel(model_id, revision="main", endpoint=None, include=None, exclude=None)`: recorded for the build. */
export function hfModel(ev: Runtime, pos: PyValue[], kw: Map<string, PyValue>, c: CallCtx): PyValue {
  const names = ['model_id', 'revision', 'endpoint', 'include', 'exclude']
  const given = new Map<string, PyValue>()
  pos.forEach((v, i) => given.set(names[i] ?? `#${i}`, v))
  for (const [k, v] of kw) given.set(k, v)
  const key = `${c.site.file}:${c.e.line}:${c.e.col}`
  const record = (): EvaluatedHfModel | Unknown => {
    for (const k of given.keys()) if (!names.includes(k)) return {why: `HuggingFaceModel() got an unexpected argument ${k}`, hint: 'pass model_id, revision, endpoint, include, exclude', site: c.site}
    for (const v of given.values()) {
      const u = ev.unknownIn(v)
      if (u) return u
    }
    const id = given.get('model_id')
    if (id?.t !== 'str') return {why: `the model id of HuggingFaceModel() is a ${id ? typeName(id) : 'missing value'}`, hint: 'pass the repository id as a string', site: c.site}
    const text = (k: string): string | null | undefined => {
      const v = given.get(k)
      return v === undefined || v.t === 'none' ? null : v.t === 'str' ? v.v : undefined
    }
    const list = (k: string): string[] | null | undefined => {
      const v = given.get(k)
      if (v === undefined || v.t === 'none') return null
      if (v.t === 'str') return [v.v]
      const it = ev.iterate(v)
      return it?.every((x) => x.t === 'str') ? it.map((x) => (x as {v: string}).v) : undefined
    }
    const revision = text('revision')
    const endpoint = text('endpoint')
    const include = list('include')
    const exclude = list('exclude')
    if (revision === undefined || endpoint === undefined || include === undefined || exclude === undefined) {
      return {why: 'an argument of HuggingFaceModel() is not a string (or a list of strings)', hint: 'pass strings', site: c.site}
    }
    return {modelId: id.v, revision: revision ?? 'main', endpoint, include, exclude}
  }
  if (!ev.hfModels.has(key)) ev.hfModels.set(key, record())
  return {t: 'ext', name: 'bentoml.models.HuggingFaceModel()'}
}
