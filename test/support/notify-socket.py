#!/usr/bin/python3
"""A stand-in for systemd's notify socket: a real AF_UNIX datagram socket at argv[1].

Prints one JSON line per datagram on stdout: {"atMs": <receive time>, "fields": {"READY": "1", ...}}.
File descriptors passed along (systemd-notify's BARRIER=1 sends one and waits for it to close) are
closed at once, as systemd does, so the sender's barrier completes.
"""
import array
import json
import os
import socket
import sys
import time

path = sys.argv[1]
sock = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
sock.bind(path)
print(json.dumps({"listening": path}), flush=True)
fd_size = array.array("i").itemsize
while True:
    data, ancdata, _flags, _addr = sock.recvmsg(65536, socket.CMSG_SPACE(16 * fd_size))
    for level, kind, payload in ancdata:
        if level == socket.SOL_SOCKET and kind == socket.SCM_RIGHTS:
            fds = array.array("i")
            fds.frombytes(payload[: len(payload) - (len(payload) % fd_size)])
            for fd in fds:
                os.close(fd)
    fields = {}
    for line in data.decode("utf-8", "replace").split("\n"):
        if "=" in line:
            k, v = line.split("=", 1)
            fields[k] = v
    print(json.dumps({"atMs": int(time.time() * 1000), "fields": fields}), flush=True)
