/**
 * The modules `bentoml build` can import, as source files keyed by their path from an import root.
 *
 * BentoML 1.4.40 imports the service with the build context at sys.path[0] (loader.import_service), so every
 * project file is importable at its project path (`src/pkg/service.py` is module `src.pkg.service`: `src` a
 * namespace package). A src layout (python.is_src_layout, on by default for a pyproject.toml beside a src/
 * directory) puts the files of src/ at the root of the Bento's src/, where the service is imported when served;
 * there (and at build time when the project is installed) `src/pkg/service.py` is module `pkg.service`. Both
 * names are offered; a file at the build context root wins over a src/ file of the same module.
 */
export interface ModuleSpace {
  /** Import path (`pkg/service.py`) → source text. */
  sources: Map<string, string>
  /** The project file (`src/pkg/service.py`) behind an import path. */
  projectFile(key: string): string
  /** Whether the key is the path of a file of the build context (not only its flattened src/ name). */
  isProjectFile(key: string): boolean
}

export function moduleSpace(files: ReadonlyMap<string, string>, srcLayout: boolean): ModuleSpace {
  const sources = new Map<string, string>()
  const fileOf = new Map<string, string>()
  if (srcLayout) {
    for (const [rel, text] of files) {
      if (rel.startsWith('src/') && !files.has(rel.slice(4))) {
        sources.set(rel.slice(4), text)
        fileOf.set(rel.slice(4), rel)
      }
    }
  }
  for (const [rel, text] of files) {
    sources.set(rel, text)
    fileOf.set(rel, rel)
  }
  return {
    sources,
    projectFile: (key) => fileOf.get(key) ?? key,
    isProjectFile: (key) => fileOf.get(key) === key,
  }
}
