"""Assertions shared by the integration tests (plain asserts, no pytest import)."""

import json

PROBLEM_KEYS = ("type", "title", "status", "detail", "code")


def _parts(resp):
    """(status, headers-getter, body bytes) for requests.Response or RawResponse."""
    if hasattr(resp, "status_code"):
        return resp.status_code, resp.headers.get, resp.content
    return resp.status, resp.header, resp.body


def describe(resp):
    status, header, body = _parts(resp)
    return f"HTTP {status} content-type={header('Content-Type')!r} body={body[:400]!r}"


def problem(resp, status, code=None):
    """Assert an RFC 7807 application/problem+json answer with the given
    status (and machine code); returns the decoded problem object."""
    got, header, body = _parts(resp)
    assert got == status, f"expected {status}, got {describe(resp)}"
    ctype = header("Content-Type") or ""
    assert ctype.split(";")[0].strip() == "application/problem+json", describe(resp)
    doc = json.loads(body.decode("utf-8"))
    assert isinstance(doc, dict), describe(resp)
    missing = [k for k in PROBLEM_KEYS if k not in doc]
    assert not missing, f"problem lacks {missing}: {doc}"
    assert doc["status"] == status, doc
    assert isinstance(doc["code"], str) and doc["code"], doc
    assert isinstance(doc["title"], str) and doc["title"], doc
    if code is not None:
        assert doc["code"] == code, f"expected code {code!r}, got {doc}"
    assert header("X-Request-Id"), f"no X-Request-Id on {describe(resp)}"
    return doc


def not_5xx(resp, what=""):
    status, _, _ = _parts(resp)
    assert status < 500, f"{what}: {describe(resp)}"


def stderr_lines(text):
    return [line for line in text.splitlines() if line.strip()]
