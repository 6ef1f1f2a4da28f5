#!/usr/bin/env python3
"""The tests' SMTP server: aiosmtpd on 127.0.0.1:PORT, writing each message it receives to
FOLDER as one JSON file (envelope, headers decoded, the text and HTML parts decoded), so the
Rust tests can assert on what arrived. Prints "ready" once it listens; runs until killed.

Usage: smtp_sink.py PORT FOLDER [RCPT_DELAY_MS]   (needs python3-aiosmtpd)

RCPT_DELAY_MS makes each RCPT TO wait that long before its answer: a sender killed meanwhile
has delivered nothing.
"""
import asyncio
import email
import email.policy
import itertools
import json
import os
import signal
import sys

from aiosmtpd.controller import Controller


class Sink:
    def __init__(self, folder, rcpt_delay):
        self.folder = folder
        self.rcpt_delay = rcpt_delay
        self.count = itertools.count()

    async def handle_RCPT(self, server, session, envelope, address, rcpt_options):
        if self.rcpt_delay:
            await asyncio.sleep(self.rcpt_delay)
        envelope.rcpt_tos.append(address)
        return "250 OK"

    async def handle_DATA(self, server, session, envelope):
        message = email.message_from_bytes(envelope.content, policy=email.policy.default)

        def part(kind):
            body = message.get_body(preferencelist=(kind,))
            return body.get_content() if body is not None else None

        record = {
            "mail_from": envelope.mail_from,
            "rcpt_tos": envelope.rcpt_tos,
            "headers": [[name, str(value)] for name, value in message.items()],
            "content_type": message.get_content_type(),
            "text": part("plain"),
            "html": part("html"),
        }
        name = "%d-%06d.json" % (os.getpid(), next(self.count))
        temp = os.path.join(self.folder, name + ".tmp")
        with open(temp, "w", encoding="utf-8") as out:
            json.dump(record, out)
        os.rename(temp, os.path.join(self.folder, name))
        return "250 OK"


def main():
    port, folder = int(sys.argv[1]), sys.argv[2]
    rcpt_delay = int(sys.argv[3]) / 1000 if len(sys.argv) > 3 else 0
    controller = Controller(Sink(folder, rcpt_delay), hostname="127.0.0.1", port=port)
    controller.start()
    print("ready", flush=True)
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(0))
    try:
        signal.pause()
    finally:
        controller.stop()


if __name__ == "__main__":
    main()
