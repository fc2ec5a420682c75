/**
 * Which BentoML releases `bento` writes for, and what each of them reads and writes.
 * Every version-dependent fact lives here; callers ask `bentomlFacts(target)` instead of comparing versions.
 * Sources: the 1.4.15 and 1.4.40 wheels (`../shared/bentoml-format.md`, `../shared/bentoml-1.4.40.md`); for 1.3.x
 * the wheels of every 1.3.x release from PyPI (`pip download --no-deps bentoml==1.3.N`, read 2026-12), cited below as
 * `<release> <file>:<line>`, and what the real `bentoml build` 1.3.22 wrote (test/e2e/bentoml-13-interop.test.ts).
 *
 * BentoML 1.3.x, against 1.4.0 (what `bento` changes for a 1.3.x target; everything else is the same code):
 * - `@bentoml.service` Bentos are spec 1 (`BentoInfo`: docker/python/conda, `runners: []`, `apis: []`) up to 1.3.20;
 *   1.3.10–1.3.20 write spec 2 only with BENTOML_ENABLE_FEATURES=bento_image and otherwise ignore the service's
 *   `image=` with a warning (1.3.20 bentoml/_internal/bento/bento.py:256,285); 1.3.21 makes spec 2 the default
 *   (1.3.21 bento.py:268 `disable_image = "no_image" in enabled_features or is_legacy`).
 * - `bentoml.images` (`Image`, `PythonImage`) exists from 1.3.10 (1.3.10 _bentoml_sdk/images.py); before, `image=`
 *   is not a `@bentoml.service` argument.
 * - `spec:` is written from 1.3.10 (`BentoInfo.spec`, 1.3.10 bento.py:809); 1.3.0–1.3.9 write no `spec` key
 *   (1.3.5 bento.py:597, `BentoInfo` has none), and declare `runners` right after `models` (1.3.9 `class BentoInfo`;
 *   1.3.10 moved the spec-1 fields to a subclass, after `schema`).
 * - `services[].dependencies` are service names (`List[str]`, 1.3.5 bento.py:572) up to 1.3.5; `BentoDependencyInfo`
 *   mappings from 1.3.6 (1.3.6 bento.py:613,634), which also adds `registry`/`metadata` on models and
 *   `HuggingFaceModel` (1.3.6 _bentoml_sdk/models/).
 * - No `args` (`bentoml.use_arguments`), no `paths` in `schema`, no `labels=` on `@bentoml.service` (1.4.0
 *   _bentoml_sdk/service/factory.py:78 adds `labels`; 1.3.22 factory.py:437,449 puts unknown keywords into the config),
 *   no `Image.pyproject_toml` (1.4.0 images.py:61), no positional-only root input (1.4.0 io_models.py:367).
 * - Spec 2 (1.3.21, 1.3.22): `image:` is base_image, python_version, commands, python_requirements, post_commands,
 *   scripts (1.3.22 bento.py:836-842; no build_include); `env/python/` holds requirements.txt only (the
 *   requirements.in is a temporary file, 1.3.22 _bentoml_sdk/images.py:123); `commands` has no
 *   `export UV_COMPILE_BYTECODE=1` (1.4.0 images.py:131 adds it).
 * - The Dockerfile templates: base_v2.j2 does not copy `env/docker` before the image commands and sets no
 *   UV_COMPILE_BYTECODE (1.3.22 templates/base_v2.j2:57-63 against 1.4.0 base_v2.j2:58,65); base.j2 likewise
 *   (1.4.0 base.j2:67). bento renders its own Dockerfile (templates/), so these change nothing it writes.
 *   The entrypoint runs `bentoml start-*-server` rather than `python -m bentoml_cli._internal.start` (1.3.22
 *   container/frontend/dockerfile/entrypoint.sh:21-36,50); bento's own entrypoint runs `bentoml start-*-server` too.
 * - Unchanged: the env/python layout of spec 1 (version.txt, requirements.txt, install.sh), the default Python (the
 *   build interpreter's, `DEFAULT_PYTHON_VERSION`, 1.3.22 images.py:27), `bentoml serve <bento>` and its arguments,
 *   the schema of services (`svc.schema()`), runner-style `bentoml.Service(runners=...)` (served by every 1.3.x),
 *   `import bentoml` needing pkg_resources (`fs`).
 */
