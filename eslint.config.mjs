import js from '@eslint/js';
import tseslint from 'typescript-eslint';

// src/local is the offline stand-in for AWS and Twilio; only scripts/ and tests wire it in.
const noLocal = {
  group: ['**/local', '**/local/**'],
  message: 'Production code never imports src/local (the offline stand-ins); scripts/ and tests wire it in.',
};
const nodeIo = [
  'fs',
  'fs/*',
  'http',
  'https',
  'net',
  'dgram',
  'child_process',
  'node:fs',
  'node:fs/*',
  'node:http',
  'node:https',
  'node:http2',
  'node:net',
  'node:dgram',
  'node:child_process',
];

export default tseslint.config(
  { ignores: ['node_modules/', 'build/', '.local/', 'cdk.out/', 'test-output/', 'coverage/'] },
  js.configs.recommended,
  ...tseslint.configs.recommended,
  {
    // Type-aware rules for TypeScript only: the project service finds assets/tsconfig.json for
    // assets/ and tsconfig.json (which includes *.mts) for the rest; the .mjs config stays untyped.
    files: ['**/*.ts', '**/*.mts'],
    languageOptions: {
      parserOptions: { projectService: true, tsconfigRootDir: import.meta.dirname },
    },
    rules: {
      '@typescript-eslint/no-floating-promises': 'error',
      '@typescript-eslint/no-misused-promises': 'error',
      '@typescript-eslint/switch-exhaustiveness-check': 'error',
      '@typescript-eslint/no-unnecessary-condition': 'error',
    },
  },
  {
    rules: {
      '@typescript-eslint/no-unused-vars': [
        'error',
        { argsIgnorePattern: '^_', varsIgnorePattern: '^_', destructuredArrayIgnorePattern: '^_' },
      ],
      '@typescript-eslint/consistent-type-imports': ['error', { fixStyle: 'inline-type-imports' }],
      'no-console': 'off',
      eqeqeq: ['error', 'always'],
    },
  },
  {
    // Production code. A later block that sets no-restricted-imports for a file replaces these
    // options, so each layer block below repeats noLocal.
    files: ['src/**/*.ts', 'functions/**/*.ts', 'lambda/**/*.ts', 'infra/**/*.ts'],
    ignores: ['src/local/**'],
    rules: {
      'no-restricted-imports': ['error', { patterns: [noLocal] }],
    },
  },
  {
    // Use cases see storage only through its ports; the domain does not see storage at all.
    files: ['src/use-cases/**/*.ts'],
    rules: {
      'no-restricted-imports': [
        'error',
        {
          patterns: [
            {
              group: ['**/storage/*', '!**/storage/appointment-store'],
              message: 'Use cases depend on the storage ports (src/storage/appointment-store.ts), not on the key layout or an adapter.',
            },
            { group: ['@aws-sdk/*'], message: 'Use cases reach AWS only through a port.' },
            noLocal,
          ],
        },
      ],
    },
  },
  {
    files: ['src/domain/**/*.ts'],
    rules: {
      'no-restricted-imports': [
        'error',
        {
          patterns: [
            {
              group: ['**/storage/*', '**/use-cases/*', '**/messaging/*', '**/ehr/*'],
              message: 'Domain code is pure: no storage, adapters or use cases.',
            },
            { group: ['@aws-sdk/*', '@smithy/*', 'twilio', 'twilio/*'], message: 'Domain code is pure: no network clients.' },
            { group: nodeIo, message: 'Domain code is pure: no file, network or process I/O.' },
            noLocal,
          ],
        },
      ],
    },
  },
  {
    // FHIR mapping is domain code too: it reads what it is given and fetches nothing.
    files: ['src/fhir/**/*.ts'],
    rules: {
      'no-restricted-imports': [
        'error',
        {
          patterns: [
            {
              group: ['**/storage/*', '**/use-cases/*', '**/messaging/*', '**/ehr/*', '**/http/*', '**/config/*'],
              message: 'FHIR mapping is pure: no storage, adapters, config or use cases.',
            },
            {
              group: ['@aws-sdk/*', 'twilio', 'twilio/*', 'node:http', 'node:https'],
              message: 'FHIR mapping is pure: no network clients.',
            },
            noLocal,
          ],
        },
      ],
    },
  },
  {
    files: ['assets/**/*.ts'],
    languageOptions: { globals: { window: 'readonly', document: 'readonly', fetch: 'readonly' } },
  },
);
