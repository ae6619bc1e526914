#ifndef __GObjectWrap_h__
#define __GObjectWrap_h__

#include <nan.h>
#include <gst/gst.h>

#include "GLibHelpers.h"

class GObjectWrap : public Nan::ObjectWrap {
	public:
		static void Init();
		static Local<Value> NewInstance( const Nan::FunctionCallbackInfo<Value>& info, GObject *obj );

	private:
		GObjectWrap() : obj(NULL) {}
		/** Drops the reference NewInstance took over (gst_bin_get_by_name returns one). */
		~GObjectWrap() { if (obj) g_object_unref(obj); }

		GObject *obj;

		static Nan::Persistent<Function> constructor;
		static NAN_METHOD(New);
		static NAN_SETTER(SetProperty);
		static NAN_GETTER(GetProperty);
		static NAN_METHOD(GstAppSinkPull);
};

#endif
