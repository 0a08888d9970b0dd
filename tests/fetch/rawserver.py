"""Raw-socket servers on loopback for the fetch stage's fault tests: each answers exactly as
badly as a test needs (a status line and silence, a body that stops, a refused port)."""

from __future__ import annotations

import contextlib
import socket
import threading
import time
from collections.abc import Callable, Iterator


@contextlib.contextmanager
def raw_server(
    handle: Callable[[socket.socket], None], host: str = "127.0.0.2", *, greet: bytes = b""
) -> Iterator[tuple[str, list[bytes]]]:
    """A server that runs ``handle(conn)`` for each connection; yields (base URL, requests).
    ``greet`` is sent as soon as a connection is accepted, before anything is read."""
    listener = socket.socket()
    listener.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    listener.bind((host, 0))
    listener.listen(16)
    listener.settimeout(0.1)
    seen: list[bytes] = []
    done = threading.Event()
    conns: list[socket.socket] = []

    def serve_one(conn: socket.socket) -> None:
        with contextlib.suppress(OSError):
            conn.settimeout(5)
            if greet:
                conn.sendall(greet)
                time.sleep(0.5)
                return
            data = b""
            while b"\r\n\r\n" not in data:
                part = conn.recv(65536)
                if not part:
                    return
                data += part
            head, _, rest = data.partition(b"\r\n\r\n")
            length = 0
            for line in head.split(b"\r\n"):
                if line.lower().startswith(b"content-length:"):
                    length = int(line.split(b":", 1)[1])
            while len(rest) < length:
                rest += conn.recv(65536)
            seen.append(head + b"\r\n\r\n" + rest)
            handle(conn)

    def loop() -> None:
        while not done.is_set():
            try:
                conn, _ = listener.accept()
            except TimeoutError:
                continue
            except OSError:
                return
            conns.append(conn)
            threading.Thread(target=serve_one, args=(conn,), daemon=True).start()

    thread = threading.Thread(target=loop, daemon=True)
    thread.start()
    try:
        yield f"http://{host}:{listener.getsockname()[1]}", seen
    finally:
        done.set()
        thread.join(2)
        listener.close()
        for conn in conns:
            with contextlib.suppress(OSError):
                conn.close()


def stall(seconds: float) -> Callable[[socket.socket], None]:
    def wait(conn: socket.socket) -> None:
        time.sleep(seconds)

    return wait


def answer(raw: bytes, then: float = 0.0) -> Callable[[socket.socket], None]:
    def send(conn: socket.socket) -> None:
        conn.sendall(raw)
        time.sleep(then)

    return send
