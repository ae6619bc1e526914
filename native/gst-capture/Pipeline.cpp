// Derived from gstreamer-superficial 1.7.4 (MIT, see LICENSE). Changed for alpr-edge: stop() runs
// set_state(NULL) off the JS thread and reports back through a callback; pipelines, buses and
// child elements are released; the bus watch never blocks a libuv pool thread for good.
#include <nan.h>
#include <gst/gst.h>

#include "GLibHelpers.h"
#include "GObjectWrap.h"
#include "Pipeline.h"

/** The bus watch wakes this often to notice a stop even when no message arrives. */
#define BUS_WAKE_INTERVAL (500 * GST_MSECOND)

/** Pipelines created and not yet finalized: what a leak check (and a gauge) watches. */
static std::atomic<int> livePipelines(0);

static void pipelineFinalized(gpointer, GObject *) {
	livePipelines--;
}

Pipeline::Pipeline(GstElement *pipeline) : pipeline(pipeline), stopping(false) {
	livePipelines++;
	g_object_weak_ref(G_OBJECT(pipeline), pipelineFinalized, NULL);
}

/** livePipelines(): how many pipelines exist in this process, stopping and abandoned ones included. */
static NAN_METHOD(LivePipelines) {
	info.GetReturnValue().Set(Nan::New<Number>(livePipelines.load()));
}

Pipeline::~Pipeline() {
	// Collected without stop(): still bring it to NULL (off this thread) before the last unref.
	stopping = true;
	if (pipeline) startStop(Local<Function>());
}

void Pipeline::Init(Local<Object> exports) {
	Nan::HandleScope scope;

	Local<FunctionTemplate> ctor = Nan::New<FunctionTemplate>(Pipeline::New);
	ctor->InstanceTemplate()->SetInternalFieldCount(1);
	ctor->SetClassName(Nan::New("Pipeline").ToLocalChecked());

	Nan::SetPrototypeMethod(ctor, "play", Play);
	Nan::SetPrototypeMethod(ctor, "pause", Pause);
	Nan::SetPrototypeMethod(ctor, "stop", Stop);
	Nan::SetPrototypeMethod(ctor, "seek", Seek);
	Nan::SetPrototypeMethod(ctor, "findChild", FindChild);
	Nan::SetPrototypeMethod(ctor, "pollBus", PollBus);
	Nan::SetAccessor(ctor->PrototypeTemplate(), Nan::New("auto-flush-bus").ToLocalChecked(), GetAutoFlushBus, SetAutoFlushBus);

	Nan::Set(exports, Nan::New("Pipeline").ToLocalChecked(), Nan::GetFunction(ctor).ToLocalChecked());
	Nan::SetMethod(exports, "livePipelines", LivePipelines);
}

/**
 * Software decoders (libav's avdec_*) start one frame thread per core, each holding its own
 * decoded frames and reference pictures. Capping them, including decoders decodebin plugs in
 * later, bounds that memory; the property only takes effect before the decoder opens, which is
 * why it is set as the element is added rather than after the pipeline starts.
 */
static void capDecoderThreads(GstBin *, GstBin *, GstElement *element, gpointer data) {
	GstElementFactory *factory = gst_element_get_factory(element);
	if (!factory) return;
	const gchar *name = GST_OBJECT_NAME(factory);
	if (!g_str_has_prefix(name, "avdec_")) return;
	if (!g_object_class_find_property(G_OBJECT_GET_CLASS(element), "max-threads")) return;
	g_object_set(element, "max-threads", GPOINTER_TO_INT(data), NULL);
}

