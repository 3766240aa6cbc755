"""A small HTTP service: after DELAY seconds it listens on 127.0.0.1:PORT and answers
GET /health with 200 `ok`. Usage: http_service.py PORT [DELAY]."""

import sys
import time
from http.server import BaseHTTPRequestHandler, HTTPServer


class Health(BaseHTTPRequestHandler):
    def do_GET(self):  # noqa: N802 (the name http.server calls)
        body = b"ok" if self.path == "/health" else b"no such page"
        self.send_response(200 if self.path == "/health" else 404)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, *args):
        pass


time.sleep(float(sys.argv[2]) if len(sys.argv) > 2 else 0.0)
print("listening", flush=True)
HTTPServer(("127.0.0.1", int(sys.argv[1])), Health).serve_forever()
