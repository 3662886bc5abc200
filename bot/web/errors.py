"""Every error the web server answers, in Vietnamese, as a small page that echoes nothing.

Two places make error answers: the application (an unknown path, a method a page does not
take, a handler that failed) and aiohttp's HTTP parser, which refuses a request before any
handler sees it (a request line over 8 KB, a malformed header) and by default answers in
English, quoting the offending line: for a tracker link that line holds the viewer's token.
The middleware covers the first; `Runner` the second.
"""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable
from html import escape
from typing import Any

from aiohttp import web
from aiohttp.http_exceptions import LineTooLong
from aiohttp.web_protocol import RequestHandler
from aiohttp.web_request import BaseRequest
from aiohttp.web_server import Server

from storage.plan import texts_vi as vi

logger = logging.getLogger(__name__)
MAX_URL = 8 * 1024  # what the parser accepts as a request line; a longer URL gets 414
HEADERS = {
    "Cache-Control": "no-store",
    "Referrer-Policy": "no-referrer",
    "X-Content-Type-Options": "nosniff",
}
PAGE = """<!doctype html>
<html lang="vi">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<meta name="robots" content="noindex">
<title>{title}</title>
<link rel="stylesheet" href="/web/static/style.css">
</head>
<body>
<main class="denied">
<h1>{title}</h1>
<p>{hint}</p>
</main>
</body>
</html>
"""


def message_for(status: int) -> str:
    return vi.WEB_ERRORS.get(status) or (
        vi.WEB_ERRORS[500] if status >= 500 else vi.WEB_ERRORS[400]
    )


def error_response(status: int, headers: dict[str, str] | None = None) -> web.Response:
    """The page for `status`: fixed words only, never anything from the request."""
    html = PAGE.format(title=escape(message_for(status)), hint=escape(vi.WEB_ERROR_HINT))
    return web.Response(
        text=html,
        status=status,
        content_type="text/html",
        charset="utf-8",
        headers={**HEADERS, **(headers or {})},
    )


Handler = Callable[[web.Request], Awaitable[web.StreamResponse]]


@web.middleware
async def vietnamese_errors(request: web.Request, handler: Handler) -> web.StreamResponse:
    """The router's 404 and 405 (and any handler's HTTP error without a body of its own) as
    a Vietnamese page; an unexpected failure as a Vietnamese 500, logged."""
    try:
        return await handler(request)
    except web.HTTPException as exc:
        if exc.status < 400 or exc.text not in (None, "", f"{exc.status}: {exc.reason}"):
            raise
        allow = exc.headers.get("Allow")
        return error_response(exc.status, {"Allow": allow} if allow else None)
    except Exception:
        logger.exception("web page failed: %s %s", request.method, request.path[:200])
        return error_response(500)


class _Handler(RequestHandler):
    def handle_error(
        self,
        request: BaseRequest,
        status: int = 500,
        exc: BaseException | None = None,
        message: str | None = None,
    ) -> web.StreamResponse:
        if request.writer.output_size > 0:  # as aiohttp: too late for another answer
            raise ConnectionError("the response was sent already")
        # Logged without the parser's message: it quotes the request line, token included.
        logger.info("refused a request: HTTP %s (%s)", status, type(exc).__name__)
        if isinstance(exc, LineTooLong) and status == 400:
            status = 414
        response = error_response(status)
        response.force_close()
        return response


class _Server(Server):
    def __call__(self) -> RequestHandler:
        return _Handler(self, loop=self._loop, **self._kwargs)


class Runner(web.AppRunner):
    """An AppRunner whose protocol answers the parser's refusals like every other page."""

    async def _make_server(self) -> Server:
        server = await super()._make_server()
        kwargs: dict[str, Any] = dict(server._kwargs)  # noqa: SLF001 - the handler's options
        return _Server(
            server.request_handler,
            request_factory=server.request_factory,
            handler_cancellation=server.handler_cancellation,
            loop=server._loop,  # noqa: SLF001
            **kwargs,
        )
