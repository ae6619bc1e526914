#ifndef __MallocStats_h__
#define __MallocStats_h__

#include <nan.h>

NAN_METHOD(MallocStats);

#endif
