import { defineConfig } from 'vitest/config';
import base from './vite.config.ts';

export default defineConfig({
  plugins: base.plugins,
  test: {
    root: '.',
    include: ['tests/unit/**/*.test.ts', 'tests/gpu/**/*.test.ts', 'tests/e2e/**/*.test.ts'],
    // GPU tests run on SwiftShader (a CPU driver): slow, and two cores only.
    testTimeout: 600_000,
    hookTimeout: 600_000,
    fileParallelism: true,
    maxWorkers: 2,
    pool: 'forks',
  },
});
