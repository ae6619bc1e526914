// glibc's allocator as seen from inside the process (issue 23): how much of malloc's memory is in
// use and how much is free but kept. Frames and GStreamer's buffer pools, onnxruntime's arenas and
// libvips' buffers are all malloc'd, mostly on threads other than the JS one: a large share of the
// daemon's RSS is malloc's, and nothing else in Node shows what of it is in use. For the bench.
#include <nan.h>
#include <malloc.h>

#include "MallocStats.h"

// mallinfo2 came with glibc 2.33 (Debian 12 has 2.36, Yocto kirkstone 2.35).
#if defined(__GLIBC__) && __GLIBC_PREREQ(2, 33)
#define HAVE_GLIBC_MALLOC 1
#endif

/**
 * mallocStats(): { arenaBytes, mmapBytes, inUseBytes, freeBytes } summed over every
 * arena (mallinfo2), or null without glibc. arenaBytes: obtained with brk or arena heaps; mmapBytes:
 * blocks mapped on their own; inUseBytes: allocated from the arenas; freeBytes: free in them
 * (resident or not).
 */
NAN_METHOD(MallocStats) {
#ifdef HAVE_GLIBC_MALLOC
	struct mallinfo2 mi = mallinfo2();
	v8::Local<v8::Object> o = Nan::New<v8::Object>();
	Nan::Set(o, Nan::New("arenaBytes").ToLocalChecked(), Nan::New<v8::Number>((double)mi.arena));
	Nan::Set(o, Nan::New("mmapBytes").ToLocalChecked(), Nan::New<v8::Number>((double)mi.hblkhd));
	Nan::Set(o, Nan::New("inUseBytes").ToLocalChecked(), Nan::New<v8::Number>((double)mi.uordblks));
	Nan::Set(o, Nan::New("freeBytes").ToLocalChecked(), Nan::New<v8::Number>((double)mi.fordblks));
	info.GetReturnValue().Set(o);
#else
	info.GetReturnValue().Set(Nan::Null());
#endif
}