NAN_METHOD(Pipeline::New) {
	if (!info.IsConstructCall())
		return Nan::ThrowTypeError("Class constructors cannot be invoked without 'new'");

	Nan::Utf8String launch(info[0]);
	GError *err = NULL;
	GstElement *element = gst_parse_launch(*launch, &err);
	if (err) {
		if (element) gst_object_unref(gst_object_ref_sink(element));
		Nan::ThrowError(err->message);
		g_error_free(err);
		return;
	}
	gst_object_ref_sink(element);
	if (!GST_IS_PIPELINE(element)) {
		gst_object_unref(element);
		return Nan::ThrowError("the description must have more than one element");
	}
	// new Pipeline(description, { decoderThreads }): 0 leaves libav's default (one per core).
	if (info.Length() > 1 && info[1]->IsObject()) {
		Local<Object> opts = info[1].As<Object>();
		Local<Value> threads = Nan::Get(opts, Nan::New("decoderThreads").ToLocalChecked()).ToLocalChecked();
		if (threads->IsNumber()) {
			int n = Nan::To<int32_t>(threads).FromJust();
			if (n > 0) {
				// Decoders named in the description exist already; decodebin adds its own later.
				GstIterator *it = gst_bin_iterate_recurse(GST_BIN(element));
				GValue item = G_VALUE_INIT;
				while (gst_iterator_next(it, &item) == GST_ITERATOR_OK) {
					capDecoderThreads(NULL, NULL, GST_ELEMENT(g_value_get_object(&item)), GINT_TO_POINTER(n));
					g_value_reset(&item);
				}
				g_value_unset(&item);
				gst_iterator_free(it);
				g_signal_connect(element, "deep-element-added", G_CALLBACK(capDecoderThreads), GINT_TO_POINTER(n));
			}
		}
	}
	Pipeline *obj = new Pipeline(element);
	obj->Wrap(info.This());
	info.GetReturnValue().Set(info.This());
}

NAN_METHOD(Pipeline::Play) {
	Pipeline *obj = Nan::ObjectWrap::Unwrap<Pipeline>(info.This());
	if (!obj->pipeline) return Nan::ThrowError("pipeline is stopping");
	gst_element_set_state(obj->pipeline, GST_STATE_PLAYING);
}

NAN_METHOD(Pipeline::Pause) {
	Pipeline *obj = Nan::ObjectWrap::Unwrap<Pipeline>(info.This());
	if (!obj->pipeline) return Nan::ThrowError("pipeline is stopping");
	gst_element_set_state(obj->pipeline, GST_STATE_PAUSED);
}

/* ---------------------------------------------------------------- stop */

namespace {

struct StopJob {
	GstElement *pipeline; // the wrapper's reference, handed over; dropped (freeing the pipeline) once NULL
	GstStateChangeReturn result = GST_STATE_CHANGE_FAILURE;
	uv_async_t async;
	Nan::Callback *callback = nullptr;
	Nan::AsyncResource *resource = nullptr;
};

gpointer stopThread(gpointer data) {
	StopJob *job = static_cast<StopJob *>(data);
	job->result = gst_element_set_state(job->pipeline, GST_STATE_NULL);
	// Messages left on the bus hold references to their senders, the pipeline among them: a cycle
	// (pipeline → bus → message → pipeline) that would keep every stopped pipeline alive. Dropping
	// them is what auto-flush-bus does, done here whatever that property says.
	GstBus *bus = gst_element_get_bus(job->pipeline);
	if (bus) {
		gst_bus_set_flushing(bus, TRUE);
		gst_object_unref(bus);
	}
	gst_object_unref(job->pipeline);
	job->pipeline = NULL;
	uv_async_send(&job->async);
	return NULL;
}

void stopJobClosed(uv_handle_t *handle) {
	StopJob *job = static_cast<StopJob *>(handle->data);
	delete job->callback;
	delete job->resource;
	delete job;
}

void stopDone(uv_async_t *handle) {
	StopJob *job = static_cast<StopJob *>(handle->data);
	uv_close(reinterpret_cast<uv_handle_t *>(handle), stopJobClosed);
	if (job->callback) {
		Nan::HandleScope scope;
		Local<Value> argv[] = { Nan::New<Boolean>(job->result != GST_STATE_CHANGE_FAILURE) };
		job->callback->Call(1, argv, job->resource);
	}
}

} // namespace

