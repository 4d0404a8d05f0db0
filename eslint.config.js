// @ts-check
import js from '@eslint/js';
import tseslint from 'typescript-eslint';

export default tseslint.config(
  {
    ignores: [
      '**/dist/**',
      '**/node_modules/**',
      '.cache/**',
      'data/**',
      'test-results/**',
      'bench/results/**',
      '**/*.js',
      '**/*.mjs',
      '**/*.cjs',
    ],
  },
  js.configs.recommended,
  ...tseslint.configs.recommendedTypeChecked,
  {
    languageOptions: {
      parserOptions: {
        project: [
          './tsconfig.tests.json',
          './packages/*/tsconfig.json',
          './services/*/tsconfig.json',
          './services/*/ui/tsconfig.json',
        ],
        tsconfigRootDir: import.meta.dirname,
      },
    },
    rules: {
      '@typescript-eslint/no-floating-promises': 'error',
      '@typescript-eslint/consistent-type-imports': 'error',
      '@typescript-eslint/switch-exhaustiveness-check': 'error',
      '@typescript-eslint/no-unused-vars': ['error', { argsIgnorePattern: '^_', varsIgnorePattern: '^_' }],
    },
  },
  {
    // Packages never import services (the CLI is the wiring binary and is exempt).
    files: ['packages/*/src/**/*.ts'],
    ignores: ['packages/cli/**'],
    rules: {
      'no-console': 'error',
      'no-restricted-imports': [
        'error',
        {
          patterns: [
            {
              group: ['@phi-audit/collector', '@phi-audit/ledger-writer', '**/services/**'],
              message: 'packages must not import services',
            },
          ],
        },
      ],
    },
  },
  {
    // schema and ledger are pure: no I/O.
    files: ['packages/schema/src/**/*.ts', 'packages/ledger/src/**/*.ts'],
    rules: {
      'no-restricted-imports': [
        'error',
        {
          paths: ['node:fs', 'node:net', 'node:http', 'kafkajs', '@clickhouse/client', 'fastify'].map((name) => ({
            name,
            message: 'schema and ledger do no I/O',
          })),
        },
      ],
    },
  },
  {
    // Tests print diagnostics, stub async callbacks and feed deliberately bad numbers and bytes.
    files: ['**/*.test.ts', '**/src/testing/**', 'test/**/*.ts', 'bench/**'],
    rules: {
      'no-console': 'off',
      'no-loss-of-precision': 'off',
      'no-control-regex': 'off',
      '@typescript-eslint/require-await': 'off',
      '@typescript-eslint/no-non-null-assertion': 'off',
      '@typescript-eslint/no-unsafe-assignment': 'off',
      '@typescript-eslint/no-unsafe-member-access': 'off',
    },
  },
);
