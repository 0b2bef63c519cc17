"""docker-compose.yml's proxy for real: nginx running deploy/nginx.conf in front of gunicorn.

Slow clients cost nginx a connection and the site nothing, a body over the cap is refused from its
headers with the API's JSON error, and ordinary uploads go through.
"""

from __future__ import annotations

import json
import socket

import pytest

from tests.deploy.servers import (
    answers_while_stalled,
    free_port,
    read_response,
    send_headers,
    start_gunicorn,
    start_nginx,
    stop,
)
from tests.web.helpers import png_bytes


@pytest.fixture(scope="module")
def proxy(tmp_path_factory):
    site_port, proxy_port = free_port(), free_port()
    # One process with two threads: without the proxy, two stalled clients would hold the whole site.
    site = start_gunicorn(tmp_path_factory.mktemp("var"), site_port, "--workers", "1", "--threads", "2")
    nginx = start_nginx(tmp_path_factory.mktemp("nginx"), proxy_port, site_port)
    yield proxy_port
    stop(nginx)
    stop(site)


def test_a_body_over_the_cap_is_refused_before_it_is_sent(proxy):
    sock = send_headers(proxy, "Expect: 100-continue\r\n")
    head, _, body = read_response(sock).partition(b"\r\n\r\n")
    sock.close()
    assert head.startswith(b"HTTP/1.1 413") and b"100 Continue" not in head
    assert json.loads(body)["error"]["code"] == "too_large"


def test_many_slow_clients_hold_no_site_thread(proxy):
    for answer in answers_while_stalled(proxy, 20):
        assert answer.startswith(b"HTTP/1.1 404") and b'"not_found"' in answer


def test_an_upload_goes_through_the_proxy(proxy):
    png = png_bytes()
    body = (b"--B\r\nContent-Disposition: form-data; name=\"image\"; filename=\"d.png\"\r\n"
            b"Content-Type: image/png\r\n\r\n" + png + b"\r\n--B--\r\n")
    sock = socket.create_connection(("127.0.0.1", proxy), timeout=30)
    sock.sendall(b"POST /api/v1/recognitions/ HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\n"
                 b"Content-Type: multipart/form-data; boundary=B\r\n"
                 + f"Content-Length: {len(body)}\r\n\r\n".encode() + body)
    head, _, answer = read_response(sock).partition(b"\r\n\r\n")
    sock.close()
    assert head.startswith(b"HTTP/1.1 202"), head + answer
    assert json.loads(answer)["status"] == "queued"
