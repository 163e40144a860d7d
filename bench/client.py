"""The benchmarks' HTTP/1.1 client: one keep-alive connection with its own
cookie jar (a browser, roughly), in asyncio, with no dependencies, so that it
costs little CPU next to the server it measures. Only 127.0.0.1.

Used by load.py (pages and forms, signed in by session cookie) and
quiz_answers.py (the JSON API, signed in by bearer token).
"""

from __future__ import annotations

import asyncio
import json
from dataclasses import dataclass
from http.cookies import SimpleCookie
from typing import Any
from urllib.parse import urlencode

HOST = "127.0.0.1"  # never anything else


class HTTPError(Exception):
    pass


@dataclass
class Answer:
    status: int
    headers: dict[str, list[str]]
    body: bytes

    def json(self) -> Any:
        """The body as JSON; as text when it is not JSON (an error page)."""
        try:
            return json.loads(self.body) if self.body else None
        except ValueError:
            return self.body.decode("utf-8", "replace")


class Connection:
    """`headers`: sent with every request (after Host), e.g. a bearer token.
    `keepalive=False`: a new connection for every request."""

    def __init__(self, port: int, keepalive: bool = True, headers: dict[str, str] | None = None):
        self.port = port
        self.keepalive = keepalive
        self.headers = {"User-Agent": "vle-bench", "Accept": "text/html", "Accept-Language": "en"}
        self.headers.update(headers or {})
        self.reader: asyncio.StreamReader | None = None
        self.writer: asyncio.StreamWriter | None = None
        self.cookies: dict[str, str] = {}

    async def close(self) -> None:
        if self.writer is not None:
            self.writer.close()
            try:
                await self.writer.wait_closed()
            except OSError:
                pass
        self.reader = self.writer = None

    async def request(
        self, method: str, path: str, form: dict[str, str] | None = None, *, json_body: Any = None
    ) -> Answer:
        """Send a request (a form or a JSON body, if any) and read the whole answer.
        A kept-alive connection the server has closed meanwhile is opened again
        once; a fresh connection that fails raises HTTPError."""
        reused = self.writer is not None
        try:
            return await self._request(method, path, form, json_body)
        except (asyncio.IncompleteReadError, ConnectionError) as error:
            await self.close()
            if not reused:
                raise HTTPError(f"{method} {path}: {error!r}") from error
            return await self._request(method, path, form, json_body)

    async def _request(
        self, method: str, path: str, form: dict[str, str] | None, json_body: Any
    ) -> Answer:
        if self.writer is None:
            self.reader, self.writer = await asyncio.open_connection(HOST, self.port)
        assert self.reader is not None
        lines = [f"{method} {path} HTTP/1.1", f"Host: {HOST}:{self.port}"]
        lines += [f"{name}: {value}" for name, value in self.headers.items()]
        if not self.keepalive:
            lines.append("Connection: close")
        if self.cookies:
            lines.append("Cookie: " + "; ".join(f"{k}={v}" for k, v in self.cookies.items()))
        body = b""
        if form is not None:
            body = urlencode(form).encode()
            lines.append("Content-Type: application/x-www-form-urlencoded")
        elif json_body is not None or method in ("POST", "PUT", "PATCH"):
            body = b"" if json_body is None else json.dumps(json_body).encode()
            lines.append("Content-Type: application/json")
        if body or method in ("POST", "PUT", "PATCH"):
            lines.append(f"Content-Length: {len(body)}")
        self.writer.write(("\r\n".join(lines) + "\r\n\r\n").encode() + body)
        head = await self.reader.readuntil(b"\r\n\r\n")
        status_line, *header_lines = head.decode("latin-1").split("\r\n")
        status = int(status_line.split(" ", 2)[1])
        headers: dict[str, list[str]] = {}
        for line in header_lines:
            if line:
                name, _, value = line.partition(":")
                headers.setdefault(name.strip().lower(), []).append(value.strip())
        if "content-length" in headers:
            payload = await self.reader.readexactly(int(headers["content-length"][0]))
        elif "chunked" in headers.get("transfer-encoding", [""])[0].lower():
            payload = await self._chunked()
        else:
            payload = await self.reader.read()
            headers["connection"] = ["close"]
        for cookie in headers.get("set-cookie", []):
            parsed = SimpleCookie()
            parsed.load(cookie)
            for name, morsel in parsed.items():
                if morsel.value and morsel["max-age"] != "0":
                    self.cookies[name] = morsel.value
                else:
                    self.cookies.pop(name, None)
        if headers.get("connection", [""])[0].lower() == "close":
            await self.close()
        return Answer(status, headers, payload)

    async def _chunked(self) -> bytes:
        assert self.reader is not None
        parts = []
        while True:
            size = int((await self.reader.readuntil(b"\r\n")).split(b";")[0], 16)
            if size == 0:
                await self.reader.readuntil(b"\r\n")
                return b"".join(parts)
            parts.append(await self.reader.readexactly(size))
            await self.reader.readexactly(2)
