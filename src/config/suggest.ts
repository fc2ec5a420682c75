/** Optimal-string-alignment (restricted Damerau–Levenshtein) distance: transpositions count as one edit. */
export function editDistance(a: string, b: string): number {
  const rows = a.length + 1
  const cols = b.length + 1
  const d: number[][] = Array.from({length: rows}, (_, i) => Array.from({length: cols}, (_, j) => (i === 0 ? j : j === 0 ? i : 0)))
  const at = (i: number, j: number): number => d[i]?.[j] ?? Number.POSITIVE_INFINITY
  for (let i = 1; i < rows; i++) {
    for (let j = 1; j < cols; j++) {
      const cost = a[i - 1] === b[j - 1] ? 0 : 1
      let best = Math.min(at(i - 1, j) + 1, at(i, j - 1) + 1, at(i - 1, j - 1) + cost)
      if (i > 1 && j > 1 && a[i - 1] === b[j - 2] && a[i - 2] === b[j - 1]) best = Math.min(best, at(i - 2, j - 2) + 1)
      const row = d[i]
      if (row) row[j] = best
    }
  }
  return at(a.length, b.length)
}

/** The closest candidate, if it is close enough to be what the user meant. */
export function closest(word: string, candidates: readonly string[], options: {keys?: boolean} = {}): string | undefined {
  // For key names, `-`, `.` and spaces are likely typos of `_` (`requirements.txt` → `requirements_txt`).
  const w = options.keys ? word.toLowerCase().replace(/[-. ]/g, '_') : word.toLowerCase()
  let best: string | undefined
  let bestDistance = Number.POSITIVE_INFINITY
  for (const candidate of candidates) {
    const distance = editDistance(w, candidate)
    if (distance < bestDistance) {
      best = candidate
      bestDistance = distance
    }
  }
  if (best === undefined) return undefined
  const limit = Math.max(1, Math.floor(Math.max(w.length, best.length) / 3))
  if (bestDistance <= limit) return best
  // A prefix such as `requirements` for `requirements_txt`.
  const prefix = candidates.find((c) => w.length >= 4 && (c.startsWith(w) || w.startsWith(c)))
  return prefix
}
