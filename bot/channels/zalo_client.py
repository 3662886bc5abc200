"""A small async client for the Zalo Bot API (Telegram-shaped, much smaller).

Every call is a POST of JSON to `<base>/bot<token>/<method>`; answers are
`{"ok": true, "result": ...}` or `{"ok": false, "error_code": N, "description": "..."}`.
"""

from __future__ import annotations

from typing import Any

import aiohttp


class ZaloError(Exception):
    def __init__(self, code: int, description: str = "") -> None:
        super().__init__(f"Zalo {code}: {description}")
        self.code = code
        self.description = description


class ZaloUnauthorized(ZaloError):
    """401: the token is wrong."""


class ZaloForbidden(ZaloError):
    """403: not allowed (the user blocked the bot, or no rights)."""


class ZaloNotFound(ZaloError):
    """404: unknown method or object (getWebhookInfo answers it when no webhook is set)."""


class ZaloNothingNew(ZaloError):
    """408: a long poll ended with no update. Not a failure."""


class ZaloQuotaExceeded(ZaloError):
    """429: over the plan's quota."""


ERRORS: dict[int, type[ZaloError]] = {
    401: ZaloUnauthorized,
    403: ZaloForbidden,
    404: ZaloNotFound,
    408: ZaloNothingNew,
    429: ZaloQuotaExceeded,
}


class ZaloClient:
    def __init__(
        self, token: str, base: str = "https://bot-api.zaloplatforms.com", timeout: float = 40.0
    ) -> None:
        self.url = f"{base.rstrip('/')}/bot{token}/"
        self.timeout = aiohttp.ClientTimeout(total=timeout)
        self._http: aiohttp.ClientSession | None = None

    async def _session(self) -> aiohttp.ClientSession:
        if self._http is None or self._http.closed:
            self._http = aiohttp.ClientSession(timeout=self.timeout)
        return self._http

    async def close(self) -> None:
        if self._http:
            await self._http.close()

    async def call(self, method: str, *, http_timeout: float | None = None, **params: Any) -> Any:
        http = await self._session()
        options: dict[str, Any] = (
            {"timeout": aiohttp.ClientTimeout(total=http_timeout)} if http_timeout else {}
        )
        async with http.post(self.url + method, json=params, **options) as response:
            try:
                body = await response.json(content_type=None)
            except ValueError:
                body = {
                    "ok": False,
                    "error_code": response.status,
                    "description": (await response.text())[:200],
                }
        if not isinstance(body, dict) or not body.get("ok"):
            code = int((body or {}).get("error_code") or response.status)
            description = str((body or {}).get("description", ""))
            raise ERRORS.get(code, ZaloError)(code, description)
        return body.get("result")

    async def get_me(self) -> dict[str, Any]:
        return await self.call("getMe")

    async def get_updates(self, timeout: int = 30) -> dict[str, Any] | None:
        """One update, or None when the long poll ended with nothing (408)."""
        try:
            return await self.call("getUpdates", http_timeout=timeout + 10, timeout=str(timeout))
        except ZaloNothingNew:
            return None

    async def set_webhook(self, url: str, secret_token: str) -> dict[str, Any]:
        return await self.call("setWebhook", url=url, secret_token=secret_token)

    async def delete_webhook(self) -> Any:
        return await self.call("deleteWebhook")

    async def get_webhook_info(self) -> dict[str, Any] | None:
        try:
            return await self.call("getWebhookInfo")
        except ZaloNotFound:
            return None

    async def send_message(self, chat_id: str, text: str) -> dict[str, Any]:
        return await self.call("sendMessage", chat_id=chat_id, text=text)

    async def send_photo(self, chat_id: str, photo_url: str, caption: str = "") -> dict[str, Any]:
        params: dict[str, Any] = {"chat_id": chat_id, "photo": photo_url}
        if caption:
            params["caption"] = caption
        return await self.call("sendPhoto", **params)

    async def send_chat_action(self, chat_id: str, action: str = "typing") -> Any:
        return await self.call("sendChatAction", chat_id=chat_id, action=action)
