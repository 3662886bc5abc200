"""Updates in, replies out, for every platform: at least once in, exactly once handled.

A channel's receiver hands updates to `receive`, which stores them (one transaction) before
returning, so the receiver confirms them to the platform (the next getUpdates offset, a
webhook's 200) only once they are safe. Each is then handled in the background: the turn
that handles it deletes the stored copy and records the replies as owed in one transaction,
and the replies are sent at once (schedules.replies.deliver_replies). Updates a dead worker
left behind are picked up by `recover`. A person's updates are handled one after another, in
the order they came, replies included.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import weakref
from collections.abc import Coroutine, Mapping
from typing import Any

from bot.context import AppContext
from handlers.engine import Engine
from schedules.messages import Channel, Inbound
from schedules.outbox import send_once
from schedules.replies import deliver_replies
from storage.db.delivery import claim_orphans, store_updates
from storage.db.sessions import transaction

logger = logging.getLogger(__name__)


class Intake:
    def __init__(self, ctx: AppContext, engine: Engine, worker: str) -> None:
        self.ctx = ctx
        self.engine = engine
        self.worker = worker
        self.channels: dict[str, Channel] = {}
        self.tasks: set[asyncio.Task] = set()
        self._locks: weakref.WeakValueDictionary[tuple[str, str], asyncio.Lock] = (
            weakref.WeakValueDictionary()
        )

    def add_channels(self, channels: Mapping[str, Channel]) -> None:
        self.channels.update(channels)
        self.engine.capabilities.update({n: c.capabilities for n, c in channels.items()})

    async def receive(self, inbounds: list[Inbound]) -> int:
        """Stores the updates durably, then handles the new ones in the background; returns
        how many were new (a repeat of one already stored or handled is not)."""
        keyed = [(i.channel, i.update_key, i.to_payload()) for i in inbounds if i.update_key]
        # One statement, whatever the channels (autocommitted: no transaction around it).
        fresh = await store_updates(self.ctx.engine, keyed, self.worker, self.ctx.clock.now())
        new = [i for i in inbounds if not i.update_key or (i.channel, i.update_key) in fresh]
        for inbound in new:
            self.spawn(inbound)
        return len(new)

    def spawn(self, inbound: Inbound) -> None:
        # asyncio.Lock wakes its waiters in order: a person's updates keep theirs.
        lock = self._locks.setdefault((inbound.channel, inbound.chat_id), asyncio.Lock())
        task = asyncio.create_task(self._process(inbound, lock))
        self.tasks.add(task)
        task.add_done_callback(self.tasks.discard)

    def background(self, work: Coroutine[Any, Any, None]) -> None:
        """Small work that needs no durability (a button's spinner), kept until shutdown."""
        task = asyncio.create_task(work)
        self.tasks.add(task)
        task.add_done_callback(self.tasks.discard)

    async def _process(self, inbound: Inbound, lock: asyncio.Lock) -> None:
        async with lock:
            channel = self.channels[inbound.channel]
            try:
                taken = await self.engine.take(inbound)
                if taken.owed:
                    await deliver_replies(
                        self.ctx.sessions,
                        self.ctx.clock,
                        channel,
                        inbound.chat_id,
                        taken.owed,
                        self.engine.marks,
                    )
                elif not taken.recorded:  # the turn failed: its apology is not owed
                    for reply in taken.replies:
                        await send_once(channel, inbound.chat_id, reply)
            except asyncio.CancelledError:
                raise
            except Exception:  # the stored update stays, and is handled again after a restart
                logger.exception("handling an update from %s failed", inbound.channel)

    async def recover(self, limit: int = 100) -> int:
        """Claims and handles updates stored by workers that are gone; returns how many."""
        async with transaction(self.ctx.sessions) as session:
            rows = await claim_orphans(session, self.worker, list(self.channels), limit)
            found = [Inbound.from_payload(row.payload) for row in rows]
        for inbound in found:
            self.spawn(inbound)
        return len(found)

    async def drain(self, seconds: float) -> None:
        """Lets the updates being handled finish; after `seconds` the rest are cancelled
        (their turns roll back, and their stored updates go to the next worker)."""
        if self.tasks:
            _, pending = await asyncio.wait(set(self.tasks), timeout=seconds)
            for task in pending:
                task.cancel()
            with contextlib.suppress(Exception):
                await asyncio.gather(*pending, return_exceptions=True)
