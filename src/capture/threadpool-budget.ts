/**
 * Our GStreamer addon (native/gst-capture) keeps two libuv pool threads busy per running pipeline
 * (bus watch + appsink pull; each waits at most 500 ms at a time, so a stopped pipeline frees them). The pool is shared with fs, dns and zlib and defaults to 4 threads, so a third camera
 * would starve everything else and a fifth would never see a frame.
 */
const THREADS_PER_SOURCE = 2;
/** Pool threads kept free for fs, dns, zlib and lmdb. */
const THREADS_RESERVED = 2;

let runningSources = 0;

export function poolSize(env: NodeJS.ProcessEnv = process.env): number {
  const configured = Number(env.UV_THREADPOOL_SIZE);
  return Number.isInteger(configured) && configured > 0 ? Math.min(configured, 1024) : 4;
}

/** Registers a running source; returns the pool size needed when the current one is too small. */
export function claimPoolThreads(): number | undefined {
  runningSources++;
  const needed = runningSources * THREADS_PER_SOURCE + THREADS_RESERVED;
  return needed > poolSize() ? needed : undefined;
}

export function releasePoolThreads(): void {
  runningSources = Math.max(0, runningSources - 1);
}
