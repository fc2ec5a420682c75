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
    files: ['src/docker/**/*.ts'],
    rules: {
      'no-restricted-imports': ['error', {paths: [{name: '@oclif/core', message: '@oclif/core is only imported under src/commands/.'}]}],
    },
  },
)