import {comparePep440, isPep440Version} from './pep440.js'

/**
 * The releases a Bento can target: BentoML 1.3.0–1.3.22 and 1.4.0–1.4.40 as published on PyPI (1.3.4 only as
 * 1.3.4.post1; 1.4.9 and 1.4.31 are not: 1.4.31 was yanked). Oldest first.
 */
export const KNOWN_BENTOML_VERSIONS: readonly string[] = [
  ...[...range(0, 3), 4, ...range(5, 22)].map((patch) => (patch === 4 ? '1.3.4.post1' : `1.3.${patch}`)),
  ...[...range(0, 8), ...range(10, 30), ...range(32, 40)].map((patch) => `1.4.${patch}`),
]

function range(from: number, to: number): number[] {
  return Array.from({length: to - from + 1}, (_, i) => from + i)
}

/** The newest release the tool knows: the default target of `@bentoml.service` projects. */
export const NEWEST_BENTOML = '1.4.40'
export const OLDEST_BENTOML = '1.3.0'
export const NEWEST_BENTOML_13 = '1.3.22'
/**
 * The oldest release the models a Bento packs choose as its target: a model saved by 1.3.x leaves the default
 * (a 1.3.x target writes another layout; only a pin or --bentoml-version asks for it).
 */
export const OLDEST_MODEL_TARGET = '1.4.0'
/**
 * The last release that imports runner-style services (`bentoml.Service(..., runners=[...])`) unchanged:
 * from 1.4.16 on, `bentoml.Service` is the new SDK class and `runners=` raises TypeError.
 * `bentoml.legacy.Service` keeps working in every known release.
 */
export const LAST_RUNNER_STYLE_BENTOML = '1.4.15'
/** The first release with `bentoml.legacy` (`bentoml.legacy.Service`). */
export const FIRST_LEGACY_MODULE_BENTOML = '1.4.16'

export function isKnownBentomlVersion(v: string): boolean {
  return isPep440Version(v) && KNOWN_BENTOML_VERSIONS.some((k) => comparePep440(k, v) === 0)
}

/** `1.3.0–1.3.22, 1.4.0–1.4.40 (…)` for messages. */
export function describeKnownVersions(): string {
  return `${OLDEST_BENTOML}–${NEWEST_BENTOML_13} or ${OLDEST_MODEL_TARGET}–${NEWEST_BENTOML} (1.3.4 as 1.3.4.post1; not 1.4.9 or 1.4.31, which are not on PyPI)`
}

