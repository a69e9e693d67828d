import { defineConfig } from 'vitest/config';

export default defineConfig({
  test: {
    include: ['test/**/*.test.ts', 'src/**/*.test.ts', 'infra/**/*.test.ts', 'lambda/**/*.test.ts', 'studio/**/*.test.ts', 'functions/**/*.test.ts'],
    exclude: ['node_modules/**', 'build/**', '.local/**'],
    globalSetup: ['test/global-setup.ts'],
    pool: 'forks',
    testTimeout: 60_000,
    hookTimeout: 60_000,
    env: {
      AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED: 'true',
      LOG_LEVEL: 'warn',
    },
  },
});
