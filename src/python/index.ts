export {tokenize, type Token, type TokenKind, type FStringPart} from './parse/tokenizer.js'
export {scanModule, walkExpr, dottedName, type Expr, type Arg, type Stmt, type ScanResult} from './parse/scanner.js'
export {
  readService,
  type ServiceInfo,
  type ReadServiceOptions,
  type RunnerInfo,
  type ApiInfo,
  type ModelRef,
  type SdkServiceInfo,
  type IODescriptorInfo,
} from './service/service.js'
export {toSnakeCase, runnableTypeForModule, FRAMEWORK_RUNNABLES, IO_DESCRIPTORS, isValidTagName} from '../bentoml/names.js'
export {openApiFor, ioDescriptorOpenApi, type OpenApiOptions} from './service/openapi.js'
export {parseRequirements, packageNamed, normalizePackageName, type Requirement} from './requirements.js'
