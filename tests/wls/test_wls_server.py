"""raven.wls.server: a real HTTP server on loopback that starts and stops cleanly."""

from __future__ import annotations

import logging
import socket
import threading
import time

import pytest
import requests

from raven.wls.server import LiveServer, NotLoopbackError, is_loopback, serve


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
    idle = socket.create_connection(("127.0.0.1", server.port))
    try:
        deadline = time.monotonic() + 5
        while not server._connections and time.monotonic() < deadline:
            time.sleep(0.01)
        assert server._connections, "the server never picked up the connection"
        [handler_thread] = server._connections.values()
        started = time.monotonic()
        server.stop()
        assert time.monotonic() - started < 2
        assert not handler_thread.is_alive()
        assert idle.recv(100) == b""  # closed by the server
    finally:
        idle.close()


def test_stop_lets_an_answer_in_progress_finish():
    entered = threading.Event()

    def slow(environ, start_response):
        entered.set()
        time.sleep(0.3)
        start_response("200 OK", [("Content-Length", "4")])
        return [b"done"]

    server = LiveServer(slow).start()
    results = []
    t = threading.Thread(target=lambda: results.append(requests.get(server.url, timeout=10)))
    t.start()
    assert entered.wait(5)
    server.stop()
    t.join()
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


@pytest.mark.parametrize(
    "host, expected",
    [("127.0.0.1", True), ("127.1.2.3", True), ("::1", True), ("[::1]", True),
     ("localhost", True), ("0.0.0.0", False), ("::", False), ("10.0.0.1", False),
     ("example.org", False), ("", False), ("127.0.0.1.example.org", False)],
)
def test_is_loopback(host, expected):
    assert is_loopback(host) is expected


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
