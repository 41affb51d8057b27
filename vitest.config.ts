import { createRequire } from 'node:module';
import vue from '@vitejs/plugin-vue';
import { defineConfig } from 'vitest/config';

const require = createRequire(import.meta.url);

export default defineConfig({
  // Lets tests/web render the app's .vue components.
  plugins: [vue()],
  // NOTE: graphql ships both .mjs and .js; pin every import to the CommonJS build that the
  // externalised libraries (Pothos, yoga) load, or instanceof checks fail across the two copies.
  resolve: { alias: [{ find: /^graphql$/, replacement: require.resolve('graphql') }] },
  test: {
    include: ['tests/**/*.test.ts'],
    testTimeout: 30_000,
    hookTimeout: 60_000,
    pool: 'forks',
    reporters: ['default', './tests/helpers/closing-line-reporter.ts'],
  },
});
