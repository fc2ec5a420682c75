/**
 * The evaluator's pure standard-library functions and its reads of the build's environment, against CPython:
 * each snippet is run by the real `python3` (with the same environment) and by the evaluator, and `repr(X)` must
 * agree — `json.dumps` (every option, byte for byte), `json.loads`, `shlex.quote`/`shlex.join`, `os.environ[...]`,
 * `os.environ.get`, `os.getenv` — and every variable read is listed with the value read.
 */
import {spawnSync} from 'node:child_process'

import {describe, expect, it} from 'vitest'

import {evaluateModule, pyReprValue} from './evaluate.js'

/** A clean environment for both sides: only what the test gives (and PATH for python3). */
function pyEnv(environ: Record<string, string>): Record<string, string> {
  return {PATH: process.env.PATH ?? '/usr/bin:/bin', ...environ}
}

/**
 * CPython's `repr(X)`; a str X as its UTF-16 code units in hex (exact for every character, where repr() would
 * escape the ones Python finds unprintable).
 */
function cpython(src: string, environ: Record<string, string> = {}): {repr: string; ok: boolean; stderr: string} {
  const show = 'print(X.encode("utf-16-le", "surrogatepass").hex() if isinstance(X, str) else repr(X))'
  const r = spawnSync('python3', ['-c', `${src}\n${show}`], {encoding: 'utf8', env: pyEnv(environ)})
  return {repr: r.stdout.replace(/\n$/, ''), ok: r.status === 0, stderr: r.stderr}
}

function bento(src: string, environ: Record<string, string> = {}) {
  const r = evaluateModule({files: new Map([['service.py', src]]), module: 'service', args: {}, environ: pyEnv(environ)})
  const errors = r.diagnostics.filter((d) => d.severity === 'error').map((d) => `${d.file}:${d.line}: ${d.message}`)
  const x = r.modules.get('service')?.env.get('X')
  const repr = x === undefined ? undefined : x.t === 'str' ? Buffer.from(x.v, 'utf16le').toString('hex') : pyReprValue(x)
  return {errors, repr, envRead: r.envRead}
}

const V = `V = {"a": [1, 2.5, None, True, False], "b": {"c": "\\u00e9\\u2603\\U0001F600\\n\\t\\"\\\\\\x01\\x1f\\x7f\\x80/<>&'", "d": [], "e": {}}, "f": (1, (2, 3)), "g": [1e16, 0.1, -0.0, 10**30, 1e-7, 123456789.0, 5e-324, 1.5e300], "z": "", "A": -7}`
const NAN = 'N = [float("nan"), float("inf"), -float("inf")]'

