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

/**
 * scaleRgb(data, width, height, outWidth, outHeight): a new Buffer, packed RGB; the same filter on
 * the JS thread, for the tests that hold it to sharp and the bench's figure of its CPU.
 */
NAN_METHOD(ScaleRgb);

#endif
