/**
 * The limits of the safe evaluator (./evaluate.ts): it runs code from a service module, so every operation is
 * counted and every value's size is checked before it is built. Exceeding one is a `BudgetExceeded`, which the
 * evaluator reports as an error at the line being evaluated (E_CONFIG) — in bounded time and memory, so a
 * service.py cannot hang the build (or keep it from seeing Ctrl-C) nor take the process down.
 */

export interface EvalLimits {
  /** Operations per module import: statements, expressions, comparisons, items copied, compared, hashed or printed. */
  steps: number
  /** Items of one list, tuple or dict (and of one materialized range). */
  items: number
  /** Characters of one string (UTF-16 code units). */
  chars: number
  /** Nesting of one value (a list in a list in …), as CPython's recursion limit. */
  depth: number
  /** Decimal digits of one integer (CPython's int/str conversion limit is 4300 digits; arithmetic goes further). */
  intDigits: number
  /** Characters of one module's source. */
  sourceChars: number
  /** Nesting of brackets in the source: CPython's parser refuses 200 ("too many nested parentheses"). */
  brackets: number
}

export const EVAL_LIMITS: EvalLimits = {
  steps: 5_000_000,
  items: 1_000_000,
  chars: 16 * 1024 * 1024,
  depth: 1000,
  intDigits: 100_000,
  sourceChars: 16 * 1024 * 1024,
  brackets: 200,
}

export class BudgetExceeded extends Error {
  constructor(
    readonly kind: 'steps' | 'size' | 'depth',
    message: string,
  ) {
    super(message)
  }
}

/** One evaluation's budget (a new one per `evaluateModule`, or per call of a printing helper used alone). */
export class Budget {
  private used = 0

  constructor(readonly limits: EvalLimits = EVAL_LIMITS) {}

  /** Count `n` operations. */
  charge(n = 1): void {
    this.used += n
    if (this.used > this.limits.steps) {
      throw new BudgetExceeded(
        'steps',
        `this expression takes more than ${this.limits.steps.toLocaleString('en-US')} steps to evaluate; bento evaluates build configuration only; write the value as a literal`,
      )
    }
  }

  /** Before building a sequence of `n` items: too large is an error; building it (or the `added` new ones) costs as many steps. */
  items(n: number | bigint, what: string, added: number | bigint = n): void {
    if (n > this.limits.items) {
      throw new BudgetExceeded('size', `${what} is too large: ${n.toLocaleString('en-US')} items (bento evaluates values up to ${this.limits.items.toLocaleString('en-US')} items); write the value as a literal`)
    }
    this.charge(Number(added))
  }

  /** Before building a string of `n` characters. */
  chars(n: number | bigint, what: string): void {
    if (n > this.limits.chars) {
      throw new BudgetExceeded('size', `${what} is too large: ${n.toLocaleString('en-US')} characters (bento evaluates strings up to ${this.limits.chars / 1024 / 1024} MiB); write the value as a literal`)
    }
    this.charge(Math.ceil(Number(n) / 64))
  }

  /** Entering the `depth`th level of a value. */
  depth(depth: number): void {
    if (depth > this.limits.depth) {
      throw new BudgetExceeded('depth', `this value nests more than ${this.limits.depth} levels deep (CPython: RecursionError); write the value as a literal`)
    }
  }
}
