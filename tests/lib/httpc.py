"""Raw HTTP/1.1 over a socket, for requests that HTTP libraries refuse to
send (no Content-Length, a Content-Length larger than the body, ...)."""

import socket
import time


class RawResponse:
    def __init__(self, status, reason, headers, body, elapsed):
        self.status = status
        self.reason = reason
        self.headers = headers          # lower-case name -> value (last wins)
        self.body = body
        self.elapsed = elapsed

    def header(self, name, default=None):
        return self.headers.get(name.lower(), default)

    def json(self):
        import json
        return json.loads(self.body.decode("utf-8"))

    def __repr__(self):
        return f"<RawResponse {self.status} {self.headers} {self.body[:200]!r}>"


def raw_request(host, port, data, timeout=10.0, no_body=False):
    """Send data (bytes, a complete or partial request) and read one
    response. The socket stays open for writing: a server that answers before
    reading the body is seen answering. no_body=True: the answer to a HEAD
    request has no body whatever its headers say. Raises TimeoutError if no complete
    response arrives within timeout seconds."""
    start = time.monotonic()
    deadline = start + timeout
    with socket.create_connection((host, port), timeout=timeout) as s:
        s.sendall(data)
        buf = b""

        def more():
            nonlocal buf
            left = deadline - time.monotonic()
            if left <= 0:
                raise TimeoutError(f"no complete response within {timeout}s; got {buf[:300]!r}")
            s.settimeout(left)
            try:
                chunk = s.recv(65536)
            except socket.timeout:
                raise TimeoutError(f"no complete response within {timeout}s; got {buf[:300]!r}")
            except ConnectionResetError:
                chunk = b""
            if not chunk:
                return False
            buf += chunk
            return True

        while b"\r\n\r\n" not in buf:
            if not more():
                raise ConnectionError(f"connection closed before headers: {buf[:300]!r}")
        head, rest = buf.split(b"\r\n\r\n", 1)
        lines = head.decode("latin-1").split("\r\n")
        parts = lines[0].split(" ", 2)
        status = int(parts[1])
        reason = parts[2] if len(parts) > 2 else ""
        headers = {}
        for line in lines[1:]:
            name, _, value = line.partition(":")
            headers[name.strip().lower()] = value.strip()
        buf = rest
        if no_body or status in (204, 304) or 100 <= status < 200:
            body = b""
        elif "content-length" in headers:
            n = int(headers["content-length"])
            while len(buf) < n:
                if not more():
                    break
            body = buf[:n]
        elif headers.get("transfer-encoding", "").lower() == "chunked":
            body = b""
            while True:
                while b"\r\n" not in buf:
                    if not more():
                        raise ConnectionError("connection closed inside chunked body")
                size_line, buf = buf.split(b"\r\n", 1)
                size = int(size_line.split(b";")[0], 16)
                while len(buf) < size + 2:
                    if not more():
                        raise ConnectionError("connection closed inside chunked body")
                body += buf[:size]
                buf = buf[size + 2:]
                if size == 0:
                    break
        else:
            while more():
                pass
            body = buf
        return RawResponse(status, reason, headers, body, time.monotonic() - start)
