/**
 * How the interpreter unwinds: `break`/`continue` (Signal), `return` (Return), a Python exception (PyRaise, which
 * `try` may catch) and a failure of the import that nothing catches (ImportFailure).
 */
import type {Diagnostic} from '../../errors.js'
import type {PyValue, Site} from './values.js'

/** `break` or `continue` inside a loop. */
export class Signal {
  constructor(readonly kind: 'break' | 'continue') {}
}

/** `return` inside a function call: unwinds to the call. */
export class Return {
  constructor(readonly value: PyValue) {}
}

/**
 * A Python exception raised while importing (a local module that does not exist, `raise ValueError(...)`, a
 * `KeyError` of a dict, …): a `try` whose handler names its type (or a base of it) catches it; else the import
 * fails there. `diagnostic`: how to report it when nothing catches it.
 */
export class PyRaise extends Error {
  constructor(
    readonly type: string,
    override readonly message: string,
    readonly site: Site,
    readonly value: PyValue,
    readonly diagnostic?: Diagnostic,
  ) {
    super(message)
  }
}

/** A statement BentoML would fail on while importing: reported, and the import (the whole evaluation) stops there. */
export class ImportFailure extends Error {
  constructor(readonly diagnostic: Diagnostic) {
    super(diagnostic.message)
  }
}
