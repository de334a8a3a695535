"""Serve a folder of MNIST files on 127.0.0.1 as a stand-in for torchvision's MNIST mirrors, so CI can prove the
learner's online path (torchvision's download) without the internet. Prints the mirror's URL, then serves until killed.
Usage: python .ci/mnist_mirror.py FOLDER [PORT]"""
import functools, http.server, sys, threading

folder = sys.argv[1]
port = int(sys.argv[2]) if len(sys.argv) > 2 else 0
handler = functools.partial(http.server.SimpleHTTPRequestHandler, directory=folder)
handler.log_message = lambda *a, **k: None  # keep CI's log readable
server = http.server.ThreadingHTTPServer(("127.0.0.1", port), handler)
print(f"http://127.0.0.1:{server.server_address[1]}/", flush=True)
server.serve_forever()
