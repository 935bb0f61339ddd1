// ESLint for src, test, bench, the console and the config files (`npm run lint`). TypeScript files are
// linted with type information (tsconfig.json for src, test/tsconfig.json for tests,
// console/tsconfig.json for the console's browser code); .js/.mjs/.cjs without.
import js from '@eslint/js';
import { defineConfig } from 'eslint/config';
import globals from 'globals';
import tseslint from 'typescript-eslint';

export default defineConfig(
  { ignores: ['dist/', 'node_modules/', 'coverage/', 'bench/results/'] },
  js.configs.recommended,
  tseslint.configs.recommended,
  {
    languageOptions: {
      globals: globals.node,
      parserOptions: {
        projectService: { allowDefaultProject: ['vitest.config.ts', 'console/vite.config.ts'] },
        tsconfigRootDir: import.meta.dirname,
      },
    },
    rules: {
      // Type-aware promise checks: the type information is loaded anyway, so these cost little.
      '@typescript-eslint/no-floating-promises': 'error',
      '@typescript-eslint/no-misused-promises': 'error',
      '@typescript-eslint/await-thenable': 'error',
      '@typescript-eslint/consistent-type-imports': ['error', { fixStyle: 'inline-type-imports' }],
      // A leading underscore marks a binding that is deliberately unused (a rest sibling, a callback slot).
      '@typescript-eslint/no-unused-vars': [
        'error',
        {
          argsIgnorePattern: '^_',
          varsIgnorePattern: '^_',
          caughtErrorsIgnorePattern: '^_',
          destructuredArrayIgnorePattern: '^_',
          ignoreRestSiblings: true,
        },
      ],
      // prom-client calls collect() with `this` bound to the metric, so the owner is reached as `self`.
      '@typescript-eslint/no-this-alias': ['error', { allowedNames: ['self'] }],
      // `catch {}` is how a best-effort step (a poll, a probe) says a failure is expected.
      'no-empty': ['error', { allowEmptyCatch: true }],
      // Errors are rethrown with a message written for the operator on purpose; a chained cause would
      // carry store or token detail into the logs.
      'preserve-caught-error': 'off',
    },
  },
  {
    files: ['test/**/*.ts'],
    rules: {
      // Tests read untyped JSON (HTTP bodies, MCP results, audit lines) and poke at internals.
      '@typescript-eslint/no-explicit-any': 'off',
      // Expected CLI output is aligned text, matched with the spaces as printed.
      'no-regex-spaces': 'off',
      // Float literals beyond 2^53 are written out on purpose to check how they are rounded.
      'no-loss-of-precision': 'off',
    },
  },
  {
    // The console runs in the browser (built by Vite), not in Node.
    files: ['console/src/**/*.{ts,tsx}'],
    languageOptions: { globals: globals.browser },
  },
  {
    files: ['**/*.js', '**/*.mjs', '**/*.cjs'],
    extends: [tseslint.configs.disableTypeChecked],
  },
  {
    files: ['**/*.cjs'],
    languageOptions: { sourceType: 'commonjs' },
    rules: { '@typescript-eslint/no-require-imports': 'off' },
  },
  {
    // Run by mongosh inside the MongoDB container, not by Node.
    files: ['examples/reference/mongo-init.js'],
    languageOptions: { sourceType: 'script', globals: { db: 'readonly', EJSON: 'readonly', require: 'readonly' } },
    rules: { '@typescript-eslint/no-require-imports': 'off' },
  },
);
