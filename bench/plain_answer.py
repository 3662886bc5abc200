"""The plain answer alone (#25): CPU, statements and commits per typed answer to the question
asked, on its own path and on the general one, in one process and one run.

    python -m bench.plain_answer [--db sqlite] [--leaders 60] [--quick]

Leaders of the national dataset's shape report through a worker's engine in-process (no HTTP,
no aiogram: only the turn, its statements and the "sent" record of its replies, sent to a
channel that takes them at once), each with bench.inbound's script (/baocao, ten answers,
"gửi"), the plain path on and off alternating leader by leader, so the machine's load falls
on both alike. Measured per update, by step: the process's CPU time (time.process_time, so
the waits of a shared machine do not count), the SQL statements (SQLAlchemy's events, and
the plain path's own count) and the commits (the intake's store of each update, one more
statement and commit in the running bot, is not part of this).
"""

from __future__ import annotations

import argparse
import os
import statistics
import tempfile
import time
from collections import defaultdict
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

# bench.inbound's script: the nine required answers are plain, the tenth opens the summary.
STEPS = [("/baocao", "/baocao")]
STEPS += [("answer 1-9", a) for a in ["3", "1", "2", "10", "4", "5", "1", "2", "101"]]
STEPS += [("answer 10 (summary)", "1"), ("gửi", "gửi")]
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
        # (step, path) -> CPU ms and (statements, commits) of each update of that step
        cpu: dict[tuple[str, bool], list[float]] = defaultdict(list)
        sql: dict[tuple[str, bool], list[tuple[int, int]]] = defaultdict(list)
        keys = iter(range(1, 10**9))
        for n in range(leaders):
            plain = n % 2 == 0
            bot = engines[plain]
            chat = str(1_000_001 + n)
            for step, text in STEPS:
                inbound = Inbound("telegram", chat, chat, text=text, update_key=str(next(keys)))
                before, counted = time.process_time(), counts.now()
                taken = await bot.take(inbound)
                if taken.owed:
                    await deliver_replies(
                        ctx.sessions, ctx.clock, channel, chat, taken.owed, bot.marks
                    )
                cpu[step, plain].append((time.process_time() - before) * 1000)
                after = counts.now()
                sql[step, plain].append((after[0] - counted[0], after[1] - counted[1]))
        for one in engines.values():
            if one.marks is not None:
                await one.marks.close()
        await ctx.close()
    rows = []
    for step in dict.fromkeys(step for step, _ in STEPS):
        for plain in (False, True):
            values = sorted(cpu[step, plain])
            rows.append(
                [
                    step,
                    "plain path on" if plain else "off (general)",
                    str(len(values)),
                    f"{statistics.median(values):.2f}",
                    f"{statistics.mean(values):.2f}",
                    f"{values[max(0, int(len(values) * 0.95) - 1)]:.2f}",
                    f"{statistics.mean(s for s, _ in sql[step, plain]):.1f}",
                    f"{statistics.mean(c for _, c in sql[step, plain]):.1f}",
                ]
            )
    loads = " / ".join(" ".join(f"{x:.1f}" for x in a) for a in (load_before, os.getloadavg()))
    print(f"database: {db}; {leaders} leaders, half with the plain path; load average: {loads}")
    header = ["update", "path", "n", "CPU ms p50", "mean", "p95", "statements", "commits"]
    print(table(rows, header))
    for plain in (False, True):
        script = sum(statistics.mean(cpu[step, plain]) for step, _ in STEPS) / len(STEPS)
        print(f"{'on ' if plain else 'off'}: CPU ms per update over the script: {script:.2f}")
    answers = "answer 1-9"
    ratio = statistics.mean(cpu[answers, False]) / statistics.mean(cpu[answers, True])
    print(f"general / plain CPU per plain answer: {ratio:.2f}")


if __name__ == "__main__":
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--db", choices=["postgres", "sqlite"], default="postgres")
    parser.add_argument("--leaders", type=int, default=60)
    parser.add_argument("--quick", action="store_true", help="6 leaders: it runs, no figures")
    args = parser.parse_args()
    run(lambda: main(args.db, 6 if args.quick else args.leaders))
