#ifndef __Pipeline_h__
#define __Pipeline_h__

#include <atomic>
#include <nan.h>
#include <gst/gst.h>

#include "GLibHelpers.h"

/**
 * One GStreamer pipeline. Unlike upstream gstreamer-superficial, every state change that can block
 * (NULL: rtspsrc joins its task threads) runs on its own thread, so a wedged element can never
 * freeze the JS thread, and the pipeline is freed once it is NULL and the JS object is collected.
 */
class Pipeline : public Nan::ObjectWrap {
	public:
		static void Init(Local<Object> exports);

		/** Owned reference until stop(), which hands it to the stop thread; NULL from then on. */
		GstElement *pipeline;
		/** Set once stop() was called: the bus watch ends and no further message is delivered. */
		std::atomic<bool> stopping;

		/** Keeps the JS object (and so this) alive while the bus watch runs. */
		void retain() { Ref(); }
		void release() { Unref(); }

	private:
		explicit Pipeline(GstElement *pipeline);
		~Pipeline();

		/** Starts set_state(NULL) on a detached thread; cb (may be empty) gets the result on the JS thread. */
		void startStop(Local<Function> cb);

		static NAN_METHOD(New);
		static NAN_METHOD(Play);
		static NAN_METHOD(Pause);
		static NAN_METHOD(Stop);
		static NAN_METHOD(Seek);
		static NAN_METHOD(FindChild);
		static NAN_METHOD(PollBus);
		static NAN_GETTER(GetAutoFlushBus);
		static NAN_SETTER(SetAutoFlushBus);
};

#endif
