/**
 * The interpreter against CPython, per construct: every snippet is run by the BentoML 1.4.40 venv's Python (all of
 * them in one process: a JSON list in, a JSON list out) and by the evaluator; `repr(X)` must agree, or both must
 * raise the same exception type. Then the budgets of the constructs that can run forever or build huge values.
 */
import {execFileSync} from 'node:child_process'

import {beforeAll, describe, expect, it} from 'vitest'

import {bentomlVenv} from '../../../test/helpers/env.js'
import {evaluateModule, pyReprValue} from './evaluate.js'


/** [name, source]: the source binds `X`. */
const SNIPPETS: Array<[string, string]> = [
  // functions
  ['def: positional, default, keyword', 'def f(a, b=2, *, c=3):\n    return [a, b, c]\nX = [f(1), f(1, 5), f(1, c=7), f(b=4, a=0)]'],
  ['def: *args and **kwargs', 'def f(*args, **kw):\n    return [args, sorted(kw.items())]\nX = [f(), f(1, 2, x=3, y=4), f(*[1, 2], **{"z": 1})]'],
  ['def: positional-only', 'def f(a, /, b):\n    return a - b\nX = [f(5, 2), f(5, b=1)]'],
  ['def: default evaluated once, at def time', 'n = 1\ndef f(x=n, acc=[]):\n    acc.append(x)\n    return list(acc)\nn = 2\nX = [f(), f(), f(3)]'],
  ['def: closures see later changes of the enclosing scope', 'def outer():\n    v = 1\n    def inner():\n        return v * 10\n    v = 2\n    return inner()\nX = outer()'],
  ['def: nonlocal and global', 'total = 0\ndef counter():\n    n = 0\n    def inc():\n        nonlocal n\n        n += 1\n        return n\n    inc(); inc()\n    return inc()\ndef bump():\n    global total\n    total += 5\nbump()\nX = [counter(), total]'],
  ['def: recursion', 'def fact(n):\n    return 1 if n <= 1 else n * fact(n - 1)\ndef fib(n):\n    if n < 2:\n        return n\n    return fib(n - 1) + fib(n - 2)\nX = [fact(20), fib(15)]'],
  ['def: return without value, falling off the end', 'def f():\n    return\ndef g():\n    pass\nX = [f(), g()]'],
  ['def: too many arguments is a TypeError', 'def f(a):\n    return a\nX = f(1, 2)'],
  ['def: a missing argument is a TypeError', 'def f(a, b):\n    return a\nX = f(1)'],
  ['def: an unexpected keyword is a TypeError', 'def f(a):\n    return a\nX = f(b=1)'],
  ['def: a TypeError caught by try', 'def f(a):\n    return a\ntry:\n    X = f()\nexcept TypeError:\n    X = "caught"'],
  // lambdas
  ['lambda: sorted key, defaults, closures', 'k = 2\nadd = lambda a, b=1: a + b\nX = [sorted(["bb", "a", "ccc"], key=lambda s: -len(s)), add(1), add(1, k), (lambda *a: a)(1, 2)]'],
  ['lambda: in a dict, called later', 'ops = {"inc": lambda x: x + 1, "neg": lambda x: -x}\nX = [ops["inc"](1), ops["neg"](5)]'],
  // comprehensions
  ['comprehension: list with filters and two fors', 'X = [(i, j) for i in range(3) if i for j in "ab" if j != "b"]'],
  ['comprehension: dict and set', 'X = [{k: v * 2 for k, v in {"a": 1, "b": 2}.items()}, sorted({c.upper() for c in "abca"})]'],
  ['comprehension: generator in sum, any, join', 'X = [sum(x * x for x in range(5)), any(c == "z" for c in "abc"), "-".join(str(i) for i in range(3))]'],
  ['comprehension: own scope (the loop variable does not leak)', 'i = "outer"\nY = [i for i in range(3)]\nX = i'],
  ['comprehension: nested', 'X = [[r * c for c in range(3)] for r in range(3)]'],
  // slicing and unpacking
  ['slices: lists, strings, negative steps', 'a = list(range(10))\ns = "abcdef"\nX = [a[2:5], a[:3], a[7:], a[::2], a[::-1], a[-3:], a[8:2:-2], s[1:-1], s[::-1], a[100:], a[-100:2], (1, 2, 3)[1:]]'],
  ['unpacking: for, starred, nested', 'pairs = [(1, ("a", "b")), (2, ("c", "d"))]\nout = []\nfor n, (x, y) in pairs:\n    out.append(n)\n    out.append(x + y)\nfirst, *rest = [1, 2, 3, 4]\n*init, last = "abc"\nX = [out, first, rest, init, last]'],
  ['unpacking: too many values is a ValueError', 'a, b = [1, 2, 3]\nX = a'],
  // while, try
  ['while: break, continue, else', 'n = 0\nout = []\nwhile n < 10:\n    n += 1\n    if n % 2:\n        continue\n    if n > 6:\n        break\n    out.append(n)\nelse:\n    out.append("else")\nm = 0\nwhile m < 2:\n    m += 1\nelse:\n    out.append("done")\nX = out'],
  ['try: except by type, else, finally, as', 'out = []\ntry:\n    {}["k"]\nexcept KeyError as e:\n    out.append(("key", str(e)))\nelse:\n    out.append("else")\nfinally:\n    out.append("fin")\ntry:\n    int("x")\nexcept (TypeError, ValueError):\n    out.append("value")\ntry:\n    pass\nexcept Exception:\n    out.append("no")\nelse:\n    out.append("else2")\nX = out'],
  ['raise: a user exception class, caught by its base', 'class AppError(ValueError):\n    pass\ndef check(v):\n    if v < 0:\n        raise AppError("negative: " + str(v))\n    return v\ntry:\n    check(-1)\nexcept ValueError as e:\n    X = ["caught", str(e), isinstance(e, AppError), e.args]'],
  ['raise: uncaught is the import failing', 'raise RuntimeError("boom")\nX = 1'],
  ['raise: re-raise in except', 'try:\n    try:\n        raise KeyError("a")\n    except KeyError:\n        raise\nexcept LookupError as e:\n    X = repr(str(e))'],
  // classes
  ['class: __init__, methods, attributes, class attributes', 'class C:\n    kind = "c"\n    def __init__(self, n, tag="t"):\n        self.n = n\n        self.tag = tag\n    def double(self):\n        return self.n * 2\n    def label(self, sep="-"):\n        return self.kind + sep + self.tag\nc = C(4)\nc.extra = 1\nX = [c.n, c.double(), c.label(), c.label(sep=":"), C.kind, c.extra, C(1, "x").label()]'],
  ['class: @property, cached_property, classmethod, staticmethod', 'import functools\nclass C:\n    base = 10\n    calls = []\n    def __init__(self, v):\n        self.v = v\n    @property\n    def twice(self):\n        return self.v * 2\n    @functools.cached_property\n    def once(self):\n        C.calls.append(1)\n        return self.v + self.base\n    @classmethod\n    def make(cls, v):\n        return cls(v + 1)\n    @staticmethod\n    def add(a, b):\n        return a + b\nc = C.make(1)\nX = [c.v, c.twice, c.once, c.once, len(C.calls), C.add(1, 2), c.add(3, 4)]'],
  ['class: inheritance and super()', 'class A:\n    def __init__(self, x):\n        self.x = x\n    def who(self):\n        return "A" + str(self.x)\nclass B(A):\n    def __init__(self, x, y):\n        super().__init__(x)\n        self.y = y\n    def who(self):\n        return "B" + super().who() + str(self.y)\nb = B(1, 2)\nX = [b.who(), isinstance(b, A), isinstance(b, B), isinstance(A(0), B), type(b).__name__]'],
  ['class: missing attribute is an AttributeError', 'class C:\n    pass\nX = C().nope'],
  ['class: __call__ and a plain class without __init__', 'class Adder:\n    n = 3\n    def __call__(self, v):\n        return v + self.n\nX = [Adder()(4)]'],
  ['dataclass: fields, defaults, default_factory, __post_init__', 'import dataclasses\nfrom dataclasses import dataclass, field\n@dataclass\nclass Cfg:\n    name: str\n    gpus: int = 1\n    tags: list = field(default_factory=lambda: ["a"])\n    def __post_init__(self):\n        self.key = self.name.upper() + str(self.gpus)\nc = Cfg("m", gpus=2)\nd = Cfg("n")\nd.tags.append("b")\nX = [c.name, c.gpus, c.tags, c.key, d.tags, Cfg("z").tags]'],
  ['pydantic: defaults, Field(default_factory), before validator, property, computed_field', 'import json\nimport typing\nimport pydantic\nclass Args(pydantic.BaseModel):\n    name: str = "x"\n    tp: int = 1\n    tags: list[str] = pydantic.Field(default_factory=lambda: ["a", "b"])\n    extra: dict[str, typing.Any] = pydantic.Field(default_factory=dict)\n    @pydantic.field_validator("tags", mode="before")\n    @classmethod\n    def _split(cls, v):\n        if isinstance(v, str):\n            try:\n                return json.loads(v)\n            except json.JSONDecodeError:\n                return [s.strip() for s in v.split(",") if s.strip()]\n        return v\n    @property\n    def label(self):\n        return f"{self.name}-{self.tp:02d}"\n    @pydantic.computed_field\n    @property\n    def size(self) -> int:\n        return len(self.tags) * self.tp\na = Args(tags="p, q,,r", tp="3")\nb = Args(tags=\'["j"]\')\nX = [a.tags, a.tp, a.label, a.size, b.tags, Args().tags, Args().extra]'],
  ['pydantic: @model_validator(mode="before") and (mode="after"), Model.model_validate(dict), model_fields, model_dump', 'import pydantic\nfrom pydantic import BaseModel, Field, model_validator\nclass Vad(BaseModel):\n    min_silence_ms: int = 2000\n    pad_ms: int = 400\nclass Args(BaseModel):\n    model_id: str = "Org/Model"\n    tp: int = 1\n    gpu: str = "l4"\n    vad: dict = Field(default_factory=dict)\n    @model_validator(mode="before")\n    @classmethod\n    def _fill(cls, data):\n        if isinstance(data, dict) and "model" in data:\n            data = {**data, "model_id": data.pop("model")}\n        return data\n    @model_validator(mode="after")\n    def _check(self):\n        self.model_id = self.model_id.lower()\n        if self.tp > 1:\n            self.gpu = self.gpu + "x" + str(self.tp)\n        return self\na = Args.model_validate({"model": "Meta/Llama", "tp": "2"})\nb = Args()\nv = Vad.model_validate({"pad_ms": 100})\nX = [a.model_id, a.tp, a.gpu, b.model_id, b.gpu, list(Args.model_fields), Args.model_fields["tp"].default, sorted(Vad.model_fields.keys()), v.model_dump(), Vad.model_validate(v) is v, Args.model_validate({"tp": 3}).model_dump()]'],
  ['pydantic: model_validate of a dict with a wrong field is a ValidationError', 'import pydantic\nclass M(pydantic.BaseModel):\n    a: int = 1\nX = M.model_validate({"a": "x"})'],
  ['pydantic: a mode="before" model validator raising is the import failing', 'import pydantic\nclass M(pydantic.BaseModel):\n    a: int = 1\n    @pydantic.model_validator(mode="before")\n    @classmethod\n    def _no(cls, data):\n        raise ValueError("no")\nX = M()'],
  ['pydantic: a missing field is a ValidationError', 'import pydantic\nclass M(pydantic.BaseModel):\n    a: int\nX = M()'],
  // isinstance and builtins
  ['isinstance on builtin types', 'X = [isinstance(1, int), isinstance(True, int), isinstance(1, (str, float)), isinstance("a", str), isinstance([], (list, dict)), isinstance(None, type(None)), isinstance({1}, set), isinstance(1.0, float)]'],
  ['builtins: len range enumerate zip sorted min max any all sum reversed', 'X = [len("héllo"), list(range(2, 11, 3)), list(range(5, 0, -2)), list(enumerate("xy", 1)), list(zip([1, 2], "ab")), sorted([3, 1, 2], reverse=True), sorted(["b", "A", "c"], key=str.lower), min([3, 1, 2]), max("abc"), min([], default=0), max([1, 5, 3], key=lambda v: -v), any([]), all([]), sum([1, 2, 3], 10), list(reversed([1, 2, 3])), sum([0.5, 0.25])]'],
  ['builtins: type constructors', 'X = [str(1.5), int("42"), int(3.9), float("1e3"), bool(""), bool([0]), list("ab"), dict(a=1, b=2), sorted(set([3, 1, 3])), tuple([1, 2]), dict([("k", 1)]), list({"a": 1})]'],
  ['builtins: map, filter, round, divmod, abs, ord, chr, hex', 'X = [list(map(str, [1, 2])), list(map(lambda a, b: a * b, [1, 2], [3, 4])), list(filter(None, [0, 1, "", "a"])), list(filter(lambda v: v > 1, [1, 2, 3])), round(2.5), round(3.5), round(2.675, 2), divmod(7, -2), abs(-3), ord("a"), chr(66), hex(255), bin(5)]'],
  ['min of mixed types is a TypeError', 'X = min([1, "a"])'],
  // str/list/dict/set/tuple methods
  ['str methods', 'X = ["a,b,,c".split(","), "a b  c".split(None, 1), "a.b.c".rsplit(".", 1), "  x ".strip(), "xxhixx".strip("x"), "k=v=w".partition("="), "k=v=w".rpartition("="), "abcabc".find("c"), "abcabc".rfind("c"), "abcabc".count("bc"), "hello world".title(), "7".zfill(3), "-7".zfill(4), "ab".center(7, "*"), "ab".ljust(4) + "|", "ab".rjust(4), "Hello".swapcase(), "abc".startswith(("x", "a")), "a\\nb\\r\\nc".splitlines(), "x".join(["1", "2"]), "ABC".lower(), "12".isdigit(), "a1".isalnum(), "Meta-Llama".lower().replace("-", "_")]'],
  ['str.format and f-string specs', 'v = 3.14159\nn = 1234567\nX = ["{:.2f}".format(v), "{0}-{1}-{0}".format("a", "b"), "{name!r}".format(name="x"), f"{v:.3}", f"{n:,}", f"{n:_d}", f"{42:08.2f}", f"{7:>4}|{7:<4}|{7:^5}|", f"{\'ab\':*^6}", f"{255:#x}", f"{0.25:%}", f"{1e-7:g}", f"{12345.678:e}", f"{-3:+d}", f"{v!r}", f"{\'s\'!r:>5}", f"{n:{10}}", "{:5}|".format("ab"), f"{1.0}", f"{2**70}", format(0.5, ".1%")]'],
  ['%-formatting', 'X = ["%s-%d" % ("a", 3), "%05.1f" % 2.25, "%(k)s=%(v)r" % {"k": "a", "v": "b"}, "%x %o %e" % (255, 8, 12345.678), "%-4s|%4s" % ("a", "b"), "100%%" % (), "%s" % [1, 2], "%i" % 3.7, "%+d" % 5]'],
  ['list methods', 'a = [3, 1, 2, 1]\na.remove(1)\np = a.pop()\nq = a.pop(0)\na.extend([5, 4])\na.sort()\nb = [1, 2]\nb.reverse()\nb.insert(0, 9)\nX = [a, p, q, a.index(4), a.count(5), b, [1, 2] * 2, [1, 2] + [3]]'],
  ['dict methods', 'd = {"a": 1, "b": 2}\nx = d.pop("a")\ny = d.pop("zz", 0)\nd.setdefault("c", 3)\nd.update({"e": 5}, f=6)\nd.update([("g", 7)])\nk = d.popitem()\nX = [x, y, d, k, list(d.keys()), list(d.values()), d.get("q", "dflt"), {**d, "b": 0}, d | {"z": 1}]'],
  ['set methods and operators', 's = {1, 2, 3}\ns.add(4)\ns.discard(1)\nt = {3, 4, 5}\nX = [sorted(s), sorted(s | t), sorted(s & t), sorted(s - t), sorted(s ^ t), 2 in s, sorted(s.union([9])), s.issubset({2, 3, 4, 5}), len(s), sorted(frozenset("aba"))]'],
  ['tuple methods, membership, comparisons', 'X = [(1, 2, 1).count(1), (1, 2, 3).index(3), "b" in ("a", "b"), [1, 2] < [1, 3], (1, "a") == (1, "a"), "ab" < "b", 1 < 2 < 3, None is None, [] is not None]'],
  ['json inside functions and properties', 'import json\ndef labels(cfg):\n    return {"cfg": json.dumps(cfg, sort_keys=True), "n": str(len(cfg))}\nX = labels({"b": 1.0, "a": [1, 2]})'],
  ['yaml.safe_load of a string (PyYAML: YAML 1.1 booleans, exact ints, floats, anchors, merge keys, int keys)', 'import yaml\nTEXT = """\nproject: chattts\nservice_config:\n  name: chattts\n  traffic:\n    timeout: 300\n  resources:\n    gpu: 1\nflags: [yes, No, on, off, true, ~]\nnums: [0x1f, 1_000, 1.0, 2.5e3, 2.5e+3, 1e3, .5, -.inf, -7, 123456789012345678901234]\nbase: &b {cpu: "2", memory: 4Gi}\nmerged:\n  <<: *b\n  cpu: "4"\n1: one\n"""\nc = yaml.safe_load(TEXT)\nX = [c, yaml.load("a: [1, 2]", Loader=yaml.SafeLoader), yaml.safe_load(""), yaml.full_load("- x")]'],
  ['yaml.safe_load of two documents is a ComposerError', 'import yaml\nX = yaml.safe_load("a: 1\\n---\\nb: 2\\n")'],
  ['a KeyError of a dict is catchable', 'd = {}\ntry:\n    v = d["missing"]\nexcept KeyError:\n    v = "default"\nX = v'],
  ['walrus and conditional expressions in a function', 'def f(xs):\n    if (n := len(xs)) > 2:\n        return n\n    return -n if xs else 0\nX = [f([1, 2, 3]), f([1]), f([])]'],
]

