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

/**
 * The layering (README, "How the code is layered"). Each pattern below names something a layer may
 * not import; a layer's block lists the ones that apply to it. ESLint keeps only the last
 * no-restricted-imports options that match a file, so an exception block restates its layer's
 * list without the one pattern it lifts. Tests are left out: they wire adapters and stand-ins in.
 */
const forbid = {
  local: noLocal,
  entry: {
    group: ['**/functions/*/*', '**/lambda/*'],
    message: 'functions/ and lambda/ are entry points: nothing imports them.',
  },
  runtime: { group: ['**/runtime/*'], message: 'Only entry points import the composition root (src/runtime).' },
  admin: { group: ['**/admin/*'], message: 'The admin page is an outer layer: only its Functions import it.' },
  adminPorts: {
    group: ['**/admin/*', '!**/admin/staff-records'],
    message: 'Only the admin records port (src/admin/staff-records.ts): the admin page is an outer layer.',
  },
  http: { group: ['**/http/*'], message: 'Request handling (src/http) is an outer layer: inner code does not import it.' },
  useCases: { group: ['**/use-cases/*'], message: 'Use cases are imported by the layers that call them, not by what they call.' },
  config: { group: ['**/config/*'], message: 'Settings reach this layer as values, not through src/config.' },
  mllp: { group: ['**/mllp/*'], message: 'The MLLP bridge is a tool of its own (scripts/mllp-bridge.ts).' },
  fhir: { group: ['**/fhir/*'], message: 'FHIR mapping sits above the domain, not inside it.' },
  domain: { group: ['**/domain/*', '**/domain/**'], message: 'Entry points reach the domain through runtime and http.' },
  storagePorts: {
    group: ['**/storage/*', '!**/storage/appointment-store'],
    message: 'Only the storage ports (src/storage/appointment-store.ts): key layout and S3 adapters are wired in by src/runtime.',
  },
  storage: { group: ['**/storage/*'], message: 'This layer does not store anything.' },
  messagingPorts: {
    group: ['**/messaging/*', '!**/messaging/flow-starter', '!**/messaging/flow-parameters'],
    message: 'Only the messaging ports (flow-starter.ts, flow-parameters.ts): the Twilio adapter is wired in by src/runtime.',
  },
  messaging: { group: ['**/messaging/*'], message: 'This layer does not start Studio flows.' },
  ehrPorts: {
    group: ['**/ehr/*', '!**/ehr/notifier'],
    message: 'Only the EHR notifier port (src/ehr/notifier.ts): HTTP clients are wired in by src/runtime.',
  },
  ehr: { group: ['**/ehr/*'], message: 'This layer does not talk to the EHR.' },
  twilio: { group: ['**/twilio/*', 'twilio', 'twilio/**'], message: 'The Twilio SDK and client are adapters, wired in by src/runtime.' },
  aws: { group: ['@aws-sdk/*', '@smithy/*'], message: 'AWS is reached only through adapters wired in by src/runtime.' },
  // Anchored, so that a folder such as src/http is not taken for the http module.
  nodeIo: { group: nodeIo.map((m) => `/${m}`), message: 'No file, network or process I/O in this layer.' },
};

function layer(files, keys, ignores = []) {
  return {
    files,
    ignores: ['**/*.test.ts', ...ignores],
    rules: { 'no-restricted-imports': ['error', { patterns: keys.map((k) => forbid[k]) }] },
  };
}

const without = (keys, ...lifted) => keys.filter((k) => !lifted.includes(k));

const layers = {
  // Pure: values in, values out.
  domain: [
    'local',
    'entry',
    'runtime',
    'admin',
    'http',
    'useCases',
    'config',
    'mllp',
    'fhir',
    'storage',
    'messaging',
    'ehr',
    'twilio',
    'aws',
    'nodeIo',
  ],
  fhir: [
    'local',
    'entry',
    'runtime',
    'admin',
    'http',
    'useCases',
    'config',
    'mllp',
    'storage',
    'messaging',
    'ehr',
    'twilio',
    'aws',
    'nodeIo',
  ],
  // Reads an environment it is handed; rules only.
  config: [
    'local',
    'entry',
    'runtime',
    'admin',
    'http',
    'useCases',
    'mllp',
    'fhir',
    'storage',
    'messaging',
    'ehr',
    'twilio',
    'aws',
    'nodeIo',
  ],
  // Application logic against ports.
  useCases: [
    'local',
    'entry',
    'runtime',
    'admin',
    'http',
    'config',
    'mllp',
    'storagePorts',
    'messagingPorts',
    'ehrPorts',
    'twilio',
    'aws',
    'nodeIo',
  ],
  // The admin page's use cases and request mapping: like use cases, and may call use cases and http helpers.
  admin: ['local', 'entry', 'runtime', 'mllp', 'storagePorts', 'messagingPorts', 'ehrPorts', 'twilio', 'aws', 'nodeIo'],
  // Maps requests to use cases and results to replies.
  http: ['local', 'entry', 'runtime', 'admin', 'mllp', 'storagePorts', 'messagingPorts', 'ehrPorts', 'aws', 'twilio', 'nodeIo'],
  // Adapters: implement ports, call nothing above them.
  storage: ['local', 'entry', 'runtime', 'adminPorts', 'http', 'useCases', 'config', 'mllp', 'messaging', 'ehr', 'twilio'],
  messaging: ['local', 'entry', 'runtime', 'admin', 'http', 'useCases', 'config', 'mllp', 'storage', 'ehr', 'aws'],
  ehr: ['local', 'entry', 'runtime', 'admin', 'http', 'useCases', 'config', 'mllp', 'storagePorts', 'messaging', 'twilio', 'aws'],
  twilio: ['local', 'entry', 'runtime', 'admin', 'http', 'useCases', 'config', 'mllp', 'storage', 'messaging', 'ehr', 'aws'],
  mllp: ['local', 'entry', 'runtime', 'admin', 'http', 'useCases', 'config', 'storage', 'messaging', 'ehr', 'twilio', 'aws'],
  // The composition root: may wire any adapter, but is wired by the entry points only.
  runtime: ['local', 'entry', 'admin', 'mllp'],
  // Thin entry points: runtime, http (and the admin page's handlers) only.
  functions: ['local', 'entry', 'useCases', 'mllp', 'domain', 'fhir', 'storage', 'messaging', 'ehr', 'twilio', 'aws', 'nodeIo'],
  lambda: [
    'local',
    'entry',
    'admin',
    'useCases',
    'config',
    'mllp',
    'domain',
    'fhir',
    'storage',
    'messaging',
    'ehr',
    'twilio',
    'aws',
    'nodeIo',
  ],
  infra: ['local', 'entry', 'runtime', 'admin', 'http', 'useCases', 'mllp', 'domain', 'fhir', 'storage', 'messaging', 'ehr', 'twilio'],
};

