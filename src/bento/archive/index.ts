/**
 * Bento archives: `bento export` / `bento import`, interoperable with `bentoml export` / `bentoml import` (format doc
 * §7). `export.ts` writes (deterministic), `import.ts` reads (strict), `paths.ts` decides which names and links are
 * safe, `limits.ts` bounds what an import may write, `formats.ts` names the formats; the tar headers come from the one
 * tar writer (src/tar-writer.ts), shared with the Docker build context.
 */
export {type ArchiveFormat, type DetectedFormat, detectArchiveFormat} from './formats.js'
export {exportBento, type ExportOptions, type ExportResult, type ModelDirRef, sweepExportTemps} from './export.js'
export {importBento, type ImportOptions, type ImportResult} from './import.js'
export {DEFAULT_IMPORT_LIMITS, type ImportLimits} from './limits.js'
