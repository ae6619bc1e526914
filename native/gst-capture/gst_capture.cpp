#include <nan.h>
#include <gst/gst.h>

#include "GLibHelpers.h"
#include "GObjectWrap.h"
#include "MallocStats.h"
#include "Pipeline.h"
#include "RgbDownscale.h"

NAN_MODULE_INIT(InitAll) {
	// glibc's own mmap threshold is left alone. A fixed 1 MB threshold (each 2-6 MB frame in its
	// own mapping, unmapped when collected) cut RSS by 25-45 MB but made every frame fault in fresh
	// pages: on this project's x86 VMs decode went from 85 to 32-38 fps (19 -> 43-51 CPU ms per 1080p
	// frame) and the end-to-end bench from 37.5 to 16.8 fps. Reusing the mappings (a spare list
	// refilled by the buffers' free callbacks) did not help: the garbage collector frees frames in
	// batches of ten or more, so two in three frames still got a fresh mapping.
	gst_init(NULL, NULL);
	GObjectWrap::Init();
	Pipeline::Init(target);
	Nan::SetMethod(target, "scaleRgb", ScaleRgb);
	Nan::SetMethod(target, "scaleRgbCopies", ScaleRgbCopies);
	Nan::SetMethod(target, "mallocStats", MallocStats);
	Nan::SetMethod(target, "heldFrames", HeldFrames);
}

NODE_MODULE(gst_capture, InitAll)
