#include <nan.h>
#include <gst/gst.h>

#include "GObjectWrap.h"
#include "Pipeline.h"

NAN_MODULE_INIT(InitAll) {
	gst_init(NULL, NULL);
	GObjectWrap::Init();
	Pipeline::Init(target);
}

NODE_MODULE(gst_capture, InitAll)
