import tseslint from 'typescript-eslint'

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
    files: ['src/**/*.ts'],
    ignores: ['src/docker/**'],
    rules: {
      'no-restricted-imports': ['error', {paths: [{name: 'dockerode', message: 'dockerode is only imported under src/docker/.'}]}],
    },
  },
  {
    files: ['src/**/*.ts'],
    ignores: ['src/commands/**', 'src/docker/**'],
    rules: {
      'no-restricted-imports': [
        'error',
        {
          paths: [
            {name: 'dockerode', message: 'dockerode is only imported under src/docker/.'},
            {name: '@oclif/core', message: '@oclif/core is only imported under src/commands/.'},
          ],
        },
      ],
    },
  },
  {
    // The leaf that holds every fact about BentoML: it imports nothing from the project but the error types.
    files: ['src/bentoml/**/*.ts'],
    rules: {
      'no-restricted-imports': [
        'error',
        {
          patterns: [{group: ['../*', '!../errors.js'], message: 'src/bentoml/ is a leaf: import only ../errors.js from the project.'}],
          paths: [
            {name: 'dockerode', message: 'dockerode is only imported under src/docker/.'},
            {name: '@oclif/core', message: '@oclif/core is only imported under src/commands/.'},
          ],
        },
      ],
    },
  },
  {
    files: ['src/docker/**/*.ts'],
    rules: {
      'no-restricted-imports': ['error', {paths: [{name: '@oclif/core', message: '@oclif/core is only imported under src/commands/.'}]}],
    },
  },
)
