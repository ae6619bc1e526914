#!/usr/bin/python3
"""Minimal RTSP server for capture tests: serves H.264 on rtsp://127.0.0.1:PORT/test.

Run with Debian's system python (/usr/bin/python3): that is the interpreter that has
the GObject-introspection bindings for GstRtspServer.

    /usr/bin/python3 test/support/rtsp-server.py --port 8554 [--file clip.mp4] [--width 320 --height 240 --fps 15]

Prints READY on stdout once the port is bound, so callers never race the listener.
Exits cleanly on SIGTERM/SIGINT.
"""
import argparse
import signal
import sys

import gi

gi.require_version("Gst", "1.0")
gi.require_version("GstRtspServer", "1.0")
from gi.repository import GLib, Gst, GstRtspServer  # noqa: E402


def launch_line(args):
    if args.file:
        # Decode and re-encode so any clip works and every client starts on a key frame.
        source = f'filesrc location="{args.file}" ! decodebin ! videoconvert ! videoscale'
    else:
        source = f"videotestsrc is-live=true pattern={args.pattern}"
    return (
        f"( {source} ! video/x-raw,format=I420,width={args.width},height={args.height},framerate={args.fps}/1 "
        f"! x264enc tune=zerolatency speed-preset=ultrafast key-int-max={args.fps} bitrate=500 "
        f"! rtph264pay name=pay0 pt=96 config-interval=1 )"
    )


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--port", type=int, required=True)
    parser.add_argument("--file")
    parser.add_argument("--pattern", default="ball")
    parser.add_argument("--width", type=int, default=320)
    parser.add_argument("--height", type=int, default=240)
    parser.add_argument("--fps", type=int, default=15)
    args = parser.parse_args()

    Gst.init(None)
    server = GstRtspServer.RTSPServer()
    # Tests must only ever talk to loopback.
    server.set_address("127.0.0.1")
    server.set_service(str(args.port))

    factory = GstRtspServer.RTSPMediaFactory()
    factory.set_launch(launch_line(args))
    factory.set_shared(True)
    server.get_mount_points().add_factory("/test", factory)

    if server.attach(None) == 0:
        print(f"cannot listen on 127.0.0.1:{args.port}", file=sys.stderr, flush=True)
        sys.exit(2)

    loop = GLib.MainLoop()

    def on_signal(*_):
        loop.quit()
        return GLib.SOURCE_REMOVE

    GLib.unix_signal_add(GLib.PRIORITY_DEFAULT, signal.SIGTERM, on_signal)
    GLib.unix_signal_add(GLib.PRIORITY_DEFAULT, signal.SIGINT, on_signal)

    print("READY", flush=True)
    loop.run()


if __name__ == "__main__":
    main()
