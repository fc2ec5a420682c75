/**
 * Names BentoML derives from Python objects, transcribed from the BentoML 1.4.15 source (unchanged in 1.4.40).
 */
import {isValidTagPart} from './tag.js'

/**
 * BentoML's `to_snake_case` (`_internal/tag.py`): `re.sub(r"([A-Z]+)(?=[a-z0-9])", _join, name).lstrip("_")`
 * where a run of one capital becomes `_x` and a longer run `ABC` becomes `_ab_c`.
 * `IrisClassifier` → `iris_classifier`, `LLMService` → `llm_service`, `SD3Medium` → `sd3_medium`.
 * Note that it does not lowercase capitals that are not followed by a lowercase letter or a digit
 * (`VLLM` stays `VLLM`); BentoML's `Tag` lowercases the result afterwards with a warning.
 */
export function toSnakeCase(name: string): string {
  const replaced = name.replace(/([A-Z]+)(?=[a-z0-9])/g, (word: string) =>
    word.length > 1 ? `_${word.slice(0, -1)}_${word.slice(-1)}`.toLowerCase() : `_${word.toLowerCase()}`,
  )
  return replaced.replace(/^_+/, '')
}

/**
 * Framework modules exported by `bentoml` 1.4.15 (`bentoml/__init__.py`), with the class name of the
 * Runnable that `Model.to_runner()` produces (`runnable_class.__name__`, written as `runnable_type`
 * in bento.yaml). The PyTorch family builds its runnable with `partial_class`, whose class is literally
 * named `NewClass`.
 */
export const FRAMEWORK_RUNNABLES: Readonly<Record<string, string>> = {
  catboost: 'CatBoostRunnable',
  detectron: 'Detectron2Runnable',
  diffusers: 'DiffusersRunnable',
  easyocr: 'EasyOCRRunnable',
  fastai: 'FastAIRunnable',
  flax: 'FlaxRunnable',
  keras: 'KerasRunnable',
  lightgbm: 'LightGBMRunnable',
  mlflow: 'MLflowPyfuncRunnable',
  onnx: 'ONNXRunnable',
  picklable_model: 'PicklableRunnable',
  pytorch: 'NewClass',
  pytorch_lightning: 'NewClass',
  sklearn: 'SklearnRunnable',
  tensorflow: 'TensorflowRunnable',
  torchscript: 'NewClass',
  transformers: 'TransformersRunnable',
  xgboost: 'XGBoostRunnable',
}

/**
 * The runnable class name for a model saved by `module` (the `module` field of model.yaml, e.g.
 * `bentoml.keras`), or `undefined` for modules without a known runnable.
 */
export function runnableTypeForModule(module: string): string | undefined {
  const fw = module.startsWith('bentoml.') ? module.slice('bentoml.'.length) : module
  return FRAMEWORK_RUNNABLES[fw]
}

/** Legacy IO descriptors in `bentoml.io`, mapped to the runtime class name (`File()` returns a `BytesIOFile`). */
export const IO_DESCRIPTORS: Readonly<Record<string, string>> = {
  File: 'BytesIOFile',
  Image: 'Image',
  JSON: 'JSON',
  Multipart: 'Multipart',
  NumpyNdarray: 'NumpyNdarray',
  PandasDataFrame: 'PandasDataFrame',
  PandasSeries: 'PandasSeries',
  Text: 'Text',
  SSE: 'SSE',
}

/** API names reserved for infrastructure endpoints (`_internal/service/inference_api.py`). */
export const RESERVED_API_NAMES: readonly string[] = ['index', 'swagger', 'docs', 'metrics', 'healthz', 'livez', 'readyz']

/** BentoML tag name rule (`_internal/tag.py`). */
export const isValidTagName = isValidTagPart
