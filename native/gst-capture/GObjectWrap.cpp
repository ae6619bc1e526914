// Derived from gstreamer-superficial 1.7.4 (MIT, see LICENSE). Changed for alpr-edge: wrappers own
// their GObject reference, property values are freed, and pull() waits boundedly, reports buffer
// timestamps and can scale the frame to the detector's working size on its pool thread.
#include <nan.h>
#include <gst/gst.h>
#include <gst/app/gstappsink.h>
#include <cmath>
#include <cstdlib>
#include <cstring>
#include <vector>

#include "GObjectWrap.h"
#include "RgbDownscale.h"

Nan::Persistent<Function> GObjectWrap::constructor;

void GObjectWrap::Init() {
	Nan::HandleScope scope;

	// Constructor
	Local<FunctionTemplate> ctor = Nan::New<FunctionTemplate>(GObjectWrap::New);
	ctor->InstanceTemplate()->SetInternalFieldCount(1);
	ctor->SetClassName(Nan::New<String>("GObjectWrap").ToLocalChecked());
	// Prototype
	//Local<ObjectPrototype> proto = ctor->PrototypeTemplate();
	constructor.Reset(Nan::GetFunction(ctor).ToLocalChecked());
}

NAN_METHOD(GObjectWrap::New) {
	GObjectWrap* obj = new GObjectWrap();
	obj->Wrap(info.This());

	info.GetReturnValue().Set(info.This());
}

Local<Value> GObjectWrap::NewInstance( const Nan::FunctionCallbackInfo<Value>& info, GObject *obj ) {
	Nan::EscapableHandleScope scope;
	const unsigned argc = 1;
	Isolate* isolate = info.GetIsolate();

	Local<Context> context = isolate->GetCurrentContext();
	Local<Function> constructorLocal = Nan::New(constructor);
	constructorLocal->SetName(String::NewFromUtf8(isolate, G_OBJECT_TYPE_NAME(obj), v8::NewStringType::kNormal).ToLocalChecked());
	Local<Value> argv[argc] = { info[0] };
	Local<Object> instance = constructorLocal->NewInstance(context, argc, argv).ToLocalChecked();

	GObjectWrap* wrap = Nan::ObjectWrap::Unwrap<GObjectWrap>(instance);
	wrap->obj = obj;
	guint n_properties;
	GParamSpec **properties = g_object_class_list_properties(G_OBJECT_GET_CLASS(obj), &n_properties);
	for(guint i = 0; i < n_properties; i++) {
		GParamSpec *property = properties[i];
		Local<String> name = String::NewFromUtf8(isolate, property->name, v8::NewStringType::kNormal).ToLocalChecked();
		Nan::SetAccessor(instance, name, GObjectWrap::GetProperty, GObjectWrap::SetProperty);
	}

	if(GST_IS_APP_SINK(obj)) {
        Nan::SetMethod(instance, "pull", GstAppSinkPull);
	}

	info.GetReturnValue().Set(instance);
	return scope.Escape(instance);
}

NAN_GETTER(GObjectWrap::GetProperty) {
	GObjectWrap* obj = Nan::ObjectWrap::Unwrap<GObjectWrap>(info.This());
	Nan::Utf8String name(property);

	GObject *o = obj->obj;
	GParamSpec *spec = g_object_class_find_property(G_OBJECT_GET_CLASS(o), *name);

	if(!spec) {
		info.GetReturnValue().Set(Nan::Undefined());
	} else {
		GValue gv;
		memset(&gv, 0, sizeof(gv));
		g_value_init(&gv, G_PARAM_SPEC_VALUE_TYPE(spec));
		g_object_get_property(o, *name, &gv);

		info.GetReturnValue().Set(gvalue_to_v8(&gv));
		g_value_unset(&gv);
	}
}

NAN_SETTER(GObjectWrap::SetProperty) {
	GObjectWrap* obj = Nan::ObjectWrap::Unwrap<GObjectWrap>(info.This());
	Nan::Utf8String name(property);

	GObject *o = obj->obj;
	GParamSpec *spec = g_object_class_find_property(G_OBJECT_GET_CLASS(o), *name);
	if(spec) {
		GValue gv;
		memset( &gv, 0, sizeof( gv ) );
		v8_to_gvalue( value, &gv, spec);
		if (G_IS_VALUE(&gv)) {
			g_object_set_property( o, *name, &gv );
			g_value_unset(&gv);
		}
	}
}

/** How long one pull waits for a sample before reporting "none yet" (JS asks again). */
#define PULL_WAIT (500 * GST_MSECOND)

