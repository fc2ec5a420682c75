/**
 * The Python front end's parse step: every consumer (service discovery in ../service/, the evaluator in ../eval/,
 * the schema pass) asks here for a module's statements, so a build tokenizes and scans each module once.
 */
import {scanModule, type ScanResult} from './scanner.js'

export {scanModule, walkExpr, stmtExprs, dottedName, type Expr, type Arg, type Param, type Comprehension, type Stmt, type ScanResult, type ScanProblem} from './scanner.js'
export {tokenize, type Token, type TokenKind, type FStringPart} from './tokenizer.js'

/** Parsed modules kept for the next reader of the same source (bounded: a build reads a few project modules). */
const CACHE_CHARS = 32 * 1024 * 1024
const CACHE_ENTRIES = 256
const cache = new Map<string, ScanResult>()
let cachedChars = 0

/**
 * The module's statements, parsed once per distinct source text. The result is shared: callers must not mutate it
 * (none does: the evaluator and the readers build their own values).
 */
export function parseModule(src: string): ScanResult {
  const hit = cache.get(src)
  if (hit) {
    cache.delete(src)
    cache.set(src, hit)
    return hit
  }
  const res = scanModule(src)
  if (src.length <= CACHE_CHARS) {
    cache.set(src, res)
    cachedChars += src.length
    for (const [k] of cache) {
      if (cachedChars <= CACHE_CHARS && cache.size <= CACHE_ENTRIES) break
      cache.delete(k)
      cachedChars -= k.length
    }
  }
  return res
}
