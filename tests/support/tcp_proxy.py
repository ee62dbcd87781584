"""A TCP proxy the tests can cut and restore: the web and worker reach PostgreSQL (or Redis)
through it, so "the database is unreachable" is a real network fault for them while the
machine's PostgreSQL (and the test process's own connection) carries on. ``silence`` makes
the connections already open go quiet without closing them (no FIN, no RST: a half-open
connection, as a NAT or a proxy that dropped the flow leaves it), while new ones pass.
``partition`` is a network partition: the open connections go quiet, and new ones are
accepted and never answered (or, ``hanging=True``, their connects hang: no handshake
completes, as when the packets are dropped), until ``heal``."""

from __future__ import annotations

import contextlib
import socket
import threading
import time


class TcpProxy:
    def __init__(self, target_host: str, target_port: int):
        self.target = (target_host, target_port)
        self._listener = socket.create_server(("127.0.0.1", 0))
        self.port = self._listener.getsockname()[1]
        self._hanging: list[socket.socket] = []
        self._connections: set[socket.socket] = set()
        self._silenced: set[socket.socket] = set()
        self._lock = threading.Lock()
        self._open = threading.Event()
        self._open.set()
        self._partitioned = threading.Event()
        threading.Thread(target=self._accept, daemon=True).start()

    def cut(self) -> None:
        """Close every connection through the proxy and refuse new ones until ``restore``."""
        self._open.clear()
        with self._lock:
            for conn in self._connections:
                with contextlib.suppress(OSError):
                    conn.shutdown(socket.SHUT_RDWR)
                conn.close()
            self._connections.clear()

    def restore(self) -> None:
        self._open.set()

    def silence(self) -> None:
        """The connections open now pass nothing more either way, and stay open: what is
        sent is read and dropped, so the sender sees no error and gets no answer."""
        with self._lock:
            self._silenced |= self._connections

    def partition(self, *, hanging: bool = False) -> None:
        """Nothing passes either way, and nothing closes: open connections go quiet, new
        ones are accepted and then never answered; ``hanging``: new connects hang."""
        self._partitioned.set()
        self.silence()
        if hanging:
            # A listener nobody accepts from, its queue full: the kernel drops every
            # further handshake, and the client's connect waits for its own timeout.
            with contextlib.suppress(OSError):
                self._listener.shutdown(socket.SHUT_RDWR)  # wakes the accepting thread
            self._listener.close()
            time.sleep(0.1)  # the thread leaves accept() and the port is free
            stuck = socket.socket()
            stuck.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
            stuck.bind(("127.0.0.1", self.port))
            stuck.listen(0)
            filler = socket.create_connection(("127.0.0.1", self.port), timeout=5)
            self._hanging = [stuck, filler]

    def heal(self) -> None:
        """New connections pass again (those of the partition stay dead, as their peers'
        timeouts will find)."""
        if self._hanging:
            for conn in self._hanging:
                conn.close()
            self._hanging = []
            self._listener = socket.create_server(("127.0.0.1", self.port))
            threading.Thread(target=self._accept, daemon=True).start()
        self._partitioned.clear()

    def close(self) -> None:
        self.cut()
        for conn in self._hanging:
            conn.close()
        self._listener.close()

    def _accept(self) -> None:
        while True:
            try:
                client, _ = self._listener.accept()
            except OSError:
                return
            if not self._open.is_set():
                client.close()
                continue
            if self._partitioned.is_set():
                with self._lock:
                    self._connections.add(client)
                    self._silenced.add(client)
                threading.Thread(target=self._pipe, args=(client, client), daemon=True).start()
                continue
            try:
                upstream = socket.create_connection(self.target, timeout=5)
            except OSError:
                client.close()
                continue
            upstream.settimeout(None)  # the timeout was for connecting: an idle flow stays
            with self._lock:
                self._connections |= {client, upstream}
            for source, sink in ((client, upstream), (upstream, client)):
                threading.Thread(target=self._pipe, args=(source, sink), daemon=True).start()

    def _pipe(self, source: socket.socket, sink: socket.socket) -> None:
        try:
            while chunk := source.recv(65536):
                if source not in self._silenced:
                    sink.sendall(chunk)
        except OSError:
            pass
        finally:
            for conn in (source, sink):
                with contextlib.suppress(OSError):
                    conn.shutdown(socket.SHUT_RDWR)
