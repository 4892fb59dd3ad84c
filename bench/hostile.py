#!/usr/bin/env python3
"""Hostile clients for the benchmark's measurements under attack (issue 13). Loopback only,
bounded in time and in connections; each command prints one line of JSON.

  hostile.py hold PORT IDLE SLOW SECONDS
    Holds IDLE connections that send nothing and SLOW slowloris connections (a request head sent
    one byte a second, never finished) for SECONDS, then closes them all. A connection the
    server closes (its idle timeout, a 408 for a slow head) is opened again at once, so that
    IDLE + SLOW are held all along. Prints how many were reopened and how many closes came
    with a 408.
  hostile.py flood PORT N MIB
    N connections at once, each sending a request head of MIB MiB of header lines. Prints the
    status each got (0: closed without one).
"""
import json
import resource
import selectors
import socket
import sys
import time

HEAD = b"GET /healthz HTTP/1.1\r\nHost: bench\r\nX-Slow: " + b"x" * 4096


def hold(port, idle, slow, seconds):
    sel = selectors.DefaultSelector()
    stats = {"idle": idle, "slow": slow, "reopened": 0, "answered_408": 0, "connect_errors": 0}

    def open_one(kind):
        s = socket.socket()
        s.setblocking(False)
        try:
            s.connect(("127.0.0.1", port))
        except BlockingIOError:
            pass
        except OSError:
            stats["connect_errors"] += 1
            s.close()
            return
        sel.register(s, selectors.EVENT_READ, {"kind": kind, "sent": 0})

    for _ in range(idle):
        open_one("idle")
    for _ in range(slow):
        open_one("slow")

    end = time.monotonic() + seconds
    next_byte = time.monotonic()
    while time.monotonic() < end:
        for key, _ in sel.select(timeout=0.2):
            s, state = key.fileobj, key.data
            try:
                data = s.recv(65536)
            except (BlockingIOError, InterruptedError):
                continue
            except OSError:
                data = b""
            if data.startswith(b"HTTP/1.1 408"):
                stats["answered_408"] += 1
            if not data or data.startswith(b"HTTP/"):
                sel.unregister(s)
                s.close()
                stats["reopened"] += 1
                open_one(state["kind"])
        now = time.monotonic()
        if now >= next_byte:  # one more byte of every slow head
            next_byte = now + 1.0
            for key in list(sel.get_map().values()):
                state = key.data
                if state["kind"] == "slow" and state["sent"] < len(HEAD):
                    try:
                        key.fileobj.send(HEAD[state["sent"]:state["sent"] + 1])
                        state["sent"] += 1
                    except OSError:
                        pass
    for key in list(sel.get_map().values()):
        key.fileobj.close()
    print(json.dumps(stats))


def flood(port, n, mib):
    line = b"X-Flood: " + b"a" * 50 + b"\r\n"
    head = b"GET /healthz HTTP/1.1\r\nHost: bench\r\n" + line * ((mib << 20) // len(line))
    socks = [socket.create_connection(("127.0.0.1", port)) for _ in range(n)]
    sel = selectors.DefaultSelector()
    state = {}
    for s in socks:
        s.setblocking(False)
        state[s] = {"sent": 0, "got": b""}
        sel.register(s, selectors.EVENT_READ | selectors.EVENT_WRITE)
    end = time.monotonic() + 30
    while sel.get_map() and time.monotonic() < end:
        for key, events in sel.select(timeout=0.5):
            s, st = key.fileobj, state[key.fileobj]
            if events & selectors.EVENT_READ:
                try:
                    data = s.recv(65536)
                except (BlockingIOError, InterruptedError):
                    data = None
                except OSError:
                    data = b""
                if data:
                    st["got"] += data
                elif data is not None:
                    sel.unregister(s)
                    continue
            if events & selectors.EVENT_WRITE and st["sent"] < len(head):
                try:
                    st["sent"] += s.send(head[st["sent"]:st["sent"] + 262144])
                except (BlockingIOError, InterruptedError):
                    pass
                except OSError:
                    st["sent"] = len(head)
                if st["sent"] >= len(head):
                    sel.modify(s, selectors.EVENT_READ)
    statuses = []
    for s in socks:
        got = state[s]["got"]
        statuses.append(int(got.split(b" ")[1]) if got.startswith(b"HTTP/1.1 ") else 0)
        s.close()
    print(json.dumps({"connections": n, "mib": mib, "statuses": statuses}))


def main():
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    if soft < hard:
        resource.setrlimit(resource.RLIMIT_NOFILE, (hard, hard))
    command, args = sys.argv[1], [int(a) for a in sys.argv[2:]]
    {"hold": hold, "flood": flood}[command](*args)


if __name__ == "__main__":
    main()
