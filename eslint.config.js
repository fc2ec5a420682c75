import tseslint from 'typescript-eslint'

/**
 * The layers of docs/architecture.md ("may import"), enforced: what each folder of src/ may import from the rest of
 * src/ (besides itself). `LEAVES` are the shared top-level modules every folder may use. A sub-path (`docker/index.js`)
 * allows that file only. Checked with ESLint's own no-restricted-imports, one block per folder and directory depth
 * (a relative import names its target by `../` steps).
 */
export const LEAVES = ['errors.js', 'cleanup.js', 'reporter.js', 'byte-size.js', 'version.js', 'yaml-safety.js', 'tar-writer.js']
export const LAYERS = {
  // The composition root: it builds the Docker client (docker/index.js) and reads the home (store/home.js).
  commands: ['services', 'bentoml', 'docker/index.js', 'store/home.js', 'interrupt.js', ...LEAVES],
  services: ['bento', 'bentoml', 'config', 'docker', 'k8s', 'lock', 'python', 'registry', 'store', ...LEAVES],
  // Plan renders the stored Dockerfile and scripts with the pure parts of docker/.
  bento: ['bentoml', 'config', 'store', 'python', 'docker/dockerfile.js', 'docker/install-script.js', 'docker/labels.js', 'lock/label.js', ...LEAVES],
  config: ['bentoml', ...LEAVES],
  store: ['bentoml', ...LEAVES],
  python: ['bentoml', ...LEAVES],
  // registry/reference.js: the image-reference grammar (which component is the registry), pure.
  docker: ['bentoml', 'lock/label.js', 'registry/reference.js', ...LEAVES],
  // Kubernetes objects of a Bento (bento k8s): a pure renderer.
  k8s: ['bentoml', ...LEAVES],
  // bento's OCI distribution client (bento push): HTTP, auth, references; knows no engine.
  registry: [...LEAVES],
  // Locked dependencies: uv, the lock cache, credential masking.
  lock: ['bentoml', ...LEAVES],
  // The leaf that holds every fact about BentoML.
  bentoml: ['errors.js'],
}
/** Top-level modules (src/*.ts): leaves, importing only each other. */
const TOP = LEAVES

const DOCKERODE = {name: 'dockerode', message: 'dockerode is only imported under src/docker/.'}
const OCLIF = {name: '@oclif/core', message: '@oclif/core is only imported under src/commands/.'}
const escape = (s) => s.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')

/** An import of src/<x> from `depth` directories below src/ that is not in `allowed` (nor in `own`). */
function forbidden(depth, allowed, own) {
  const ok = [...allowed, ...(own ? [own] : [])].map((a) => (a.includes('/') || a.endsWith('.js') ? `${escape(a)}$` : `${escape(a)}(?:/|$)`))
  const up = depth === 0 ? '\\./' : `(?:\\.\\./){${depth}}`
  return `^${up}(?!${ok.join('|')})[^./]`
}

function layerRules() {
  const blocks = []
  for (const [folder, allowed] of Object.entries(LAYERS)) {
    for (const depth of [1, 2, 3]) {
      const files = [`src/${folder}/${'*/'.repeat(depth - 1)}*.ts`]
      const message = `src/${folder}/ may import only ${allowed.join(', ')} from src/ (docs/architecture.md, "may import").`
      blocks.push({
        files,
        ignores: ['src/**/*.test.ts'],
        rules: {
          // no-restricted-imports does not see `await import(...)`: the same rule for dynamic imports.
          'no-restricted-syntax': ['error', {selector: `ImportExpression[source.value=/${forbidden(depth, allowed, folder).replaceAll('/', '\\/')}/]`, message}],
          'no-restricted-imports': [
            'error',
            {
              paths: [...(folder === 'docker' ? [] : [DOCKERODE]), ...(folder === 'commands' ? [] : [OCLIF])],
              patterns: [
                {regex: forbidden(depth, allowed, folder), message},
              ],
            },
          ],
        },
      })
    }
  }
  const top = forbidden(0, TOP)
  const message = `top-level modules of src/ import only each other (${TOP.join(', ')}).`
  blocks.push({
    files: ['src/*.ts'],
    ignores: ['src/**/*.test.ts'],
    rules: {
      'no-restricted-syntax': ['error', {selector: `ImportExpression[source.value=/${top.replaceAll('/', '\\/')}/]`, message}],
      'no-restricted-imports': ['error', {paths: [DOCKERODE, OCLIF], patterns: [{regex: top, message}]}],
    },
  })
  return blocks
}

export default tseslint.config(
  {ignores: ['dist/**', 'node_modules/**', '.tools/**', 'coverage/**', 'bench/out/**', 'fixtures/**', 'test/fixtures/**']},
  ...tseslint.configs.recommended,
  {
    files: ['**/*.ts'],
    rules: {
      '@typescript-eslint/no-unused-vars': ['error', {argsIgnorePattern: '^_', varsIgnorePattern: '^_'}],
    },
  },
  {
    // Tests and helpers: the two packages stay in their folders there too.
    files: ['src/**/*.ts', 'test/**/*.ts'],
    ignores: ['src/docker/**', 'src/commands/**'],
    rules: {'no-restricted-imports': ['error', {paths: [DOCKERODE, OCLIF]}]},
  },
  ...layerRules(),
)
