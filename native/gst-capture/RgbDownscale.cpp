// Scaling a frame to the detector's working size off the JS thread (issue 23): sharp's resize of
// the 1080p frame cost ~5 CPU ms per frame on the JS side's pool; this separable filter is cheaper
// and sits where the frame already is.
#include <algorithm>
#include <cmath>
#include <cstdlib>
#include <vector>

#include "RgbDownscale.h"

namespace {

/**
 * One axis: for each output sample the first source sample it reads (may lie before 0 or run past
 * the end: the caller extends the edges) and `count` fixed-point weights summing to 1 << bits.
 */
struct Taps {
	int count = 0;
	std::vector<int> first;   // outSize
	std::vector<int> weight;  // outSize * count
};

/**
 * Triangle weights of half-width `scale` (source samples per output sample) around each output
 * sample's centre, (x + 0.5) * scale - 0.5 in source samples (libvips' convention), normalised and
 * rounded so that they sum exactly to 1 << bits. Taps that no output weighs (the triangle's zeros
 * at whole-number scales) are dropped, so the inner loops are as short as they can be.
 */
Taps triangleTaps(int inSize, int outSize, int bits) {
	const double scale = (double)inSize / outSize;
	const int span = (int)std::ceil(2 * scale) + 1;
	const int one = 1 << bits;
	std::vector<int> first(outSize), weight((size_t)outSize * span);
	std::vector<double> w(span);
	int used = 0;
	for (int o = 0; o < outSize; o++) {
		const double centre = (o + 0.5) * scale - 0.5;
		first[o] = (int)std::floor(centre - scale) + 1;
		double sum = 0;
		for (int k = 0; k < span; k++) sum += (w[k] = std::max(0.0, 1.0 - std::fabs(first[o] + k - centre) / scale));
		int total = 0, largest = 0;
		int *ow = &weight[(size_t)o * span];
		for (int k = 0; k < span; k++) {
			ow[k] = (int)std::lround(w[k] / sum * one);
			total += ow[k];
			if (ow[k] > ow[largest]) largest = k;
		}
		ow[largest] += one - total;
		// Leading zero weights: start later instead.
		int lead = 0;
		while (lead < span - 1 && ow[lead] == 0) lead++;
		if (lead > 0) {
			std::copy(ow + lead, ow + span, ow);
			std::fill(ow + span - lead, ow + span, 0);
			first[o] += lead;
		}
		for (int k = span - 1; k >= 0; k--)
			if (ow[k] != 0) {
				used = std::max(used, k + 1);
				break;
			}
	}
	Taps taps;
	taps.count = used;
	taps.first = first;
	taps.weight.resize((size_t)outSize * used);
	for (int o = 0; o < outSize; o++) std::copy_n(&weight[(size_t)o * span], used, &taps.weight[(size_t)o * used]);
	return taps;
}

/**
 * Vertical weights: 8 bits, so a sum over 8-bit samples fits 16 bits exactly (8 fractional bits):
 * 16-bit lanes, twice as many per vector as 32-bit ones, and SSE2 multiplies them (pmullw).
 */
const int V_BITS = 8;
/** Horizontal weights: 14 bits; 16-bit samples times these stay below 2^31. */
const int H_BITS = 14;
const int OUT_SHIFT = H_BITS + V_BITS;
const int32_t OUT_HALF = 1 << (OUT_SHIFT - 1);

/** One output row across: `mid` holds the vertically filtered row with `pad` edge pixels copied on each side. */
template <int COUNT>
void horizontal(const Taps &ht, int count, const uint16_t *mid, int pad, uint8_t *out, int dstW) {
	const int n = COUNT > 0 ? COUNT : count;
	for (int x = 0; x < dstW; x++) {
		const uint16_t *p = mid + (size_t)(ht.first[x] + pad) * 3;
		const int *wt = &ht.weight[(size_t)x * n];
		int32_t r = 0, g = 0, b = 0;
		for (int k = 0; k < n; k++) {
			r += wt[k] * p[k * 3];
			g += wt[k] * p[k * 3 + 1];
			b += wt[k] * p[k * 3 + 2];
		}
		// Weights are never negative, so the sums stay within 0..255 after the shift.
		out[x * 3] = (uint8_t)((r + OUT_HALF) >> OUT_SHIFT);
		out[x * 3 + 1] = (uint8_t)((g + OUT_HALF) >> OUT_SHIFT);
		out[x * 3 + 2] = (uint8_t)((b + OUT_HALF) >> OUT_SHIFT);
	}
}

} // namespace

