export {loadBuildConfig, BUILD_FILES, type LoadOptions, type LoadedConfig} from './load.js'
export {parseBuildConfig, type ParseResult} from './parse.js'
export {bentofileJsonSchema, renderBentofileJsonSchema} from './schema.js'
export {BENTOFILE_SPEC} from './fields.js'
export {DEFAULT_CUDA_VERSION, DEFAULT_PYTHON_VERSION, SUPPORTED_PYTHON_VERSIONS} from '../bentoml/config-facts.js'
export type {
  BuildConfig,
  CondaDependency,
  CondaOptions,
  ConfigKind,
  Distro,
  DockerOptions,
  EnvEntry,
  EnvStage,
  ModelSpec,
  ParseOptions,
  PythonOptions,
} from './types.js'
