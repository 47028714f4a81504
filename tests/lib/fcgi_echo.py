#!/usr/bin/env python3
"""A tiny FastCGI responder that answers every request with its parameters.

Used to check what each web server passes to the FastCGI application
(REQUEST_URI, REMOTE_ADDR, HTTPS, SSL_CLIENT_CERT, forwarded headers, the body
length) independently of certward itself.

    fcgi_echo.py SOCKET_PATH [MODE_OCTAL [GROUP]]

The reply body is JSON: {"params": {...}, "stdin_length": N}. A request whose
CONTENT_LENGTH exceeds BODY_CAP is answered 413 as soon as its parameters
have arrived, before any of the body is read (as certward does), so the tests
can see whether a web server passes such an early answer on.
Standard library only; one thread per connection; FCGI_KEEP_CONN honoured.
"""

import grp
import json
import os
import socket
import struct
import sys
import threading

FCGI_BEGIN_REQUEST = 1
FCGI_ABORT_REQUEST = 2
FCGI_END_REQUEST = 3
FCGI_PARAMS = 4
FCGI_STDIN = 5
FCGI_STDOUT = 6
FCGI_GET_VALUES = 9
FCGI_GET_VALUES_RESULT = 10
FCGI_UNKNOWN_TYPE = 11
FCGI_KEEP_CONN = 1
HEADER = struct.Struct("!BBHHBB")
BODY_CAP = 1 << 20


def _read_exact(conn, n):
    buf = bytearray()
    while len(buf) < n:
        chunk = conn.recv(n - len(buf))
        if not chunk:
            raise EOFError
        buf += chunk
    return bytes(buf)


def _read_record(conn):
    version, rtype, req_id, clen, plen, _ = HEADER.unpack(_read_exact(conn, HEADER.size))
    if version != 1:
        raise ValueError("bad FastCGI version")
    content = _read_exact(conn, clen) if clen else b""
    if plen:
        _read_exact(conn, plen)
    return rtype, req_id, content


def _record(rtype, req_id, content=b""):
    out = bytearray()
    pos = 0
    while True:
        part = content[pos:pos + 65535]
        pad = (8 - len(part) % 8) % 8
        out += HEADER.pack(1, rtype, req_id, len(part), pad, 0) + part + b"\0" * pad
        pos += len(part)
        if pos >= len(content):
            return bytes(out)


def _decode_pairs(data):
    pairs = {}
    pos = 0

    def length():
        nonlocal pos
        if data[pos] & 0x80:
            value = struct.unpack("!I", data[pos:pos + 4])[0] & 0x7FFFFFFF
            pos += 4
        else:
            value = data[pos]
            pos += 1
        return value

    while pos < len(data):
        nlen = length()
        vlen = length()
        name = data[pos:pos + nlen].decode("latin-1")
        pos += nlen
        pairs[name] = data[pos:pos + vlen].decode("latin-1")
        pos += vlen
    return pairs


def _encode_pair(name, value):
    def enc(n):
        return bytes([n]) if n < 128 else struct.pack("!I", n | 0x80000000)
    return enc(len(name)) + enc(len(value)) + name + value


def _reply(conn, req_id, status, doc):
    body = json.dumps(doc).encode()
    head = (b"Status: " + status + b"\r\nContent-Type: application/json\r\n"
            b"Content-Length: " + str(len(body)).encode() + b"\r\n\r\n")
    conn.sendall(_record(FCGI_STDOUT, req_id, head + body)
                 + _record(FCGI_STDOUT, req_id)
                 + _record(FCGI_END_REQUEST, req_id, b"\0" * 8))


def _read_request(conn):
    """Read one request up to the end of its parameters: (id, keep, params)."""
    params = bytearray()
    req_id = None
    keep = False
    while True:
        rtype, rid, content = _read_record(conn)
        if rtype == FCGI_GET_VALUES:
            reply = b"".join(_encode_pair(k, v) for k, v in (
                (b"FCGI_MAX_CONNS", b"64"), (b"FCGI_MAX_REQS", b"64"), (b"FCGI_MPXS_CONNS", b"0")))
            conn.sendall(_record(FCGI_GET_VALUES_RESULT, 0, reply))
        elif rtype == FCGI_BEGIN_REQUEST:
            req_id = rid
            keep = bool(content[2] & FCGI_KEEP_CONN)
        elif rtype == FCGI_PARAMS:
            if not content:
                return req_id, keep, _decode_pairs(bytes(params))
            params += content
        elif rtype != FCGI_ABORT_REQUEST:
            conn.sendall(_record(FCGI_UNKNOWN_TYPE, 0, bytes([rtype]) + b"\0" * 7))


def _read_stdin(conn):
    """Consume the body; returns its length (None if the request was aborted)."""
    total = 0
    while True:
        rtype, _, content = _read_record(conn)
        if rtype == FCGI_ABORT_REQUEST:
            return None
        if rtype == FCGI_STDIN:
            if not content:
                return total
            total += len(content)


def _serve_connection(conn):
    try:
        while True:
            req_id, keep, params = _read_request(conn)
            announced = params.get("CONTENT_LENGTH") or "0"
            if announced.isdigit() and int(announced) > BODY_CAP:
                _reply(conn, req_id, b"413 Payload Too Large",
                       {"params": params, "stdin_length": 0})
                if not keep or _read_stdin(conn) is None:
                    return
                continue
            length = _read_stdin(conn)
            if length is None:
                return
            _reply(conn, req_id, b"200 OK", {"params": params, "stdin_length": length})
            if not keep:
                return
    except (EOFError, ConnectionError, ValueError, IndexError):
        return
    finally:
        conn.close()


def main(argv):
    path = argv[1]
    mode = int(argv[2], 8) if len(argv) > 2 else 0o660
    group = argv[3] if len(argv) > 3 else ""
    if os.path.exists(path):
        os.unlink(path)
    srv = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    srv.bind(path)
    os.chmod(path, mode)
    if group:
        os.chown(path, -1, grp.getgrnam(group).gr_gid)
    srv.listen(128)
    while True:
        conn, _ = srv.accept()
        threading.Thread(target=_serve_connection, args=(conn,), daemon=True).start()


if __name__ == "__main__":
    main(sys.argv)