const RUNNER = `
import json, sys
out = []
for src in json.load(sys.stdin):
    g = {"__name__": "service"}
    try:
        exec(compile(src, "service.py", "exec"), g)
        out.append({"repr": repr(g["X"])})
    except BaseException as e:
        out.append({"error": type(e).__name__})
print(json.dumps(out))
`

function bento(src: string): {repr?: string; error?: string; messages: string[]} {
  const r = evaluateModule({files: new Map([['service.py', src]]), module: 'service', args: {}})
  const errors = r.diagnostics.filter((d) => d.severity === 'error')
  if (errors.length > 0) {
    const type = /^([A-Za-z]\w*(?:Error|Exception)):/.exec(errors[0]?.message ?? '')?.[1]
    return {error: type ?? 'error', messages: errors.map((d) => `${d.line}: ${d.message}`)}
  }
  const x = r.modules.get('service')?.env.get('X')
  return {repr: x === undefined ? undefined : pyReprValue(x), messages: x?.t === 'opaque' ? [x.u.why] : []}
}

describe('the interpreter computes what CPython computes', () => {
  let want: Array<{repr?: string; error?: string}> = []
  beforeAll(() => {
    const out = execFileSync(bentomlVenv('1.4.40').python, ['-c', RUNNER], {input: JSON.stringify(SNIPPETS.map(([, s]) => s)), encoding: 'utf8'})
    want = JSON.parse(out) as typeof want
  })
  SNIPPETS.forEach(([name, src], i) => {
    it(name, () => {
      const got = bento(src)
      const w = want[i] ?? {}
      if (w.error !== undefined) {
        // pydantic's ValidationError is a ValueError subclass; bento names it the same.
        expect({error: got.error, messages: got.messages.length > 0}).toEqual({error: w.error, messages: true})
      } else expect({repr: got.repr, messages: got.messages}).toEqual({repr: w.repr, messages: []})
    })
  })
})

