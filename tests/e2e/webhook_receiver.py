"""A webhook receiver for the e2e tests (docs/webhooks.md): an HTTP server on 127.0.0.1 (a thread
per request) that checks each POST's X-Warmline-Signature with its own copy of the secret exactly as
docs/webhooks.md tells receivers to, and answers:
- 401 when the signature does not verify (or the timestamp is not within 5 minutes);
- 503 while `failing` is set (an outage the gateway must ride out with retries);
- 200 otherwise, keeping the event.
Everything is logged in arrival order; the gateway sends one event at a time, so that is its order."""
import hashlib
import hmac
import json
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

from harness import wait_for


def verify(secret, timestamp, body, signature, now=None, tolerance_s=300):
    """docs/webhooks.md's recipe: HMAC-SHA256 of "<timestamp>.<body>" with the secret, compared in
    constant time, and a timestamp close to now (refuses replays of old requests)."""
    if not timestamp or not timestamp.isdigit():
        return False
    if abs((now or time.time()) - int(timestamp)) > tolerance_s:
        return False
    expected = "sha256=" + hmac.new(secret.encode(), timestamp.encode() + b"." + body, hashlib.sha256).hexdigest()
    return hmac.compare_digest(expected, signature or "")


class WebhookReceiver:
    def __init__(self, case, secret, failing=False):
        self.secret = secret
        self.failing = failing
        self.lock = threading.Lock()
        self.events = []    # the accepted events (parsed), in arrival order
        self.attempts = []  # (status we answered, the event's id or None), every POST in order
        receiver = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self):
                body = self.rfile.read(int(self.headers.get("Content-Length", "0")))
                ok = verify(receiver.secret, self.headers.get("X-Warmline-Timestamp"), body,
                            self.headers.get("X-Warmline-Signature"))
                try:
                    event = json.loads(body)
                except ValueError:
                    event = None
                with receiver.lock:
                    status = 401 if not ok else 503 if receiver.failing else 200
                    if (self.path, self.headers.get("Content-Type")) != ("/hooks/warmline", "application/json"):
                        status = 400
                    receiver.attempts.append((status, event.get("id") if isinstance(event, dict) else None))
                    if status == 200:
                        receiver.events.append(event)
                self.send_response(status)
                self.send_header("Content-Length", "0")
                self.end_headers()

            def log_message(self, *args):
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.server.daemon_threads = True
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)
        self.thread.start()
        case.addCleanup(self.close)

    @property
    def url(self):
        return f"http://127.0.0.1:{self.server.server_address[1]}/hooks/warmline"

    def set_failing(self, failing):
        with self.lock:
            self.failing = failing

    def received(self):
        with self.lock:
            return list(self.events)

    def answered(self):
        with self.lock:
            return list(self.attempts)

    def wait_events(self, count, timeout, what):
        """The accepted events once there are at least `count` of them."""
        return wait_for(lambda: len(self.received()) >= count and self.received(), timeout, what)

    def close(self):
        self.server.shutdown()
        self.server.server_close()


def webhooks_toml(url, events=None):
    """A [webhooks] table; the secret comes from the gateway's environment (WARMLINE_WEBHOOK_SECRET),
    as docs/webhooks.md recommends. It is passed to Gateway as `extra_trunks`, the config text's slot
    between the [[trunk]] and [[agent]] tables, where a new table may start."""
    lines = ["", "[webhooks]", f'url = "{url}"', 'secret = "${WARMLINE_WEBHOOK_SECRET}"', "max_attempts = 20"]
    if events:
        lines.append(f"events = {json.dumps(events)}")
    return "\n".join(lines) + "\n"
