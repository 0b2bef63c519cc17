"""The site as deploy/start.sh runs it: gunicorn with deploy/gunicorn.conf.py, over real sockets.

A body announced over the limit is refused from its headers (a client that asks first with
``Expect: 100-continue`` is never invited to send it, and one that sends anyway is cut off), and slow
clients do not stop the site answering others.
"""

from __future__ import annotations

import json

import pytest

from tests.deploy.servers import (
    answers_while_stalled,
    free_port,
    read_response,
    send_headers,
    start_gunicorn,
    stop,
)

FIFTY_MB = 50 * 1024 * 1024


@pytest.fixture(scope="module")
def site(tmp_path_factory):
    port = free_port()
    proc = start_gunicorn(tmp_path_factory.mktemp("var"), port)
    yield port
    stop(proc)


def test_a_client_that_asks_first_is_refused_without_sending_the_body(site):
    sock = send_headers(site, "Expect: 100-continue\r\n")
    answer = read_response(sock)  # nothing of the body was sent
    head, _, body = answer.partition(b"\r\n\r\n")
    assert head.startswith(b"HTTP/1.1 413"), answer[:200]
    assert b"100 Continue" not in head
    assert json.loads(body)["error"]["code"] == "too_large"
    assert b"connection: close" in head.lower()
    sock.close()


def test_a_client_that_sends_anyway_is_answered_and_cut_off(site):
    sock = send_headers(site)
    answer = read_response(sock)  # answered from the headers, while the body is still to come
    assert answer.startswith(b"HTTP/1.1 413"), answer[:200]
    # The server does not read (or store) the 50 MB: it closes the connection.
    sock.settimeout(10)
    sent = 0
    try:
        while sent < FIFTY_MB:
            sent += sock.send(b"x" * 65536)
    except OSError:
        pass
    assert sent < FIFTY_MB // 2
    sock.close()


def test_slow_clients_do_not_stop_the_site_answering(site):
    # More stalled clients than gunicorn's two worker processes: sync workers would all be held.
    for answer in answers_while_stalled(site, 6):
        assert answer.startswith(b"HTTP/1.1 404") and b'"not_found"' in answer