const boundaries = [
  ...['domain', 'fhir', 'config', 'admin', 'http', 'storage', 'messaging', 'ehr', 'twilio', 'mllp', 'runtime'].map((name) =>
    layer([`src/${name}/**/*.ts`], layers[name]),
  ),
  layer(['src/use-cases/**/*.ts'], layers.useCases),
  // src/log.ts and any other file at the top of src/ is a leaf every layer may use.
  layer(['src/*.ts'], layers.twilio),
  // The offline stand-ins may use anything in src/, but no entry point's source.
  layer(['src/local/**/*.ts'], ['entry']),
  layer(['functions/**/*.ts'], layers.functions),
  layer(['lambda/**/*.ts'], layers.lambda),
  layer(['infra/**/*.ts'], layers.infra),

  // Exceptions: each names its files and lifts one pattern for them.
  // The admin page's own composition root: it builds the S3 stores and the Twilio client for its Functions.
  layer(['src/admin/runtime.ts'], without(layers.admin, 'runtime', 'storagePorts', 'twilio')),
  // The admin Functions run on the Functions runtime's callback and intake wiring.
  layer(['src/admin/handler.ts', 'src/admin/simulate.ts', 'src/admin/simulate-message.ts'], without(layers.admin, 'runtime')),
  // Admin records (login attempts, the status check) live in S3AdminStore with their own keys; moving
  // them behind a port is part of the storage redesign.
  layer(['src/admin/rate-limit.ts', 'src/admin/status.ts'], without(layers.admin, 'storagePorts', 'twilio')),
  // The list search shares its word normalisation with the listing index that stores it.
  layer(['src/admin/appointment-list.ts'], without(layers.admin, 'storagePorts')),
  // The conversation, the timeline and the login codes read Twilio through the SDK's types (type imports only).
  layer(['src/admin/timeline.ts', 'src/admin/conversation.ts', 'src/admin/verify-codes.ts'], without(layers.admin, 'twilio')),
  // Error mapping and the FHIR intake name the EHR clients' error classes and the FhirReader port.
  layer(['src/http/errors.ts', 'src/http/fhir-intake.ts'], without(layers.http, 'ehrPorts')),
  // Twilio's request signature check is the SDK's validateRequest, a pure function.
  layer(['src/http/twilio-signature.ts'], without(layers.http, 'twilio')),
  // These Functions still wire a use case themselves instead of through src/runtime.
  layer(
    [
      'functions/admin/appointments.ts',
      'functions/admin/figures.ts',
      'functions/admin/reindex.ts',
      'functions/twilio/status.protected.ts',
      'functions/studio/event.protected.ts',
      'functions/studio/reply.protected.ts',
    ],
    without(layers.functions, 'useCases'),
  ),
];

export default tseslint.config(
  { ignores: ['node_modules/', 'build/', '.local/', 'cdk.out/', 'test-output/', 'coverage/'] },
  js.configs.recommended,
  ...tseslint.configs.recommendedTypeChecked,
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
      // Off (40 findings): `async` is used on purpose where a throw must become a rejection (the
      // Twilio stand-in) and where an interface wants a Promise; the promise rules above catch
      // the mistakes this rule aims at.
      '@typescript-eslint/require-await': 'off',
    },
  },
  {
    // Tests read JSON replies, mocks and SDK internals as `any` (886 findings of the no-unsafe-*
    // rules, all in tests), spy on methods (unbound-method, 4) and reject with non-Errors on
    // purpose to test the error mapping (prefer-promise-reject-errors, 2). Typing every reply
    // would add nothing the assertions do not already check.
    files: ['**/*.test.ts', 'test/**/*.ts'],
    rules: {
      '@typescript-eslint/no-unsafe-member-access': 'off',
      '@typescript-eslint/no-unsafe-assignment': 'off',
      '@typescript-eslint/no-unsafe-call': 'off',
      '@typescript-eslint/no-unsafe-return': 'off',
      '@typescript-eslint/no-unsafe-argument': 'off',
      '@typescript-eslint/unbound-method': 'off',
      '@typescript-eslint/prefer-promise-reject-errors': 'off',
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
  ...boundaries,
  {
    // The .mjs/.js files have no tsconfig behind them, so the type-aware rules cannot run there.
    files: ['**/*.mjs', '**/*.js', '**/*.cjs'],
    ...tseslint.configs.disableTypeChecked,
  },
  {
    files: ['assets/**/*.ts'],
    languageOptions: { globals: { window: 'readonly', document: 'readonly', fetch: 'readonly' } },
  },
);