const SAME_AS_CPYTHON: Array<[string, string]> = [
  ['json.dumps: defaults', `import json\n${V}\nX = json.dumps(V)`],
  ['json.dumps: indent=2', `import json\n${V}\nX = json.dumps(V, indent=2)`],
  ['json.dumps: indent=0 and indent=-1 (newlines only)', `import json\n${V}\nX = [json.dumps(V, indent=0), json.dumps([1, [2]], indent=-1)]`],
  ['json.dumps: indent as a string, True', `import json\n${V}\nX = [json.dumps(V, indent="\\t"), json.dumps(V, indent=""), json.dumps([1], indent=True)]`],
  ['json.dumps: sort_keys', `import json\n${V}\nX = [json.dumps(V, sort_keys=True), json.dumps({3: 1, 1: 2, 2.5: 3, -1: 0}, sort_keys=True), json.dumps({"b": 1, "B": 2, "é": 3, "a": 4}, sort_keys=True)]`],
  ['json.dumps: separators', `import json\n${V}\nX = [json.dumps(V, separators=(",", ":")), json.dumps(V, indent=1, separators=[";", "="]), json.dumps([1, {"a": 2}], separators=(", ", ": "))]`],
  ['json.dumps: ensure_ascii=False', `import json\n${V}\nX = json.dumps(V, ensure_ascii=False)`],
  ['json.dumps: every option at once', `import json\n${V}\nX = json.dumps(V, indent=4, sort_keys=True, separators=(",", ": "), ensure_ascii=False)`],
  ['json.dumps: NaN and infinities', `import json\n${NAN}\nX = json.dumps(N)`],
  ['json.dumps: keys that are not strings', 'import json\nX = json.dumps({1: "a", 2.5: "b", None: "c", False: "d", "s": 1, 10**20: 0, 1e16: 2, float("nan"): 3})'],
  ['json.dumps: scalars and empty containers', 'import json\nX = [json.dumps("x"), json.dumps(None), json.dumps(True), json.dumps(3), json.dumps(2.0), json.dumps([], indent=2), json.dumps({}, indent=2), json.dumps(()), json.dumps([[]], indent=2)]'],
  ['json.dumps: skipkeys', 'import json\nX = json.dumps({(1, 2): 1, "a": 2}, skipkeys=True)'],
  ['json.dumps: allow_nan=False of finite values', 'import json\nX = json.dumps([1.5, 2], allow_nan=False)'],
  ['json.dumps: shared sub-values are written each time', 'import json\nL = [1]\nX = json.dumps([L, L, {"x": L}])'],
  ['json.dumps of 100,000 items, indented, within the budget', 'import json\nX = len(json.dumps(list(range(10**5)), indent=2)) + len(json.loads(json.dumps([{"a": "b"}] * 10**5)))'],
  ['from json import dumps, loads', 'from json import dumps as d, loads\nX = loads(d({"a": [1, 2]}))'],
  ['json.loads: order, numbers, escapes', `import json\nX = json.loads('{"b": 1, "a": [1.5, -2, 1e3, 1E-2, 0, -0, -0.0, true, false, null, "x\\\\u00e9\\\\ud83d\\\\ude00\\\\n\\\\/\\\\"\\\\\\\\"], "2": {}, "1": [], "": ""}')`],
  ['json.loads: duplicate keys (the last wins, at the first place)', `import json\nX = json.loads('{"a": 1, "b": 2, "a": 3}')`],
  ['json.loads: NaN, Infinity, big ints, whitespace', `import json\nX = json.loads(' \\n[NaN, Infinity, -Infinity, 12345678901234567890123, 1.0, 10E2]\\t ')`],
  ['json.loads: a lone surrogate', `import json\nX = json.loads('"\\\\ud800x"')`],
  ['json.loads(json.dumps(V))', `import json\n${V}\nX = json.dumps(json.loads(json.dumps(V, indent=2)), ensure_ascii=False)`],
  ['shlex.quote', 'import shlex\nX = [shlex.quote(""), shlex.quote("abc"), shlex.quote("a b"), shlex.quote("it\'s"), shlex.quote("\\u00e9"), shlex.quote("a@%+=:,./-_9"), shlex.quote("$HOME;rm"), shlex.quote("\\n")]'],
  ['shlex.join', 'import shlex\nX = shlex.join(["python", "-c", "print(\'hi\')", "", "a b", "x"])'],
  ['from shlex import quote, join', 'from shlex import quote, join as j\nX = [quote("a b"), j(("a", "b c")), j([])]'],
]

describe('json and shlex are CPython\'s', () => {
  for (const [name, src] of SAME_AS_CPYTHON) {
    it(name, () => {
      const want = cpython(src)
      expect(want.ok, want.stderr).toBe(true)
      const got = bento(src)
      expect(got.errors).toEqual([])
      expect(got.repr).toBe(want.repr)
    })
  }

  const FAILS: Array<[string, string, RegExp]> = [
    ['json.dumps of a circular list', 'import json\na = [1]\na.append(a)\nX = json.dumps(a)', /ValueError: Circular reference detected/],
    ['json.dumps: NaN with allow_nan=False', `import json\n${NAN}\nX = json.dumps(N, allow_nan=False)`, /ValueError: Out of range float values are not JSON compliant/],
    ['json.dumps: a tuple key', 'import json\nX = json.dumps({(1, 2): 1})', /TypeError: keys must be str, int, float, bool or None, not tuple/],
    ['json.dumps: sort_keys of mixed keys', 'import json\nX = json.dumps({1: 1, "a": 2}, sort_keys=True)', /TypeError: '<' not supported/],
    ['json.loads of text that is not JSON', 'import json\nX = json.loads(\'{"a": 1,}\')', /JSONDecodeError: Expecting property name enclosed in double quotes: line 1 column 9 \(char 8\)/],
    ['json.loads: extra data', 'import json\nX = json.loads(\'[1] 2\')', /JSONDecodeError: Extra data: line 1 column 5 \(char 4\)/],
    ['json.loads: empty', 'import json\nX = json.loads(\'\')', /JSONDecodeError: Expecting value: line 1 column 1 \(char 0\)/],
    ['shlex.quote of a number', 'import shlex\nX = shlex.quote(1)', /TypeError/],
  ]
  for (const [name, src, message] of FAILS) {
    it(`${name}: an error at the line, as CPython raises`, () => {
      const want = cpython(src)
      expect(want.ok).toBe(false)
      expect(want.stderr).toMatch(message)
      const got = bento(src)
      expect(got.errors).toHaveLength(1)
      expect(got.errors[0]).toMatch(new RegExp(`^service\\.py:${src.split('\n').length}: `))
      expect(got.errors[0]).toMatch(message)
    })
  }

  it('json.dumps is bounded by the budget: a 100 MB result is a size error in bounded time', () => {
    const t0 = Date.now()
    const got = bento('import json\nL = ["x" * 10**6] * 100\nX = json.dumps(L)\n')
    expect(Date.now() - t0).toBeLessThan(5000)
    expect(got.errors).toEqual([expect.stringMatching(/^service\.py:3: .*too large/)])
  })

  it('json.dumps of an exponential structure stops at the budget', () => {
    const t0 = Date.now()
    const got = bento('import json\nd = [1]\nfor i in range(40):\n    d = [d, d]\nX = json.dumps(d)\n')
    expect(Date.now() - t0).toBeLessThan(5000)
    expect(got.errors).toEqual([expect.stringMatching(/^service\.py:5: .*(steps|too large)/)])
  })

  it('json.loads nested 100000 levels deep is a typed error', () => {
    const got = bento(`import json\nX = json.loads("${'['.repeat(100000)}${']'.repeat(100000)}")\n`)
    expect(got.errors).toEqual([expect.stringMatching(/^service\.py:2: .*nests more than/)])
  })

  it('json.dumps(default=...) or cls= is not run: the value is unknown, not wrong', () => {
    const got = bento('import json\nX = json.dumps({}, default=str)\n')
    expect(got.errors).toEqual([])
    expect(got.repr).toBeUndefined()
  })
})

