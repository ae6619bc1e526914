#ifndef __RgbDownscale_h__
#define __RgbDownscale_h__

#include <cstdint>

/**
 * Packed RGB (rows `srcStride` bytes apart) scaled down to dstW x dstH packed RGB (rows dstW * 3
 * bytes apart) with a triangle filter as wide as the scale factor, edges extended: what libvips'
 * reduce computes with the linear kernel, i.e. sharp's resize(w, h, { kernel: 'linear' }) that the
 * detector used on every frame, to within a grey level. Downscaling only (dstW <= srcW, dstH <= srcH).
 * Pure: no allocation beyond its scratch rows, safe on any thread.
 */
void downscaleRgbLinear(const uint8_t *src, int srcW, int srcH, int srcStride, uint8_t *dst, int dstW, int dstH);

#include <nan.h>
#include <vector>

/** A smaller copy of a frame; `data` is malloc'd and owned by whoever holds the copy. */
struct ScaledCopy {
	int width = 0;
	int height = 0;
	uint8_t *data = NULL;
};

/**
 * Smaller copies of a packed RGB picture, one per long side asked for (largest first, at most 4),
 * each made from the last picture so far (the picture, then the copies) and sized as the detector
 * sizes its pictures: round(side * sideAsked / longSide), at least 8. A side no smaller than that
 * picture's long side, or a shrink of 4 or more (where libvips, hence sharp, first shrinks by a whole
 * factor with a box filter, which this filter does not), is skipped.
 */
std::vector<ScaledCopy> scaledCopiesOf(const uint8_t *src, int width, int height, int stride, const std::vector<int> &longSides);
void freeScaledCopies(std::vector<ScaledCopy> &copies);
/** The copies as [{ width, height, data }], their memory handed to the Node Buffers (the vector's copies are emptied). On the JS thread. */
v8::Local<v8::Array> scaledCopiesToV8(std::vector<ScaledCopy> &copies);
/** A JS array of long sides (numbers), at most 4; anything else: none. */
std::vector<int> longSidesFromV8(v8::Local<v8::Value> value);

/**
 * scaleRgb(data, width, height, outWidth, outHeight): a new Buffer, packed RGB; the same filter on
 * the JS thread, for the tests that hold it to sharp and the bench's figure of its CPU.
 */
NAN_METHOD(ScaleRgb);

/**
 * scaleRgbCopies(data, width, height, longSides, done(copies)): scaledCopiesOf on a libuv pool
 * thread for a packed frame already in JS (a frame a live camera's consumer takes), `done` on the JS
 * thread. `data` is kept alive until then.
 */
NAN_METHOD(ScaleRgbCopies);

#endif
