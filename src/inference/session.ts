import * as ort from 'onnxruntime-node';

export interface SessionOptions {
  intraOpThreads: number;
}

/** One onnxruntime session per model, created from verified bytes so what ran is what was hashed. */
export async function createSession(bytes: Buffer, opts: SessionOptions): Promise<ort.InferenceSession> {
  return ort.InferenceSession.create(bytes, {
    executionProviders: ['cpu'],
    graphOptimizationLevel: 'all',
    intraOpNumThreads: opts.intraOpThreads,
    interOpNumThreads: 1,
    executionMode: 'sequential',
    enableCpuMemArena: true,
  });
}

export { ort };