void Pipeline::startStop(Local<Function> cb) {
	// Wake the bus watch now rather than at its next timeout.
	GstBus *bus = gst_element_get_bus(pipeline);
	if (bus) {
		gst_bus_post(bus, gst_message_new_application(NULL, gst_structure_new_empty("gst-capture-wake")));
		gst_object_unref(bus);
	}

	StopJob *job = new StopJob();
	// The stop thread takes over our reference: the pipeline is freed as soon as it is NULL, not
	// whenever the garbage collector gets to this object; a wedged one is never touched again.
	job->pipeline = pipeline;
	pipeline = NULL;
	if (!cb.IsEmpty()) {
		job->callback = new Nan::Callback(cb);
		job->resource = new Nan::AsyncResource("gst-capture.Stop");
	}
	uv_async_init(Nan::GetCurrentEventLoop(), &job->async, stopDone);
	job->async.data = job;
	// A wedged stop must not keep the process alive; the JS side holds its own deadline timer.
	uv_unref(reinterpret_cast<uv_handle_t *>(&job->async));

	GError *err = NULL;
	GThread *thread = g_thread_try_new("gst-capture-stop", stopThread, job, &err);
	if (thread) {
		g_thread_unref(thread); // detached: a stop that never returns is abandoned, not joined
		return;
	}
	// No thread: report failure through the same path so the caller's callback still fires.
	g_warning("gst-capture: cannot start a stop thread: %s", err ? err->message : "unknown error");
	if (err) g_error_free(err);
	gst_object_unref(job->pipeline);
	job->pipeline = NULL;
	job->result = GST_STATE_CHANGE_FAILURE;
	uv_async_send(&job->async);
}

/** stop(callback(ok: boolean)): set_state(NULL) on a thread of its own. Later calls are ignored. */
NAN_METHOD(Pipeline::Stop) {
	Pipeline *obj = Nan::ObjectWrap::Unwrap<Pipeline>(info.This());
	if (info.Length() == 0 || !info[0]->IsFunction())
		return Nan::ThrowTypeError("stop needs a callback");
	if (obj->stopping.exchange(true)) {
		info.GetReturnValue().Set(Nan::False());
		return;
	}
	obj->startStop(info[0].As<Function>());
	info.GetReturnValue().Set(Nan::True());
}

/* ---------------------------------------------------------------- seek, children */

NAN_METHOD(Pipeline::Seek) {
	Pipeline *obj = Nan::ObjectWrap::Unwrap<Pipeline>(info.This());
	gint64 t(Nan::To<Int32>(info[0]).ToLocalChecked()->Value());
	t *= GST_SECOND;
	GstSeekFlags flags((GstSeekFlags)Nan::To<Int32>(info[1]).ToLocalChecked()->Value());
	gboolean ok = obj->pipeline && gst_element_seek(obj->pipeline, 1.0, GST_FORMAT_TIME, flags,
		GST_SEEK_TYPE_SET, t, GST_SEEK_TYPE_NONE, GST_CLOCK_TIME_NONE);
	info.GetReturnValue().Set(Nan::New<Boolean>(ok));
}

NAN_METHOD(Pipeline::FindChild) {
	Pipeline *obj = Nan::ObjectWrap::Unwrap<Pipeline>(info.This());
	Nan::Utf8String name(info[0]);
	if (!obj->pipeline) return info.GetReturnValue().Set(Nan::Undefined());
	GstElement *child = gst_bin_get_by_name(GST_BIN(obj->pipeline), *name);
	if (child)
		info.GetReturnValue().Set(GObjectWrap::NewInstance(info, G_OBJECT(child))); // the wrapper owns the reference
	else
		info.GetReturnValue().Set(Nan::Undefined());
}

/* ---------------------------------------------------------------- bus */

namespace {

class BusWatch : public Nan::AsyncResource {
	public:
		BusWatch(Pipeline *obj, GstBus *bus, Local<Function> cb)
			: AsyncResource("gst-capture.BusWatch"), obj(obj), bus(bus) {
			callback.Reset(cb);
			request.data = this;
		}
		~BusWatch() {
			callback.Reset();
			gst_object_unref(bus);
		}

