#!/usr/bin/env node
// Entry point. libuv sizes its thread pool when Node first uses it, and Node's ES-module loader
// does so before any module of ours runs; this CommonJS file runs first. Every camera parks two
// pool threads in our GStreamer addon, native/gst-capture (bus + appsink) while onnxruntime, sharp and fs need their
// own: 8 cameras × 2 + inference + image encoding + fs fits in 24.
process.env['UV_THREADPOOL_SIZE'] ??= '24';
void import('./main.js');