void downscaleRgbLinear(const uint8_t *src, int srcW, int srcH, int srcStride, uint8_t *dst, int dstW, int dstH) {
	const Taps vt = triangleTaps(srcH, dstH, V_BITS);
	const Taps ht = triangleTaps(srcW, dstW, H_BITS);
	// Source pixels the horizontal taps reach beyond either edge.
	int pad = 0;
	for (int x = 0; x < dstW; x++) pad = std::max({ pad, -ht.first[x], ht.first[x] + ht.count - srcW });
	const int rowValues = srcW * 3;
	std::vector<uint16_t> padded((size_t)(srcW + 2 * pad) * 3);
	uint16_t *mid = padded.data() + (size_t)pad * 3;
	for (int y = 0; y < dstH; y++) {
		// Vertical first: whole rows, one weight per row, which the compiler vectorises.
		std::fill(mid, mid + rowValues, (uint16_t)0);
		for (int k = 0; k < vt.count; k++) {
			const uint16_t w = (uint16_t)vt.weight[(size_t)y * vt.count + k];
			if (w == 0) continue;
			const int r = std::min(srcH - 1, std::max(0, vt.first[y] + k));
			const uint8_t *row = src + (size_t)r * srcStride;
			for (int i = 0; i < rowValues; i++) mid[i] = (uint16_t)(mid[i] + w * row[i]);
		}
		for (int e = 1; e <= pad; e++)
			for (int c = 0; c < 3; c++) {
				mid[-e * 3 + c] = mid[c];
				mid[rowValues + (e - 1) * 3 + c] = mid[rowValues - 3 + c];
			}
		// Then across the row, on a third as many rows as the frame has (at 1080p to 360).
		uint8_t *out = dst + (size_t)y * dstW * 3;
		switch (ht.count) {
			case 4: horizontal<4>(ht, 4, padded.data(), pad, out, dstW); break;
			case 5: horizontal<5>(ht, 5, padded.data(), pad, out, dstW); break;
			default: horizontal<0>(ht, ht.count, padded.data(), pad, out, dstW); break;
		}
	}
}

static void freeScaled(char *data, void *) {
	free(data);
}

/** Copies asked for per picture, at most (the detector asks for two). */
#define MAX_COPIES 4
/** See scaledCopiesOf. */
#define MAX_COPY_SHRINK 4.0

std::vector<ScaledCopy> scaledCopiesOf(const uint8_t *src, int sw, int sh, int stride, const std::vector<int> &longSides) {
	std::vector<ScaledCopy> copies;
	for (size_t i = 0; i < longSides.size() && i < MAX_COPIES; i++) {
		const int longSide = sw > sh ? sw : sh, side = longSides[i];
		if (side <= 0 || side >= longSide || (double)longSide / side >= MAX_COPY_SHRINK) continue;
		// The same double arithmetic as the detector's Math.round(width * (side / longSide)).
		const double scale = (double)side / longSide;
		ScaledCopy copy;
		copy.width = (int)std::fmax(8.0, std::floor(sw * scale + 0.5));
		copy.height = (int)std::fmax(8.0, std::floor(sh * scale + 0.5));
		copy.data = static_cast<uint8_t *>(malloc((size_t)copy.width * copy.height * 3));
		if (!copy.data) break;
		downscaleRgbLinear(src, sw, sh, stride, copy.data, copy.width, copy.height);
		copies.push_back(copy);
		src = copy.data;
		sw = copy.width;
		sh = copy.height;
		stride = sw * 3;
	}
	return copies;
}

void freeScaledCopies(std::vector<ScaledCopy> &copies) {
	for (ScaledCopy &c : copies) free(c.data);
	copies.clear();
}