/** Evaluate `src`, expecting one error at `line` matching `message`, within `ms`. */
function expectBounded(src: string, line: number, message: RegExp, ms = 10_000): void {
  const t0 = Date.now()
  const rss0 = process.memoryUsage().rss
  const r = evaluateModule({files: new Map([['service.py', src]]), module: 'service', args: {}})
  const elapsed = Date.now() - t0
  const grew = process.memoryUsage().rss - rss0
  const errors = r.diagnostics.filter((d) => d.severity === 'error')
  expect(elapsed).toBeLessThan(ms)
  // Loose: the budgets keep what one evaluation builds far below this.
  expect(grew).toBeLessThan(512 * 1024 * 1024)
  expect(errors.map((d) => `${d.file}:${d.line}: ${d.message}`)).toEqual([expect.stringMatching(new RegExp(`^service\\.py:${line}: .*${message.source}`))])
}

describe('interpreter budgets: typed errors at the line, in bounded time and memory', () => {
  it('a recursive function without end: RecursionError at the call', () => {
    expectBounded('A = 1\ndef f(n):\n    return f(n + 1)\nX = f(0)\n', 3, /RecursionError|nests too deeply/)
  })
  it('while True: pass stops at the step budget', () => {
    expectBounded('A = 1\nwhile True:\n    pass\n', 3, /steps/)
  })
  it('while True with a growing list stops at the step or size budget', () => {
    expectBounded('x = []\nwhile True:\n    x.append(1)\n', 3, /steps|too large/)
  })
  it('a comprehension producing 10**9 items', () => {
    expectBounded('A = 1\nX = [i for i in range(10**9)]\n', 2, /too large/)
  })
  it('a comprehension over a small range multiplied: steps or size', () => {
    expectBounded('A = 1\nX = [j for i in range(10**5) for j in range(10**5)]\n', 2, /steps|too large/)
  })
  it('"a" * 10**10 inside a function', () => {
    expectBounded('def f():\n    return "a" * 10**10\nX = f()\n', 2, /too large/)
  })
  it('mutual recursion through methods', () => {
    expectBounded('class C:\n    def a(self):\n        return self.b()\n    def b(self):\n        return self.a()\nX = C().a()\n', 5, /RecursionError|nests too deeply/)
  })
})