/** What a BentoML release reads and writes, as far as a build is concerned. */
export interface BentomlFacts {
  version: string
  /** Imports `bentoml.Service(..., runners=[...])` (≤ 1.4.15). */
  servesRunnerStyle: boolean
  /** Has `bentoml.legacy` (`bentoml.legacy.Service`, the runner-style API under its new name): 1.4.16+. */
  hasLegacyModule: boolean
  /** `python.is_src_layout` exists (1.4.38+): python options are read strictly, so older readers reject it; 1.4.38+ always writes it. */
  pythonIsSrcLayout: boolean
  /** `envs[].stage` exists (1.4.31+) and is written on every entry. */
  envStage: boolean
  /** `image.build_include` is written (1.4.31, and 1.4.36+; 1.4.32–1.4.35 reverted it). Readers ignore unknown image keys. */
  imageBuildInclude: boolean
  /**
   * Spec 2: `python.packages` is ignored when `python.requirements_txt` is set (1.4.19+); before, the image
   * installs both. (Spec 1 has always ignored `packages` then.)
   */
  imageIgnoresPackagesWithRequirementsTxt: boolean
  /** Spec 2: `system_packages` are shell-quoted into the install command (1.4.37+). */
  systemPackagesShellQuoted: boolean
  /** The debian install command carries `-o Dpkg::Options::=--force-confdef` (1.4.29+). */
  aptInstallForceConfdef: boolean
  /**
   * `import bentoml` needs `pkg_resources` (< 1.4.20 imports PyFilesystem's `fs`), which setuptools 81+ no longer
   * ships: a fresh venv then needs `setuptools<81`.
   */
  needsSetuptoolsBelow81: boolean
  /** `@bentoml.service` Bentos are spec 2 (`image:`) by default (1.3.21+); before, spec 1 from the bentofile. */
  sdkSpec2: boolean
  /** `bentoml.images` / `@bentoml.service(image=...)` exist (1.3.10+). */
  sdkImage: boolean
  /** bento.yaml has a `spec:` key (1.3.10+; before, spec 1 is implied and `runners` follows `models`). */
  specKey: boolean
  /** `services[].dependencies` are `BentoDependencyInfo` mappings (1.3.6+); before, service names. */
  dependencyInfo: boolean
  /** `HuggingFaceModel` and `registry`/`metadata` on model entries (1.3.6+). */
  huggingfaceModels: boolean
  /** bento.yaml `args` (`bentoml.use_arguments`, `--arg`): every 1.4.x as bento writes it; no 1.3.x. */
  bentoArgs: boolean
  /** `schema.paths` (mounted-app paths): every 1.4.x as bento writes it; no 1.3.x. */
  schemaPaths: boolean
  /** `@bentoml.service(labels=...)` merged into the Bento's labels (1.4.0+). */
  serviceLabels: boolean
  /** Spec-2 `image.scripts` (1.3.21–1.3.22 as bento writes them; the 1.4.0 wheel has it too, 1.4.15 not). */
  imageScripts: boolean
  /** Spec 2 keeps `env/python/requirements.in` (1.4.x as bento writes it; 1.3.x does not). */
  requirementsIn: boolean
  /** A positional-only API parameter is the whole request body (`root_input`, 1.4.0 io_models.py:367). */
  rootInput: boolean
  /**
   * Spec 2 takes the service's `image=` as it is and reads the build config's python/docker options only when there
   * is none (1.3.22 bento.py:284-287 `if image is None ...: get_image_from_build_config`): 1.3.21–1.3.22. The 1.4.0
   * wheel does the same (bento.py:288); 1.4.15 merges them (`populate_image_from_build_config`, bento.py:291), as bento
   * does for every 1.4.x — the 1.4 release in between is not recorded.
   */
  takesServiceImageAsIs: boolean
}

export function bentomlFacts(version: string): BentomlFacts {
  const atLeast = (v: string): boolean => comparePep440(version, v) >= 0
  return {
    version,
    servesRunnerStyle: !atLeast('1.4.16'),
    hasLegacyModule: atLeast('1.4.16'),
    pythonIsSrcLayout: atLeast('1.4.38'),
    envStage: atLeast('1.4.31'),
    imageBuildInclude: comparePep440(version, '1.4.31') === 0 || atLeast('1.4.36'),
    imageIgnoresPackagesWithRequirementsTxt: atLeast('1.4.19'),
    systemPackagesShellQuoted: atLeast('1.4.37'),
    aptInstallForceConfdef: atLeast('1.4.29'),
    needsSetuptoolsBelow81: !atLeast('1.4.20'),
    sdkSpec2: atLeast('1.3.21'),
    sdkImage: atLeast('1.3.10'),
    specKey: atLeast('1.3.10'),
    dependencyInfo: atLeast('1.3.6'),
    huggingfaceModels: atLeast('1.3.6'),
    bentoArgs: atLeast('1.4.0'),
    schemaPaths: atLeast('1.4.0'),
    serviceLabels: atLeast('1.4.0'),
    imageScripts: atLeast('1.3.21') && !atLeast('1.4.0'),
    requirementsIn: atLeast('1.4.0'),
    rootInput: atLeast('1.4.0'),
    takesServiceImageAsIs: atLeast('1.3.21') && !atLeast('1.4.0'),
  }
}