v8::Local<v8::Array> scaledCopiesToV8(std::vector<ScaledCopy> &copies) {
	v8::Local<v8::Array> out = Nan::New<v8::Array>(copies.size());
	for (size_t i = 0; i < copies.size(); i++) {
		ScaledCopy &c = copies[i];
		v8::Local<v8::Object> o = Nan::New<v8::Object>();
		Nan::Set(o, Nan::New("width").ToLocalChecked(), Nan::New<v8::Number>(c.width));
		Nan::Set(o, Nan::New("height").ToLocalChecked(), Nan::New<v8::Number>(c.height));
		Nan::Set(o, Nan::New("data").ToLocalChecked(), Nan::NewBuffer((char *)c.data, (size_t)c.width * c.height * 3, freeScaled, NULL).ToLocalChecked());
		c.data = NULL; // the Buffer owns it now
		Nan::Set(out, (uint32_t)i, o);
	}
	copies.clear();
	return out;
}

std::vector<int> longSidesFromV8(v8::Local<v8::Value> value) {
	std::vector<int> sides;
	if (!value->IsArray()) return sides;
	v8::Local<v8::Array> list = value.As<v8::Array>();
	for (uint32_t i = 0; i < list->Length() && i < MAX_COPIES; i++) {
		v8::Local<v8::Value> side = Nan::Get(list, i).ToLocalChecked();
		if (side->IsNumber()) sides.push_back(Nan::To<int32_t>(side).FromJust());
	}
	return sides;
}

namespace {

class CopiesWorker : public Nan::AsyncWorker {
	public:
		CopiesWorker(Nan::Callback *callback, v8::Local<v8::Object> data, int width, int height, std::vector<int> longSides)
		: AsyncWorker(callback, "gst-capture.ScaleRgbCopies"), src(reinterpret_cast<const uint8_t *>(node::Buffer::Data(data))), width(width), height(height), longSides(std::move(longSides)) {
			SaveToPersistent("data", data); // the frame's memory stays put until HandleOKCallback
		}
		~CopiesWorker() { freeScaledCopies(copies); }

		void Execute() { copies = scaledCopiesOf(src, width, height, width * 3, longSides); }

		void HandleOKCallback() {
			Nan::HandleScope scope;
			v8::Local<v8::Value> argv[] = { scaledCopiesToV8(copies) };
			callback->Call(1, argv, async_resource);
		}

	private:
		const uint8_t *src;
		const int width, height;
		const std::vector<int> longSides;
		std::vector<ScaledCopy> copies;
};

} // namespace

NAN_METHOD(ScaleRgbCopies) {
	if (info.Length() < 5 || !node::Buffer::HasInstance(info[0]) || !info[4]->IsFunction()) return Nan::ThrowTypeError("scaleRgbCopies(data, width, height, longSides, done)");
	const int w = Nan::To<int32_t>(info[1]).FromJust(), h = Nan::To<int32_t>(info[2]).FromJust();
	if (w < 1 || h < 1 || node::Buffer::Length(info[0]) != (size_t)w * h * 3) return Nan::ThrowRangeError("scaleRgbCopies: data is not width * height * 3 bytes");
	Nan::AsyncQueueWorker(new CopiesWorker(new Nan::Callback(info[4].As<v8::Function>()), info[0].As<v8::Object>(), w, h, longSidesFromV8(info[3])));
}

NAN_METHOD(ScaleRgb) {
	if (info.Length() < 5 || !node::Buffer::HasInstance(info[0])) return Nan::ThrowTypeError("scaleRgb(data, width, height, outWidth, outHeight)");
	const int w = Nan::To<int32_t>(info[1]).FromJust(), h = Nan::To<int32_t>(info[2]).FromJust();
	const int ow = Nan::To<int32_t>(info[3]).FromJust(), oh = Nan::To<int32_t>(info[4]).FromJust();
	if (w < 1 || h < 1 || ow < 1 || oh < 1 || ow > w || oh > h) return Nan::ThrowRangeError("scaleRgb scales down only, to at least 1x1");
	if (node::Buffer::Length(info[0]) != (size_t)w * h * 3) return Nan::ThrowRangeError("scaleRgb: data is not width * height * 3 bytes");
	uint8_t *out = static_cast<uint8_t *>(malloc((size_t)ow * oh * 3));
	if (!out) return Nan::ThrowError("scaleRgb: out of memory");
	downscaleRgbLinear(reinterpret_cast<const uint8_t *>(node::Buffer::Data(info[0])), w, h, w * 3, out, ow, oh);
	info.GetReturnValue().Set(Nan::NewBuffer((char *)out, (size_t)ow * oh * 3, freeScaled, NULL).ToLocalChecked());
}
