"""raven.wls.server: a real HTTP server on loopback that starts and stops cleanly."""

from __future__ import annotations

import logging
import socket
import threading
import time

import pytest
import requests

from raven.wls.server import (
    LiveServer,
    NotLoopbackError,
    redact_responses,
    serve,
)


def hello(environ, start_response):
    body = f"hello from {environ['PATH_INFO']}".encode()
    start_response("200 OK", [("Content-Type", "text/plain"), ("Content-Length", str(len(body)))])
    return [body]


def test_serve_yields_a_working_base_url():
    with serve(hello) as url:
        assert url.startswith("http://127.0.0.1:")
        assert int(url.rsplit(":", 1)[1]) > 0
        r = requests.get(url + "/x", timeout=5)
        assert r.status_code == 200 and r.text == "hello from /x"
    with pytest.raises(requests.ConnectionError):
        requests.get(url + "/x", timeout=5)


def test_stop_ends_idle_connections_promptly():
    # A browser opens spare connections and may send nothing on them.
    server = LiveServer(hello).start()
    opened = threading.Event()
    track = server._opened

    def opened_and_told(conn):
        track(conn)
        opened.set()

    server._opened = opened_and_told
    idle = socket.create_connection(("127.0.0.1", server.port))
    try:
        assert opened.wait(5), "the server never picked up the connection"
        [handler_thread] = server._connections.values()
        started = time.monotonic()
        server.stop()
        assert time.monotonic() - started < 2
        assert not handler_thread.is_alive()
        assert idle.recv(100) == b""  # closed by the server
    finally:
        idle.close()


def test_stop_lets_an_answer_in_progress_finish():
    entered, stop_waits = threading.Event(), threading.Event()

    def slow(environ, start_response):
        # Answer only once stop() has ended reading and waits for this thread.
        me = threading.current_thread()
        join = me.join

        def joined(timeout=None):
            stop_waits.set()
            join(timeout)

        me.join = joined
        entered.set()
        assert stop_waits.wait(5), "stop() never waited for the answer"
        start_response("200 OK", [("Content-Length", "4")])
        return [b"done"]

    server = LiveServer(slow).start()
    results = []
    t = threading.Thread(target=lambda: results.append(requests.get(server.url, timeout=10)))
    t.start()
    assert entered.wait(5)
    server.stop()
    t.join()
    assert stop_waits.is_set()
    assert results[0].text == "done"


def test_requests_are_served_concurrently():
    barrier = threading.Barrier(2, timeout=5)

    def waits_for_a_partner(environ, start_response):
        barrier.wait()  # breaks (and the test fails) if requests run one at a time
        start_response("200 OK", [("Content-Length", "2")])
        return [b"ok"]

    with serve(waits_for_a_partner) as url:
        results = []
        threads = [
            threading.Thread(target=lambda: results.append(requests.get(url, timeout=10)))
            for _ in range(2)
        ]
        for t in threads:
            t.start()
        for t in threads:
            t.join()
    assert [r.status_code for r in results] == [200, 200]


def test_port_is_known_before_start_and_a_busy_port_fails_at_once():
    server = LiveServer(hello)
    try:
        assert server.port > 0 and repr(server).endswith("stopped>")
        with pytest.raises(OSError):
            LiveServer(hello, port=server.port)
    finally:
        server.stop()


def test_refuses_non_loopback_hosts_before_binding():
    for host in ("0.0.0.0", "::", "192.0.2.1", "example.org"):
        with pytest.raises(NotLoopbackError):
            LiveServer(hello, host)


def test_ipv6_loopback():
    try:
        socket.create_server(("::1", 0), family=socket.AF_INET6).close()
    except OSError:
        pytest.skip("no IPv6 loopback here")
    with serve(hello, "::1") as url:
        assert url.startswith("http://[::1]:")
        assert requests.get(url + "/v6", timeout=5).text == "hello from /v6"


def test_the_access_log_never_holds_a_response(caplog):
    import requests as http

    from raven.wls.server import LiveServer

    def app(environ, start_response):
        start_response("200 OK", [("Content-Type", "text/plain")])
        return [b"ok"]

    caplog.set_level(logging.INFO, logger="werkzeug")
    with LiveServer(app, quiet=False) as server:
        http.get(server.url + "/back?a=1&WLS-Response=3!200!secret-signature&b=2", timeout=5)
    logged = caplog.text
    assert "/back?a=1&WLS-Response=[not logged]&b=2" in logged
    assert "secret-signature" not in logged


def test_the_environ_says_where_the_server_listens():
    def where(environ, start_response):
        start_response("200 OK", [("Content-Type", "text/plain")])
        return [environ["raven.listening_host"].encode()]

    with serve(where) as url:
        assert requests.get(url, timeout=5, headers={"Host": "elsewhere"}).text == "127.0.0.1"


SECRET = "3!200!!20240101T000000Z!1-2!http%3A%2F%2Fa%2F!test0001!current!pwd!!7200!!901!secret-sig"


@pytest.mark.parametrize("name", [
    "WLS-Response", "WLS%2DResponse", "WLS%2dResponse", "wls-response", "Wls-Response",
    "%57LS-Response", "%57%4C%53%2D%52%65%73%70%6F%6E%73%65", "WLS%252DResponse",
])
@pytest.mark.parametrize("value", [
    SECRET, SECRET.replace("!", "%21"), "3%21200+secret-sig%20x%26y", "a=b=secret-sig",
])
def test_redact_responses_however_spelt(name, value):
    line = f"GET /back?a=1&{name}={value}&b=2 HTTP/1.1"
    assert redact_responses(line) == f"GET /back?a=1&{name}=[not logged]&b=2 HTTP/1.1"


@pytest.mark.parametrize("url, expected", [
    ("/?WLS-Response=secret-sig", "/?WLS-Response=[not logged]"),
    ("/?a?WLS-Response=secret-sig", "/?a?WLS-Response=[not logged]"),
    ("/?x=1&WLS-Response=", "/?x=1&WLS-Response=[not logged]"),
    ("/?WLS-Responses=kept&WLS_Response=kept", "/?WLS-Responses=kept&WLS_Response=kept"),
    ("/WLS-Response=kept", "/WLS-Response=kept"),
])
def test_redact_responses_only_hides_responses(url, expected):
    assert redact_responses(url) == expected


def _raw(port: int, request_line: bytes) -> bytes:
    with socket.create_connection(("127.0.0.1", port), timeout=5) as conn:
        conn.sendall(request_line + b"\r\nHost: 127.0.0.1\r\nConnection: close\r\n\r\n")
        data = b""
        while chunk := conn.recv(65536):
            data += chunk
    return data


def test_the_access_log_never_holds_a_response_however_spelt(caplog):
    caplog.set_level(logging.INFO, logger="werkzeug")
    with LiveServer(hello, quiet=False) as server:
        for name in ("WLS%2DResponse", "wls-response", "%57LS%2DResponse"):
            for value in (SECRET, "3%21200%21secret-sig%20more", "secret-sig+more"):
                _raw(server.port, f"GET /back?{name}={value}&b=2 HTTP/1.1".encode())
        # A request line the server cannot parse is logged as it came.
        _raw(server.port, f"GET /back?WLS-Response={SECRET} HTTP/9.9".encode())
        _raw(server.port, f"GET /back?WLS-Response={SECRET} x y".encode())
    logged = caplog.text
    assert "secret-sig" not in logged
    assert logged.count("[not logged]") == 11
    assert "HTTP/9.9" in logged  # the bad requests were logged, redacted
