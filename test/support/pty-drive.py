#!/usr/bin/python3
"""Runs a command on a REAL pseudo-terminal and answers its prompts, like a technician typing.

argv[1]: a JSON file {"argv": [...], "cwd": "...", "steps": [{"expect": "<regex>", "send": "<line>"}],
"timeoutS": 60}. Each step waits until its regex appears in the output after the previous match,
then types the line and Enter. Prints one JSON object: {"exitCode": n or null, "output": "<all
output>", "failedStep": index of the step whose prompt never came, or null}.
"""
import json
import os
import pty
import re
import select
import signal
import sys
import time

spec = json.load(open(sys.argv[1]))
pid, fd = pty.fork()
if pid == 0:
    os.chdir(spec.get("cwd", "."))
    os.execvp(spec["argv"][0], spec["argv"])

deadline = time.time() + spec.get("timeoutS", 60)
out = b""
open_ = True


def read_some(timeout):
    """Reads what the terminal has; False once the child closed it."""
    global out
    r, _, _ = select.select([fd], [], [], timeout)
    if not r:
        return True
    try:
        data = os.read(fd, 4096)
    except OSError:
        return False
    out += data
    return bool(data)


pos = 0
failed = None
for i, step in enumerate(spec["steps"]):
    pattern = re.compile(step["expect"].encode())
    match = pattern.search(out, pos)
    while match is None and open_ and time.time() < deadline:
        open_ = read_some(0.1)
        match = pattern.search(out, pos)
    if match is None:
        failed = i
        break
    pos = match.end()
    os.write(fd, step["send"].encode() + b"\r")

while open_ and time.time() < deadline:
    open_ = read_some(0.2)
if open_:
    os.kill(pid, signal.SIGKILL)
_, status = os.waitpid(pid, 0)
print(json.dumps({"exitCode": os.waitstatus_to_exitcode(status), "output": out.decode("utf-8", "replace"), "failedStep": failed}))
