{
  "targets": [
    {
      "target_name": "gst_capture",
      "sources": ["gst_capture.cpp", "GLibHelpers.cpp", "GObjectWrap.cpp", "Pipeline.cpp", "RgbDownscale.cpp", "MallocStats.cpp"],
      "include_dirs": ["<!(node -e \"require('nan')\")"],
      "cflags": ["-Wno-cast-function-type"],
      "cflags_cc": ["<!@(pkg-config --cflags gstreamer-1.0 gstreamer-app-1.0)"],
      "libraries": ["<!@(pkg-config --libs gstreamer-1.0 gstreamer-app-1.0)"]
    }
  ]
}
