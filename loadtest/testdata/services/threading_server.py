"""A service nobody here wrote the stack of: Python's ThreadingHTTPServer
with a fast handler (/fast) and a CPU-bound one (/slow?n=N, N iterations of
pure Python). Usage: python3 threading_server.py [PORT]; it prints
"listening on http://127.0.0.1:PORT" and ends when its stdin closes."""
import sys
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import parse_qs, urlsplit


class Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    # One write per answer: unbuffered, the head and the body leave apart,
    # and Nagle's algorithm holds the body until the client's delayed ACK
    # of the head, 40 ms later.
    wbufsize = 64 << 10

    def do_GET(self):
        url = urlsplit(self.path)
        if url.path == "/fast":
            body = b"ok"
        elif url.path == "/slow":
            n = int(parse_qs(url.query).get("n", ["1000000"])[0])
            x = 0
            for i in range(n):
                x += i % 7
            body = str(x).encode()
        else:
            self.send_error(404)
            return
        self.send_response(200)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, *args):
        pass


server = ThreadingHTTPServer(("127.0.0.1", int(sys.argv[1]) if len(sys.argv) > 1 else 0), Handler)
server.daemon_threads = True
threading.Thread(target=server.serve_forever, daemon=True).start()
print("listening on http://127.0.0.1:%d" % server.server_address[1], flush=True)
sys.stdin.read()
server.shutdown()
