"""The plain answer alone (#25): CPU, statements and commits per typed answer to the question
asked, on its own path and on the general one, in one process and one run.

    python -m bench.plain_answer [--db sqlite] [--leaders 60]

Leaders of the national dataset's shape report through a worker's engine in-process (no HTTP,
no aiogram: only the turn, its statements and the "sent" record of its replies, sent to a
channel that takes them at once). Each leader opens the report (/baocao) and answers questions
1 to 9 (question 10 is optional; its answer opens the summary), the two paths alternating
leader by leader, so the machine's load falls on both alike. Measured per answer: the
process's CPU time (time.process_time, so the waits of a shared machine do not count), the
SQL statements (SQLAlchemy's events, and the plain path's own count) and the commits.
"""

from __future__ import annotations

import argparse
import os
import statistics
import tempfile
import time
from datetime import datetime
from pathlib import Path

from sqlalchemy import event

from bench.common import NATIONAL_CONFIG, Shape, build_nation, database, engine_for, run, table
from bot.config import Settings
from bot.context import AppContext
from handlers.engine import Engine
from schedules.messages import PLATFORMS, Inbound, Outbound
from schedules.replies import deliver_replies
from storage.db import answer_path
from storage.plan.clock import FixedClock

ANSWERS = ["3", "1", "2", "10", "4", "5", "1", "2", "101"]
NOW = "2025-11-27T09:00:00+07:00"  # only November's monthly report is open (bench.inbound)


class Taking:
    """A channel that takes every message at once."""

    name = "telegram"
    capabilities = PLATFORMS["telegram"]

    async def send(self, chat_id: str, message: Outbound) -> None:
        return None


class Counts:
    def __init__(self, ctx: AppContext) -> None:
        self.statements = 0
        self.commits = 0
        sync = ctx.engine.sync_engine
        event.listen(sync, "before_cursor_execute", self._statement)
        event.listen(sync, "commit", self._commit)

    def _statement(self, *_args: object) -> None:
        self.statements += 1

    def _commit(self, *_args: object) -> None:
        self.commits += 1

    def now(self) -> tuple[int, int]:
        run = answer_path.RUN
        return self.statements + run["statements"], self.commits + run["transactions"]


async def main(db: str, leaders: int) -> None:
    load_before = os.getloadavg()
    with tempfile.TemporaryDirectory() as tmp:
        url = await database(db, Path(tmp))
        engine = engine_for(url)
        await build_nation(engine, Shape(1, 30, leaders // 30 + 1, 0))
        await engine.dispose()
        settings = Settings(  # type: ignore[call-arg]
            database_url=url, hoibot_config_dir=NATIONAL_CONFIG, _env_file=None
        )
        ctx = AppContext.create(settings, FixedClock(datetime.fromisoformat(NOW)))
        counts = Counts(ctx)
        channel = Taking()
        engines = {
            plain: Engine(ctx, "bench", plain=plain) for plain in (True, False)
        }  # fmt: skip
        for one in engines.values():
            one.capabilities["telegram"] = channel.capabilities
        cpu: dict[bool, list[float]] = {True: [], False: []}
        sql: dict[bool, list[tuple[int, int]]] = {True: [], False: []}
        keys = iter(range(1, 10**9))
        for n in range(leaders):
            plain = n % 2 == 0
            bot = engines[plain]
            chat = str(1_000_001 + n)

            async def say(text: str, bot: Engine = bot, chat: str = chat) -> None:
                inbound = Inbound("telegram", chat, chat, text=text, update_key=str(next(keys)))
                taken = await bot.take(inbound)
                if taken.owed:
                    await deliver_replies(
                        ctx.sessions, ctx.clock, channel, chat, taken.owed, bot.marks
                    )

            await say("/baocao")
            for answer in ANSWERS:
                before, counted = time.process_time(), counts.now()
                await say(answer)
                cpu[plain].append((time.process_time() - before) * 1000)
                after = counts.now()
                sql[plain].append((after[0] - counted[0], after[1] - counted[1]))
        for one in engines.values():
            if one.marks is not None:
                await one.marks.close()
        await ctx.close()
    rows = []
    for plain, name in ((False, "general path"), (True, "plain path")):
        values = sorted(cpu[plain])
        statements = statistics.mean(s for s, _ in sql[plain])
        commits = statistics.mean(c for _, c in sql[plain])
        rows.append(
            [
                name,
                str(len(values)),
                f"{statistics.median(values):.2f}",
                f"{statistics.mean(values):.2f}",
                f"{values[int(len(values) * 0.95) - 1]:.2f}",
                f"{statements:.1f}",
                f"{commits:.1f}",
            ]
        )
    loads = " / ".join(" ".join(f"{x:.1f}" for x in a) for a in (load_before, os.getloadavg()))
    print(f"database: {db}; {leaders} leaders, answers 1-9 of each; load average: {loads}")
    header = ["path", "answers", "CPU ms p50", "mean", "p95", "statements", "commits"]
    print(table(rows, header))
    ratio = statistics.mean(cpu[False]) / statistics.mean(cpu[True])
    print(f"general / plain CPU per answer: {ratio:.2f}")


if __name__ == "__main__":
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--db", choices=["postgres", "sqlite"], default="postgres")
    parser.add_argument("--leaders", type=int, default=60)
    args = parser.parse_args()
    run(lambda: main(args.db, args.leaders))
