/**
 * Reading and writing attributes and items (`obj.attr`, `obj.attr = v`, `obj[key]`) of every value the interpreter
 * knows: modules, package names, images, instances (methods bound, properties computed), classes, `super()`,
 * builtin-type methods, `os.environ`.
 */
import {Image, IMAGE_INIT_PARAMS} from '../../bentoml/image.js'
import type {Expr} from '../parse/index.js'
import {canonicalExt, extValue} from './bentoml.js'
import type {Runtime} from './context.js'
import {bindMember, hasUnknownBase, isPydanticModel, PYDANTIC_INSTANCE_METHODS, pydanticClassAttr} from './objects.js'
import {classLookup, mro} from './pydantic.js'
import {bool, isHashable, keyOf, pyRepr, str, typeName} from './pyops.js'
import type {ModuleState, PyValue, Site} from './values.js'

function siteOf(mod: ModuleState, x: {line: number; col: number}): Site {
  return {file: mod.file ?? '', line: x.line, col: x.col}
}

export function getAttr(ev: Runtime, obj: PyValue, attr: string, mod: ModuleState, at: Expr): PyValue {
  const site = siteOf(mod, at)
  switch (obj.t) {
    case 'module': {
      const v = obj.mod?.env.get(attr)
      if (v !== undefined) return v
      const sub = ev.importModule(`${obj.name}.${attr}`, site)
      if (sub) return {t: 'module', name: sub.name, mod: sub}
      return ev.opaque(`\`${attr}\` is not defined in module ${obj.name}`, `define ${attr} in ${obj.mod?.file ?? obj.name}`, site)
    }
    case 'ext': {
      return extValue(canonicalExt(`${obj.name}.${attr}`))
    }
    case 'builtin':
      if (attr === '__name__') return str(obj.name)
      if (['str', 'dict', 'list', 'set', 'tuple', 'int', 'float', 'bytes'].includes(obj.name)) return {t: 'builtin', name: `${obj.name}.${attr}`}
      return ev.opaque(`the attribute \`${attr}\` of ${obj.name}`, 'use a module-level value', site)
    case 'image': {
      const img = obj.img
      switch (attr) {
        case 'base_image':
        case 'distro':
        case 'python_version':
        case 'python_requirements':
          return str(img[attr])
        case 'lock_python_packages':
        case 'pack_git_packages':
          return bool(img[attr])
        default:
          if (attr in Image.METHODS) return {t: 'bound', self: obj, name: attr}
          if (attr === 'commands' || attr === 'post_commands' || attr === 'build_include_paths') {
            return ev.opaque(`reading image.${attr}`, 'add commands with image.run(...) instead of changing the list', site)
          }
          throw ev.failure(mod, at, `'Image' object has no attribute '${attr}'`, `the image methods are ${Object.keys(Image.METHODS).join(', ')}`)
      }
    }
    case 'instance': {
      const v = obj.attrs.get(attr)
      if (v !== undefined) return v
      const member = classLookup(obj.cls, attr)
      if (member !== undefined) return bindMember(ev, member, obj, obj.cls, attr, mod, at)
      if (attr === '__class__') return {t: 'class', cls: obj.cls}
      if (attr === '__dict__') return ev.dictOf([...obj.attrs])
      if (!obj.args && isPydanticModel(obj.cls) && PYDANTIC_INSTANCE_METHODS.has(attr)) return {t: 'bound', self: obj, name: attr}
      if (attr === 'model_fields' && isPydanticModel(obj.cls)) return pydanticClassAttr(ev, {t: 'class', cls: obj.cls}, attr) as PyValue
      if (obj.args) throw ev.failure(mod, at, `the Bento arguments have no field '${attr}'`, obj.cls.site.line > 0 ? `declare ${attr} in ${obj.cls.name}` : `pass it with --arg ${attr}=VALUE`)
      if (hasUnknownBase(obj.cls)) return ev.opaque(`\`${attr}\` of a ${obj.cls.name} (it may come from a base class bento does not read)`, 'use a module-level value', site)
      throw ev.failure(mod, at, `AttributeError: '${obj.cls.name}' object has no attribute '${attr}'`, `define ${attr} in ${obj.cls.name}`)
    }
    case 'field':
      // A pydantic `FieldInfo` (`Model.model_fields["x"]`): its default, its factory.
      if (attr === 'default') return obj.def ?? ev.opaque('the default of a field without one (PydanticUndefined)', 'read fields that have a default', site)
      if (attr === 'default_factory') return obj.factory ?? {t: 'none'}
      return ev.opaque(`\`FieldInfo.${attr}\``, 'read .default or .default_factory', site)
    case 'class': {
      const v = classLookup(obj.cls, attr)
      if (v !== undefined) {
        if (v.t === 'wrapped' && v.kind === 'classmethod') return {t: 'method', self: obj, fn: v.fn}
        if (v.t === 'wrapped' && v.kind === 'staticmethod') return v.fn
        return v
      }
      if (attr === '__name__' || attr === '__qualname__') return str(obj.cls.name)
      const pyd = pydanticClassAttr(ev, obj, attr)
      if (pyd !== undefined) return pyd
      return ev.opaque(`\`${obj.cls.name}.${attr}\` is not a class attribute bento can read`, 'use a module-level value', site)
    }
    case 'super': {
      // The classes after `cls` in the instance's class order (depth first, as for single inheritance).
      const order = mro(obj.self.t === 'instance' ? obj.self.cls : obj.cls)
      const after = order.slice(order.indexOf(obj.cls) + 1)
      for (const c of after) {
        const v = c.ns.get(attr)
        if (v !== undefined) return bindMember(ev, v, obj.self, c, attr, mod, at)
      }
      if (attr === '__init__' && !after.some(hasUnknownBase)) return {t: 'builtin', name: 'object.__init__'}
      return ev.opaque(`super().${attr} (from a base class bento does not read)`, 'use a module-level value', site)
    }
    case 'exc':
      if (attr === 'args') return {t: 'tuple', items: obj.args}
      return ev.opaque(`the attribute \`${attr}\` of an exception`, 'use str(e)', site)
    case 'func':
      if (attr === '__name__' || attr === '__qualname__') return str(obj.fn.name)
      return ev.opaque(`the attribute \`${attr}\` of a function`, 'use a module-level value', site)
    case 'str':
    case 'list':
    case 'dict':
    case 'set':
    case 'tuple':
    case 'int':
    case 'float':
      return {t: 'bound', self: obj, name: attr}
    case 'opaque':
      return obj
    default:
      return ev.opaque(`the attribute \`${attr}\` of a ${typeName(obj)}`, 'use a module-level value', site)
  }
}

