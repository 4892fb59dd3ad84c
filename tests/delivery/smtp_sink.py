#!/usr/bin/env python3
"""A real SMTP server for the delivery tests (Debian's python3-aiosmtpd): stores each message it
accepts as DIR/<n>.eml, with the envelope in DIR/<n>.json. Prints "ready" once it listens.

usage: smtp_sink.py PORT DIR

SMTP_SINK_LOG_ONLY=1 (for the benchmarks) stores nothing but one line per message accepted,
"<from> <to>...", appended to DIR/received: the two files and two renames per message cost about
twice the CPU of the SMTP session itself, which on a small machine competes with what is measured.

SMTP_SINK_DELAY_MS=N makes it wait N ms before it answers each message's end of data, as a busy
mail server does (while it waits it serves other sessions): what a slow SMTP server costs the
sender.
"""
import asyncio
import json
import os
import sys
import time

from aiosmtpd.controller import Controller


class Sink:
    def __init__(self, folder, delay, log_only):
        self.folder = folder
        self.delay = delay
        self.count = 0
        self.log = open(os.path.join(folder, "received"), "a", buffering=1) if log_only else None

    async def handle_DATA(self, server, session, envelope):
        if self.delay > 0:
            await asyncio.sleep(self.delay)
        self.count += 1
        if self.log:
            self.log.write(" ".join([envelope.mail_from, *envelope.rcpt_tos]) + "\n")
            return "250 OK"
        base = os.path.join(self.folder, f"{time.time_ns()}-{self.count}")
        with open(base + ".json.tmp", "w") as f:
            json.dump({"from": envelope.mail_from, "to": envelope.rcpt_tos}, f)
        with open(base + ".eml.tmp", "wb") as f:
            f.write(envelope.original_content or envelope.content)
        os.rename(base + ".json.tmp", base + ".json")
        os.rename(base + ".eml.tmp", base + ".eml")
        return "250 OK"


def main():
    port, folder = int(sys.argv[1]), sys.argv[2]
    os.makedirs(folder, exist_ok=True)
    sink = Sink(folder, int(os.environ.get("SMTP_SINK_DELAY_MS", "0")) / 1000,
                os.environ.get("SMTP_SINK_LOG_ONLY") == "1")
    controller = Controller(sink, hostname="127.0.0.1", port=port)
    controller.start()
    print("ready", flush=True)
    try:
        while True:
            time.sleep(3600)
    except KeyboardInterrupt:
        pass
    finally:
        controller.stop()


if __name__ == "__main__":
    main()