describe('the environment of the build, as CPython reads it', () => {
  const ENV_SRC = `import os
from os import getenv, environ
import os as o
X = [os.environ["A"], os.environ.get("A"), os.environ.get("NOPE"), os.environ.get("NOPE", 5), os.getenv("A"), os.getenv("NOPE"),
     getenv("NOPE", "d"), environ["A"], o.getenv("A", "x"), o.environ.get("A", 1), int(os.getenv("TIMEOUT", 300)),
     "A" in os.environ, "NOPE" not in os.environ, os.environ.get("EMPTY", "default")]`

  it('reads with and without defaults, every import form', () => {
    const environ = {A: 'va', EMPTY: ''}
    const want = cpython(ENV_SRC, environ)
    expect(want.ok, want.stderr).toBe(true)
    const got = bento(ENV_SRC, environ)
    expect(got.errors).toEqual([])
    expect(got.repr).toBe(want.repr)
    expect(got.envRead).toEqual([
      {name: 'A', value: 'va', site: {file: 'service.py', line: 4, col: expect.any(Number)}},
      {name: 'EMPTY', value: '', site: expect.objectContaining({line: 6})},
      {name: 'NOPE', value: null, site: expect.objectContaining({line: 4})},
      {name: 'TIMEOUT', value: null, site: expect.objectContaining({line: 5})},
    ])
  })

  it('int(os.getenv("TIMEOUT", 300)) takes the value of the build\'s environment', () => {
    const src = 'import os\nX = {"timeout": int(os.getenv("TIMEOUT", 300))}'
    for (const environ of [{}, {TIMEOUT: '600'}] as Array<Record<string, string>>) {
      const got = bento(src, environ)
      expect(got.errors).toEqual([])
      expect(got.repr).toBe(cpython(src, environ).repr)
    }
  })

  it('os.environ[k] of a variable that is not set: KeyError at the line naming it, as CPython', () => {
    const src = 'import os\nA = 1\nX = os.environ["BENTO_TEST_NOT_SET"]'
    const want = cpython(src)
    expect(want.ok).toBe(false)
    expect(want.stderr).toContain("KeyError: 'BENTO_TEST_NOT_SET'")
    const got = bento(src)
    expect(got.errors).toEqual([expect.stringMatching(/^service\.py:3: KeyError: 'BENTO_TEST_NOT_SET'.*BENTO_TEST_NOT_SET/)])
  })

  it('a variable the module sets is read back, and is not a read of the build\'s environment', () => {
    const src = 'import os\nos.environ["MINE"] = "1"\nos.environ.setdefault("OTHER", "2")\nos.environ.setdefault("A", "3")\nX = [os.getenv("MINE"), os.environ["OTHER"], os.environ.get("A")]'
    const environ = {A: 'a'}
    const got = bento(src, environ)
    expect(got.errors).toEqual([])
    expect(got.repr).toBe(cpython(src, environ).repr)
    expect(got.envRead.map((r) => r.name)).toEqual(['A', 'OTHER'])
  })

  it('after load_dotenv() or os.environ.update(...) the environment is unknown, not the build\'s', () => {
    for (const change of ['import dotenv\ndotenv.load_dotenv()', 'os.environ.update({"A": "b"})', 'os.putenv("A", "b")']) {
      const got = bento(`import os\n${change}\nX = os.getenv("A")`, {A: 'a'})
      expect(got.errors).toEqual([])
      expect(got.repr, change).toBeUndefined()
    }
  })

  it('without an environment given, reads stay unknown (nothing is guessed)', () => {
    const r = evaluateModule({files: new Map([['service.py', 'import os\nX = os.getenv("A", "1")']]), module: 'service', args: {}})
    expect(r.modules.get('service')?.env.get('X')?.t).toBe('opaque')
    expect(r.envRead).toEqual([])
  })
})
