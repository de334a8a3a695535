"""Serve a folder of MNIST files on 127.0.0.1 as a stand-in for torchvision's MNIST mirrors, so CI can prove the
learner's online path (torchvision's download) without the internet. Prints the mirror's URL, then serves until killed.
Usage: python .ci/mnist_mirror.py FOLDER [PORT]"""
import functools, http.server, sys

class QuietHandler(http.server.SimpleHTTPRequestHandler):
    def log_message(self, *args): pass  # keep CI's log readable

class Server(http.server.ThreadingHTTPServer):
    def handle_error(self, request, client_address):
        pass  # torchvision opens each URL once to follow redirects and hangs up: not an error

folder = sys.argv[1]
port = int(sys.argv[2]) if len(sys.argv) > 2 else 0
server = Server(("127.0.0.1", port), functools.partial(QuietHandler, directory=folder))
print(f"http://127.0.0.1:{server.server_address[1]}/", flush=True)
server.serve_forever()