		uv_work_t request;
		Nan::Persistent<Function> callback;
		Pipeline *obj;
		GstBus *bus;
		GstMessage *msg = NULL;
};

void pollBusWork(uv_work_t *req) {
	BusWatch *watch = static_cast<BusWatch *>(req->data);
	watch->msg = NULL;
	// Bounded waits: a pool thread must never stay here after the pipeline stops, even if the
	// pipeline never reaches NULL.
	while (!watch->obj->stopping && watch->msg == NULL)
		watch->msg = gst_bus_timed_pop(watch->bus, BUS_WAKE_INTERVAL);
}

void polledBus(uv_work_t *req, int status) {
	BusWatch *watch = static_cast<BusWatch *>(req->data);
	GstMessage *msg = watch->msg;
	watch->msg = NULL;

	if (msg && !watch->obj->stopping) {
		Nan::HandleScope scope;
		Local<Object> m = Nan::New<Object>();
		Nan::Set(m, Nan::New("type").ToLocalChecked(), Nan::New(GST_MESSAGE_TYPE_NAME(msg)).ToLocalChecked());
		const GstStructure *structure = gst_message_get_structure(msg);
		if (structure) gst_structure_to_v8(m, structure);
		if (msg->src)
			Nan::Set(m, Nan::New("_src_element_name").ToLocalChecked(), Nan::New<String>(GST_OBJECT_NAME(msg->src)).ToLocalChecked());
		if (GST_MESSAGE_TYPE(msg) == GST_MESSAGE_ERROR) {
			GError *err = NULL;
			gchar *debug = NULL;
			gst_message_parse_error(msg, &err, &debug);
			gchar *path = msg->src ? gst_object_get_path_string(msg->src) : NULL;
			if (path) Nan::Set(m, Nan::New("name").ToLocalChecked(), Nan::New(path).ToLocalChecked());
			if (err) Nan::Set(m, Nan::New("message").ToLocalChecked(), Nan::New(err->message).ToLocalChecked());
			if (debug) Nan::Set(m, Nan::New("debug").ToLocalChecked(), Nan::New(debug).ToLocalChecked());
			g_free(path);
			g_free(debug);
			if (err) g_error_free(err);
		}
		Local<Value> argv[1] = { m };
		watch->runInAsyncScope(Nan::New<Object>(), Nan::New(watch->callback), 1, argv);
	}
	if (msg) gst_message_unref(msg);

	if (!watch->obj->stopping) {
		uv_queue_work(Nan::GetCurrentEventLoop(), &watch->request, pollBusWork, polledBus);
		return;
	}
	Pipeline *obj = watch->obj;
	delete watch;
	obj->release(); // the pipeline object may now be collected
}

} // namespace

/** pollBus(callback(message)): one pool thread waits on the bus until stop() is called. */
NAN_METHOD(Pipeline::PollBus) {
	Pipeline *obj = Nan::ObjectWrap::Unwrap<Pipeline>(info.This());
	if (info.Length() == 0 || !info[0]->IsFunction())
		return Nan::ThrowError("Callback is required and must be a Function.");
	if (!obj->pipeline) return;
	GstBus *bus = gst_element_get_bus(obj->pipeline);
	if (!bus) return Nan::ThrowError("pipeline has no bus");
	BusWatch *watch = new BusWatch(obj, bus, info[0].As<Function>());
	obj->retain();
	uv_queue_work(Nan::GetCurrentEventLoop(), &watch->request, pollBusWork, polledBus);
}

NAN_GETTER(Pipeline::GetAutoFlushBus) {
	Pipeline *obj = Nan::ObjectWrap::Unwrap<Pipeline>(info.This());
	if (!obj->pipeline) return;
	info.GetReturnValue().Set(Nan::New<Boolean>(gst_pipeline_get_auto_flush_bus(GST_PIPELINE(obj->pipeline))));
}

NAN_SETTER(Pipeline::SetAutoFlushBus) {
	if (value->IsBoolean()) {
		Pipeline *obj = Nan::ObjectWrap::Unwrap<Pipeline>(info.This());
		if (!obj->pipeline) return;
		gst_pipeline_set_auto_flush_bus(GST_PIPELINE(obj->pipeline), Nan::To<Boolean>(value).ToLocalChecked()->Value());
	}
}
