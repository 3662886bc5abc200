"""Generated files (charts, workbooks) served from the bot's own web server at signed,
expiring links, for channels that can only send a photo by URL or a link (Zalo).

A link is `<public base>/files/<id>/<name>?exp=<unix time>&sig=<hmac>`; the signature covers
the id, the name and the expiry, so a changed or expired link is refused.
"""

from __future__ import annotations

import hashlib
import hmac
import mimetypes
import secrets
import shutil
from datetime import datetime, timedelta
from pathlib import Path
from urllib.parse import quote

from aiohttp import web

from storage.plan.clock import Clock

ROUTE = "/files/{file_id}/{name}"


def sign(secret: bytes, *parts: object) -> str:
    """The signature of a link's parts (file links, web page links)."""
    message = "|".join(str(p) for p in parts).encode()
    return hmac.new(secret, message, hashlib.sha256).hexdigest()[:32]


class FileLinks:
    def __init__(
        self,
        folder: Path,
        public_base: str,
        secret: bytes,
        clock: Clock,
        lifetime: timedelta = timedelta(hours=24),
    ) -> None:
        self.folder = folder
        self.public_base = public_base.rstrip("/")
        self.secret = secret
        self.clock = clock
        self.lifetime = lifetime
        self._swept = 0.0

    def _signature(self, file_id: str, name: str, expires: int) -> str:
        return sign(self.secret, file_id, name, expires)

    def sweep(self) -> int:
        """Deletes files whose links have all expired; returns how many folders went."""
        cutoff = (self.clock.now() - self.lifetime).timestamp()
        removed = 0
        if not self.folder.is_dir():
            return 0
        for entry in self.folder.iterdir():
            if entry.is_dir() and entry.stat().st_mtime < cutoff:
                shutil.rmtree(entry, ignore_errors=True)
                removed += 1
        return removed

    def publish(self, data: bytes, name: str) -> str:
        """Stores the file and returns a link valid for `lifetime` (and sweeps old ones,
        at most once an hour)."""
        now = self.clock.now().timestamp()
        if now - self._swept > 3600:
            self._swept = now
            self.sweep()
        file_id = secrets.token_urlsafe(12)
        target = self.folder / file_id
        target.mkdir(parents=True, exist_ok=True)
        (target / name).write_bytes(data)
        expires = int((self.clock.now() + self.lifetime).timestamp())
        signature = self._signature(file_id, name, expires)
        return f"{self.public_base}/files/{file_id}/{quote(name)}?exp={expires}&sig={signature}"

    def check(self, file_id: str, name: str, expires: str, signature: str) -> Path | None:
        """The file, if the link is genuine and not expired."""
        if not expires.isdigit() or "/" in name or ".." in name or "/" in file_id:
            return None
        good = self._signature(file_id, name, int(expires))
        if not hmac.compare_digest(good, signature):
            return None
        if datetime.fromtimestamp(int(expires), tz=self.clock.now().tzinfo) < self.clock.now():
            return None
        path = self.folder / file_id / name
        return path if path.is_file() else None

    async def serve(self, request: web.Request) -> web.StreamResponse:
        path = self.check(
            request.match_info["file_id"],
            request.match_info["name"],
            request.query.get("exp", ""),
            request.query.get("sig", ""),
        )
        if path is None:
            return web.Response(status=403, text="Link expired or invalid")
        kind = mimetypes.guess_type(path.name)[0] or "application/octet-stream"
        return web.FileResponse(path, headers={"Content-Type": kind})

    def register(self, app: web.Application) -> None:
        app.router.add_get(ROUTE, self.serve)
