"""Whatever URL anyone types, the web server answers in Vietnamese, with the right status,
never a 500 and never echoing the token: huge and negative ids, long paths, traversal,
unknown paths, every method, a URL longer than the parser takes."""

from __future__ import annotations

import asyncio
import re
from typing import TYPE_CHECKING

from storage.plan import texts_vi as vi

if TYPE_CHECKING:
    from tests.web_site import Site

ENGLISH = re.compile(
    r"\b(Not Found|Method Not Allowed|Bad Request|Internal Server Error|Forbidden|Error|"
    r"Request-URI|Too Long|Traceback|Exception)\b",
    re.I,
)
METHODS = ["GET", "HEAD", "POST", "PUT", "PATCH", "DELETE", "OPTIONS", "TRACE", "PROPFIND"]


def check(status: int, body: str, expected: set[int], token: str, what: str) -> None:
    assert status in expected, (what[:120], status)
    assert status != 500, what[:120]
    if status >= 400:
        assert token not in body, what[:120]
        assert not ENGLISH.search(body), (what[:120], body[:300])
        assert body == "" or any(m in body for m in vi.WEB_ERRORS.values()), body[:300]


async def raw_request(site: Site, request_line: str) -> tuple[int, str]:
    """Over a bare socket: the client libraries refuse to send what a hostile one would."""
    host, port = site.root.removeprefix("http://").split(":")
    reader, writer = await asyncio.open_connection(host, int(port))
    writer.write(f"{request_line}\r\nHost: {host}\r\nConnection: close\r\n\r\n".encode())
    await writer.drain()
    data = await asyncio.wait_for(reader.read(), 10)
    writer.close()
    head, _, body = data.partition(b"\r\n\r\n")
    return int(head.split()[1]), body.decode("utf-8", "replace")


async def test_hostile_urls_get_a_vietnamese_answer_never_a_500(site: Site) -> None:
    link = site.link(site.people.provincial)
    token = link.rstrip("/").rsplit("/", 1)[1]
    pid, expires, sig = token.split(".")
    t = site.people.tree
    huge = "9223372036854775808"  # one past the largest BIGINT
    cases: list[tuple[str, set[int]]] = [
        (f"{link}?don_vi={huge}", {403}),
        (f"{link}?don_vi=-1", {403}),
        (f"{link}?don_vi=²", {403}),
        (f"{link}?don_vi={'9' * 400}", {403}),
        (f"{link}don-vi/{'1' * 23}", {403}),
        (f"{link}don-vi/-5", {403}),
        (f"{link}don-vi/{t.b1.id}?don_vi={huge}", {200}),  # the path's id wins
        (f"{link}thi-dua?don_vi={huge}", {403}),
        (f"{link}chi-so/ho_thoat_ngheo?don_vi=1e9", {403}),
        (f"{link}chi-so/ho_thoat_ngheo?ky=2026-13", {404}),
        (f"{link}chi-so/ho_thoat_ngheo?ky=0000", {404}),
        (f"{link}chi-so/ho_thoat_ngheo?ky={'9' * 5000}", {404}),
        (f"{link}chi-so/{'x' * 7_000}", {404}),
        (f"{link}chi-tieu/{'x' * 7_000}", {404}),
        (f"{link}{'a/' * 3500}", {404}),
        (f"{link}chi-so/{'x' * 10_000}", {414}),  # past the parser's 8 KB
        (f"{link}{'a/' * 5000}", {414}),
        (f"{link}../../../etc/passwd", {404}),
        (f"{link}%2e%2e/%2e%2e/etc/passwd", {404}),
        (f"{site.root}/web/static/..%2f..%2fconfig.py", {404}),
        (f"{site.root}/web/static/../../../etc/passwd", {404}),
        (f"{site.root}/khong-co-trang-nay", {404}),
        (f"{site.root}/", {404}),
        (f"{site.root}/web/", {404}),
        (f"{site.root}/web/{'1' * 23}.{expires}.{sig}/", {403}),
        (f"{site.root}/web/{pid}.{'9' * 30}.{sig}/", {403}),
        (f"{site.root}/web/-{pid}.{expires}.{sig}/", {403}),
        (f"{site.root}/web/{pid}.{expires}/", {403}),
        (f"{site.root}/web/{'x' * 7_000}/", {403}),
        (f"{site.root}/web/{'x' * 10_000}/", {414}),
    ]
    for url, expected in cases:
        async with site.http.get(url, allow_redirects=False) as r:
            check(r.status, await r.text(), expected, token, url)
    # Every method on a page: GET and HEAD read it, anything else is a Vietnamese 405.
    for method in METHODS:
        for url in (link, f"{link}don-vi/{t.c1.id}", f"{link}xuat.xlsx"):
            async with site.http.request(method, url, allow_redirects=False) as r:
                body = (await r.read()).decode("utf-8", "replace") if r.status >= 400 else ""
                expected = {200} if method in ("GET", "HEAD") else {405}
                check(r.status, body, expected, token, f"{method} {url}")
                if r.status == 405:
                    assert "GET" in r.headers.get("Allow", "")
    # Past the parser's limits: a request line over 8 KB, a long header, garbage.
    status, body = await raw_request(site, f"GET /web/{token}/{'a' * 9000} HTTP/1.1")
    check(status, body, {414}, token, "long URL")
    assert vi.WEB_ERRORS[414] in body
    status, body = await raw_request(site, f"GET /web/{token}/?q={'%41' * 4000} HTTP/1.1")
    check(status, body, {414}, token, "long query")
    status, body = await raw_request(site, f"G\x01T /web/{token}/ HTTP/1.1")
    check(status, body, {400, 405}, token, "garbage method")
    assert not site.writes