export function setAttr(ev: Runtime, obj: PyValue, attr: string, value: PyValue, mod: ModuleState, at: Expr): void {
  const site = siteOf(mod, at)
  if (obj.t === 'image') {
    if (!(IMAGE_INIT_PARAMS as readonly string[]).includes(attr)) {
      throw ev.failure(mod, at, `'Image' object has no attribute '${attr}'`, `settable image attributes: ${IMAGE_INIT_PARAMS.join(', ')}`)
    }
    const u = ev.unknownIn(value)
    if (u) {
      obj.taint ??= {...u, why: `image.${attr} is set to a value bento cannot read: ${u.why}`}
      return
    }
    const img = obj.img as unknown as Record<string, unknown>
    if (attr === 'lock_python_packages' || attr === 'pack_git_packages') {
      if (value.t !== 'bool') throw ev.failure(mod, at, `image.${attr} must be True or False`, `write image.${attr} = False`)
      img[attr] = value.v
    } else if (attr === 'commands' || attr === 'post_commands' || attr === 'build_include_paths') {
      const items = value.t === 'list' || value.t === 'tuple' ? value.items : undefined
      if (items === undefined || items.some((x) => x.t !== 'str')) throw ev.failure(mod, at, `image.${attr} must be a list of strings`, 'use image.run(...) / image.build_include(...)')
      img[attr] = items.map((x) => (x as {v: string}).v)
    } else {
      if (value.t !== 'str') throw ev.failure(mod, at, `image.${attr} must be a string`, `write image.${attr} = "..."`)
      img[attr] = value.v
    }
    return
  }
  if (obj.t === 'module' && obj.mod) {
    obj.mod.env.set(attr, value)
    return
  }
  if (obj.t === 'class') {
    obj.cls.ns.set(attr, value)
    return
  }
  if (obj.t === 'instance') {
    const member = classLookup(obj.cls, attr)
    if (member?.t === 'wrapped' && member.kind === 'property') throw ev.failure(mod, at, `AttributeError: property '${attr}' of '${obj.cls.name}' object has no setter`, `assign another attribute`)
    obj.attrs.set(attr, value)
    return
  }
  // Attributes on objects bento does not model: nothing it reads depends on them, unless the value is a tracked object.
  ev.taint(value, {why: `it is stored on an object bento does not model at ${site.file}:${site.line}`, hint: 'keep the value in a module-level variable', site})
}

export function subscript(ev: Runtime, obj: PyValue, idx: PyValue, mod: ModuleState, at: Expr): PyValue {
  const site = siteOf(mod, at)
  if (obj.t === 'ext' && obj.name === 'os.environ') {
    const r = ev.environ.read(idx, site, mod, at)
    if ('unknown' in r) return r.unknown
    if (r.value === null) throw ev.environ.keyError(mod, at, (idx as {v: string}).v)
    return str(r.value)
  }
  if ((obj.t === 'list' || obj.t === 'tuple' || obj.t === 'str') && (idx.t === 'int' || idx.t === 'bool')) {
    if (obj.t === 'str') ev.budget.charge(Math.ceil(obj.v.length / 64))
    const n = obj.t === 'str' ? [...obj.v].length : obj.items.length
    const i0 = BigInt(idx.v)
    const i = Number(i0 < 0n ? BigInt(n) + i0 : i0)
    if (i < 0 || i >= n) throw ev.failure(mod, at, `${typeName(obj)} index out of range`, 'check the index')
    if (obj.t === 'str') return str([...obj.v][i] ?? '')
    if (obj.t === 'list' && obj.taint) return {t: 'opaque', u: obj.taint}
    return obj.items[i] as PyValue
  }
  if (obj.t === 'dict' && isHashable(idx)) {
    if (obj.taint) return {t: 'opaque', u: obj.taint}
    const hit = obj.map.get(keyOf(idx, ev.budget))
    if (hit === undefined) throw ev.failure(mod, at, `KeyError: ${pyRepr(idx)}`, 'use a key the dict has')
    return hit.value
  }
  if (obj.t === 'opaque') return obj
  if (idx.t === 'opaque') return idx
  if (obj.t === 'ext') return ev.opaque(`\`${obj.name}[…]\``, 'use a literal', site)
  return ev.opaque(`indexing a ${typeName(obj)} with a ${typeName(idx)}`, 'index lists with integers and dicts with literal keys', site)
}
