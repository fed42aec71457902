"""deploy/nginx.conf in front of two nodes that misbehave, run by the real nginx.

Two small HTTP servers stand in for the app nodes: what is checked is nginx's side — which
answers it passes on, when it takes a node out, and what a reader gets meanwhile.
"""

from __future__ import annotations

import http.client
import shutil
import socket
import subprocess
import sys
import tempfile
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
pytestmark = pytest.mark.skipif(shutil.which("nginx") is None, reason="nginx is not installed")


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


class Node(ThreadingHTTPServer):
    """Answers every request with `self.status` (a database that went away: 503, Retry-After)."""

    daemon_threads = True

    def __init__(self) -> None:
        self.status = 200
        self.seen = 0
        node = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def answer(self) -> None:
                node.seen += 1
                length = int(self.headers.get("Content-Length") or 0)
                self.rfile.read(length)
                body = b"ok" if node.status == 200 else b"busy"
                self.send_response(node.status)
                if node.status == 503:
                    self.send_header("Retry-After", "5")
                self.send_header("Content-Type", "text/plain")
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)

            do_GET = do_POST = answer

            def log_message(self, *args) -> None:
                pass

        super().__init__(("127.0.0.1", 0), Handler)
        threading.Thread(target=self.serve_forever, daemon=True).start()

    @property
    def address(self) -> str:
        return f"127.0.0.1:{self.server_address[1]}"


@pytest.fixture
def nginx_before_two_nodes():
    sys.path.insert(0, str(ROOT / "deploy"))
    try:
        from render_nginx import render
    finally:
        sys.path.remove(str(ROOT / "deploy"))
    nodes = [Node(), Node()]
    # nginx's workers (nobody, under a root master) must reach the cache and log folders.
    prefix = Path(tempfile.mkdtemp(prefix="fanwen-nginx-"))
    for sub in ("run", "log", "cache", "conf", "static"):
        (prefix / sub).mkdir()
    for path in (prefix, *prefix.iterdir()):
        path.chmod(0o777)
    shutil.copy(ROOT / "deploy" / "fanwen-proxy.conf", prefix / "conf")
    port = free_port()
    conf = render(
        listen=f"127.0.0.1:{port}",
        server_name="127.0.0.1",
        upstreams=[node.address for node in nodes],
        static_root=str(prefix / "static"),
        run_dir=str(prefix / "run"),
        log_dir=str(prefix / "log"),
        cache_dir=str(prefix / "cache"),
        conf_dir=str(prefix / "conf"),
        tls=False,
    )
    (prefix / "nginx.conf").write_text(conf)
    command = ["nginx", "-p", str(prefix), "-c", str(prefix / "nginx.conf")]
    subprocess.run(command, check=True, capture_output=True)
    deadline = time.monotonic() + 10
    while time.monotonic() < deadline:
        try:
            socket.create_connection(("127.0.0.1", port), timeout=1).close()
            break
        except OSError:
            time.sleep(0.05)
    try:
        yield port, nodes
    finally:
        subprocess.run([*command, "-s", "stop"], capture_output=True)
        for node in nodes:
            node.shutdown()
        shutil.rmtree(prefix, ignore_errors=True)


def ask(port: int, method: str, path: str) -> int:
    connection = http.client.HTTPConnection("127.0.0.1", port, timeout=10)
    try:
        connection.request(method, path, body=b"{}" if method == "POST" else None)
        answer = connection.getresponse()
        answer.read()
        return answer.status
    finally:
        connection.close()


def test_while_the_database_is_away_every_request_gets_the_apps_503_never_a_502(
    nginx_before_two_nodes,
):
    port, nodes = nginx_before_two_nodes
    assert ask(port, "GET", "/account/purchases/") == 200
    # Both nodes say the database went away (as fanwen.lib.busy does during a restart).
    for node in nodes:
        node.status = 503
    answers = [ask(port, method, "/pay/orders/") for method in ("GET", "POST") * 10]
    # The app's answer, with its Retry-After; not nginx's "no live upstreams" 502 after it
    # counted each 503 as a node failing and took both nodes out.
    assert answers == [503] * 20
    # And each request went to one node only: a 503 is not retried on the other.
    assert sum(node.seen for node in nodes) == 1 + 20
    for node in nodes:
        node.status = 200
    assert ask(port, "POST", "/pay/orders/") == 200
