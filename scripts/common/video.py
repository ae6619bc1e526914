"""H.264 MP4 writing through gst-launch-1.0: raw RGB frames go to the returned process's stdin."""

import subprocess


def open_h264_encoder(path, width, height, fps, bitrate, preset):
    """bitrate in kbit/s; preset is x264's speed-preset. One encoder thread: x264enc's frame
    threading gives different bytes from run to run."""
    pipeline = (
        f"fdsrc fd=0 ! rawvideoparse format=rgb width={width} height={height} framerate={fps}/1 "
        f"! videoconvert ! video/x-raw,format=I420 "
        f"! x264enc speed-preset={preset} bitrate={bitrate} key-int-max={2 * fps} threads=1 "
        f"! video/x-h264,profile=main ! h264parse ! mp4mux ! filesink location={path}"
    )
    return subprocess.Popen(["gst-launch-1.0", "-q", *pipeline.split()], stdin=subprocess.PIPE)
