import { defineConfig } from 'vitest/config';

export default defineConfig({
  test: {
    include: ['test/**/*.test.ts'],
    // Native TensorFlow is safest in separate processes (one TF runtime per process).
    pool: 'forks',
    maxWorkers: 2,
    testTimeout: 120_000,
    hookTimeout: 120_000,
    env: { COOPCUT_QUIET_BACKEND: '1', TF_CPP_MIN_LOG_LEVEL: '2' },
  },
});
