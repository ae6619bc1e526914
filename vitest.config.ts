import { defineConfig } from 'vitest/config';

// Test workers inherit this; see src/threadpool-size.ts for why the pool must be larger than 4.
process.env['UV_THREADPOOL_SIZE'] ??= '24';

export default defineConfig({
  test: {
    include: ['test/**/*.test.ts'],
    // Native addons (GStreamer, onnxruntime, sharp) are safest in separate processes.
    pool: 'forks',
    maxWorkers: 2,
    testTimeout: 60_000,
    hookTimeout: 60_000,
    reporters: ['default'],
  },
});
