// Imported first by main.ts: libuv sizes its thread pool on first use, and every camera parks two
// pool threads in gstreamer-superficial (bus + appsink) while onnxruntime and sharp need their own.
// 8 cameras × 2 + inference + image encoding + fs/lmdb fits in 24.
process.env['UV_THREADPOOL_SIZE'] ??= '24';
export {};
