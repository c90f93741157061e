"""A webhook receiver on loopback, shared by the provider tests."""

import queue
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest


@pytest.fixture
def push_receiver():
    """Records (path, headers, raw body) of each POST and answers as the provider expects."""
    posts = queue.Queue()

    class Handler(BaseHTTPRequestHandler):
        def do_POST(self):
            body = self.rfile.read(int(self.headers["Content-Length"]))
            posts.put((self.path, dict(self.headers), body))
            reply = b'{"code": 0, "msg": "\xe6\x88\x90\xe5\x8a\x9f"}'
            self.send_response(200)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(reply)))
            self.end_headers()
            self.wfile.write(reply)

        def log_message(self, *args):
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    thread = threading.Thread(target=server.serve_forever, args=(0.05,), daemon=True)
    thread.start()
    server.url = f"http://127.0.0.1:{server.server_port}"
    server.posts = posts
    yield server
    server.shutdown()
    server.server_close()
    thread.join()
