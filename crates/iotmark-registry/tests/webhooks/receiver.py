"""A webhook receiver for the registry's tests, written against an implementation we did not
write: every message is checked with `standardwebhooks` (PyPI, the Standard Webhooks
project's reference library) before it is accepted.

Usage: python receiver.py DIR
Prints "PORT <n>" once listening on 127.0.0.1. Reads, on every request:
  DIR/secret  the subscription's whsec_ secret (until it exists, every request is refused)
  DIR/mode    "up" (accept), "down" (answer 503), or "slow" (log the arrival, wait 2 s,
              then accept)
Appends one JSON line per request to DIR/requests.jsonl, written through to disk before
answering: the webhook-id, the mode, whether the signature verified, the answer, the body.
"""

import json
import os
import sys
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

from standardwebhooks import Webhook, WebhookVerificationError

DIR = sys.argv[1]
LOCK = threading.Lock()


def read(name, default):
    try:
        with open(os.path.join(DIR, name), encoding="utf-8") as f:
            return f.read().strip()
    except FileNotFoundError:
        return default


def record(line):
    with LOCK:
        with open(os.path.join(DIR, "requests.jsonl"), "a", encoding="utf-8") as f:
            f.write(json.dumps(line) + "\n")
            f.flush()
            os.fsync(f.fileno())


class Handler(BaseHTTPRequestHandler):
    def do_POST(self):
        body = self.rfile.read(int(self.headers.get("content-length", "0")))
        mode = read("mode", "up")
        line = {
            "id": self.headers.get("webhook-id"),
            "mode": mode,
            "path": self.path,
            "content_type": self.headers.get("content-type"),
        }
        if mode == "down":
            line.update(verified=None, answer=503)
            record(line)
            return self.answer(503)
        secret = read("secret", None)
        try:
            if secret is None:
                raise WebhookVerificationError("no secret yet")
            line["body"] = Webhook(secret).verify(body, dict(self.headers))
            line["verified"] = True
        except WebhookVerificationError as e:
            line.update(verified=False, error=str(e), answer=401)
            record(line)
            return self.answer(401)
        if mode == "slow":
            record(dict(line, arrived=True))
            time.sleep(2)
        line["answer"] = 204
        record(line)
        self.answer(204)

    def answer(self, code):
        self.send_response(code)
        self.send_header("content-length", "0")
        self.end_headers()

    def log_message(self, *args):
        pass


server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
print(f"PORT {server.server_address[1]}", flush=True)
server.serve_forever()
