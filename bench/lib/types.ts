/** What every benchmark returns: table rows (one per figure vs its target), curves, raw samples, notes. */

export interface BenchContext {
  quick: boolean
  tools: import('./env.js').Tools
  log: (msg: string) => void
}

export type Status = 'ok' | 'behind' | 'info'

export interface Row {
  id: string
  metric: string
  /** Human-readable figures (already formatted). */
  bento: string
  other: string
  ratio: number | null
  /** Formatted ratio or value compared against the target. */
  value: string
  target: string
  status: Status
}

export interface Curve {
  title: string
  columns: string[]
  rows: string[][]
  /** One line that says how the cost grows. */
  summary: string
}

export interface BenchResult {
  id: string
  title: string
  rows: Row[]
  curves: Curve[]
  notes: string[]
  raw: unknown
}

export type Bench = (ctx: BenchContext) => Promise<BenchResult>