static Local<Value> clockTimeToV8(GstClockTime t) {
	return GST_CLOCK_TIME_IS_VALID(t) ? Nan::New<Number>((double)t).As<Value>() : Nan::Null().As<Value>();
}

/**
 * Smaller copies of the sample's packed RGB frame at `longSides` (scaledCopiesOf); nothing for a
 * frame that is not packed RGB.
 */
static std::vector<ScaledCopy> scaledCopies(GstSample *sample, const std::vector<int> &longSides) {
	std::vector<ScaledCopy> copies;
	GstCaps *caps = gst_sample_get_caps(sample);
	GstBuffer *buf = gst_sample_get_buffer(sample);
	const GstStructure *st = caps ? gst_caps_get_structure(caps, 0) : NULL;
	int w = 0, h = 0;
	const gchar *format = st ? gst_structure_get_string(st, "format") : NULL;
	if (!buf || !st || !format || strcmp(format, "RGB") != 0 || !gst_structure_get_int(st, "width", &w) || !gst_structure_get_int(st, "height", &h)) return copies;
	GstMapInfo map;
	if (!gst_buffer_map(buf, &map, GST_MAP_READ)) return copies;
	// GStreamer pads RGB rows to 4 bytes; a buffer of neither layout is left alone (JS reports it).
	const size_t packed = (size_t)w * 3, padded = (packed + 3) & ~(size_t)3;
	const size_t stride = map.size == packed * h ? packed : map.size == padded * h ? padded : 0;
	if (stride > 0) copies = scaledCopiesOf(map.data, w, h, (int)stride, longSides);
	gst_buffer_unmap(buf, &map);
	return copies;
}

class PullWorker : public Nan::AsyncWorker {
	public:
		PullWorker(Nan::Callback *callback, GstAppSink *appsink, std::vector<int> longSides)
		: AsyncWorker(callback, "gst-capture.PullWorker"), appsink(GST_APP_SINK(g_object_ref(appsink))), sample(NULL), longSides(std::move(longSides)) {}

		~PullWorker() {
			if (sample) gst_sample_unref(sample);
			freeScaledCopies(copies);
			g_object_unref(appsink);
		}

		// Bounded: a pool thread never waits for good on a pipeline that fails to stop.
		void Execute() {
			sample = gst_app_sink_try_pull_sample(appsink, PULL_WAIT);
			if (sample && !longSides.empty()) copies = scaledCopies(sample, longSides);
		}

		void HandleOKCallback() {
			Nan::HandleScope scope;

			Local<Value> buf = Nan::Null();
			Local<Object> caps = Nan::New<Object>();
			Local<Object> timing = Nan::New<Object>();
			Local<Array> scaled;
			if (sample) {
				GstCaps *gcaps = gst_sample_get_caps(sample);
				if (gcaps) {
					const GstStructure *structure = gst_caps_get_structure(gcaps,0);
					if (structure) gst_structure_to_v8(caps, structure);
				}
				GstBuffer *gbuf = gst_sample_get_buffer(sample);
				if (gbuf) {
					Nan::Set(timing, Nan::New("ptsNs").ToLocalChecked(), clockTimeToV8(GST_BUFFER_PTS(gbuf)));
					Nan::Set(timing, Nan::New("durationNs").ToLocalChecked(), clockTimeToV8(GST_BUFFER_DURATION(gbuf)));
				}
				buf = gstsample_to_v8(sample);
				gst_sample_unref(sample);
				sample = NULL;
			}
			scaled = scaledCopiesToV8(copies);

			Local<Value> argv[] = { buf, caps, timing, scaled };
			callback->Call(4, argv, async_resource);
		}

	private:
		GstAppSink *appsink;
		GstSample *sample;
		const std::vector<int> longSides;
		std::vector<ScaledCopy> copies;
};

/** pull(callback(buf, caps, timing, scaled), longSides?): also smaller copies of RGB frames at those long sides (see scaledCopies). */
NAN_METHOD(GObjectWrap::GstAppSinkPull) {
	GObjectWrap* obj = Nan::ObjectWrap::Unwrap<GObjectWrap>(info.This());
	if (info.Length() == 0 || !info[0]->IsFunction()) return Nan::ThrowTypeError("pull needs a callback");
	std::vector<int> longSides = info.Length() > 1 ? longSidesFromV8(info[1]) : std::vector<int>();
	Nan::Callback *callback = new Nan::Callback(info[0].As<Function>());
	AsyncQueueWorker(new PullWorker(callback, GST_APP_SINK(obj->obj), std::move(longSides)));
}
