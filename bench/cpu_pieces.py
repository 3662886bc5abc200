"""Where the bot's CPU goes (`bench.inbound --profile` and `--pieces`), measured inside its
process: cProfile with its SQL counted, or (without a profiler) each task's steps timed.

Where a profiled bot's CPU goes, by piece of our code (`--profile`):

cProfile's cumulative times mean little for coroutines (each resumption is a call) and for
SQLAlchemy's greenlets, so each function's own time (tottime) is handed up the caller graph,
in proportion to each caller's share of it, to the nearest function of this project; what
no function of ours called (the event loop's callbacks: sockets read, aiohttp's parsing of
the webhook's requests and the API's answers, asyncpg's protocol) stays "the event loop".
"""

from __future__ import annotations

import asyncio
import cProfile
import io
import os
import pstats
import re
import shutil
import time
from collections import Counter
from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import Any

ROOT = str(Path(__file__).resolve().parent.parent) + "/"
LOOP = ("the event loop", 0, "")
Func = tuple[str, int, str]


def _ours(func: Func) -> bool:
    return func[0].startswith(ROOT) and "/.venv/" not in func[0] and "/bench/" not in func[0]


def attribute(stats: pstats.Stats) -> Counter[Func]:
    """Seconds of own CPU time, by the nearest function of ours up the caller graph."""
    table: dict[Func, Any] = stats.stats  # type: ignore[attr-defined]
    shares: dict[Func, Counter[Func]] = {}

    def share(func: Func, depth: int) -> Counter[Func]:
        if _ours(func):
            return Counter({func: 1.0})
        if func in shares:
            return shares[func]
        shares[func] = Counter({LOOP: 1.0})  # a cycle: what it cannot place goes to the loop
        callers = table[func][4] if func in table else {}
        weights = {c: e[2] for c, e in callers.items()}  # the callee's own time by this caller
        total = sum(weights.values())
        if total <= 0:  # too quick to time: by the number of calls instead
            weights = {c: e[1] for c, e in callers.items()}
            total = sum(weights.values())
        out: Counter[Func] = Counter()
        if not callers or total <= 0 or depth > 80:
            out[LOOP] = 1.0
        else:
            for caller, weight in weights.items():
                for target, part in share(caller, depth + 1).items():
                    out[target] += part * weight / total
        shares[func] = out
        return out

    placed: Counter[Func] = Counter()
    for func, entry in table.items():
        for target, part in share(func, 0).items():
            placed[target] += entry[2] * part
    return placed


def report(files: list[str], updates: int, top: int = 30) -> str:
    stats = pstats.Stats(*files)
    placed = attribute(stats)
    total = sum(placed.values())
    modules: Counter[str] = Counter()
    for func, seconds in placed.items():
        modules[func[0].removeprefix(ROOT) or func[0]] += seconds
    lines = [f"CPU by our code (own time of it and of the libraries it called; {total:.1f} s):"]
    lines += [
        f"  {s * 1000 / updates:6.2f} ms/update  {m}" for m, s in modules.most_common(top) if s
    ]
    lines.append("by function:")
    for func, seconds in placed.most_common(top):
        name = func[0].removeprefix(ROOT) + f":{func[1]} {func[2]}" if func != LOOP else LOOP[0]
        lines.append(f"  {seconds * 1000 / updates:6.2f} ms/update  {name}")
    return "\n".join(lines)


def start_profile(ctx: object, path: Path) -> None:
    """Profiles this process until it exits and counts the SQL statements it runs."""
    import atexit

    from sqlalchemy import event

    from storage.db import answer_path

    profiler = cProfile.Profile(time.process_time)  # CPU, not the waits of a shared machine
    statements = [0, 0]  # statements, commits (an autocommitted statement's included)

    def count(*_args: object) -> None:
        statements[0] += 1

    def commit(*_args: object) -> None:
        statements[1] += 1

    event.listen(ctx.engine.sync_engine, "before_cursor_execute", count)  # type: ignore[attr-defined]
    event.listen(ctx.engine.sync_engine, "commit", commit)  # type: ignore[attr-defined]

    def dump() -> None:
        profiler.disable()
        profiler.dump_stats(path)
        run = answer_path.RUN  # the plain answer's, on the driver
        counted = (statements[0] + run["statements"], statements[1] + run["transactions"])
        path.with_suffix(".sql").write_text(f"{counted[0]} {counted[1]}")

    atexit.register(dump)
    profiler.enable()


def profile_summary(prefix: Path, workers: int, updates: int, top: int = 25) -> str:
    """The profiles of the bot's processes, merged: statements per update, the functions
    that took the most CPU themselves, and who called the first few. (Cumulative times mean
    little here: cProfile counts each resumption of a coroutine as a call.)"""
    files = [f"{prefix}.{n}" for n in range(workers)]
    keep = os.environ.get("BENCH_PROFILE_KEEP")  # a folder: the raw profiles are kept there
    if keep:
        for file in files:
            shutil.copy(file, Path(keep) / Path(file).name)
    counts = [Path(f).with_suffix(".sql").read_text().split() for f in files]
    statements = sum(int(c[0]) for c in counts)
    commits = sum(int(c[1]) for c in counts)
    lines = [
        f"SQL statements: {statements:,} ({statements / updates:.1f} per update); "
        f"commits: {commits:,} ({commits / updates:.1f} per update)",
    ]
    out = io.StringIO()
    stats = pstats.Stats(*files, stream=out).sort_stats("tottime")
    stats.print_stats(top)
    for function in stats.fcn_list[:4]:  # type: ignore[attr-defined]
        stats.print_callers(re.escape(function[2]))
    lines.append(out.getvalue())
    lines.append(report(files, updates))
    return "\n".join(lines)


# The bot's CPU by piece without a profiler (`bench.inbound --pieces`): each asyncio task's
# steps are timed (time.process_time), by what the task runs (the webhook's request, an
# update's handling, the "sent" marks, the outbox dispatcher, the housekeeping) and by the
# phase it is in (the store, the turn, the sends); what runs outside any task is the event
# loop's callbacks (the sockets read, aiohttp's and asyncpg's parsing of what they read).
TASKS = {
    "RequestHandler.start": "webhook request",
    "Intake._process": "update",
    "SentMarks.flush": "sent marks",
    "Dispatcher.run_forever": "outbox dispatcher",
    "Service._keep": "housekeeping",
    "_acknowledge": "button acknowledged",
}
SPENT: Counter[str] = Counter()


class _TimedTask(asyncio.tasks._PyTask):  # type: ignore[name-defined,misc]
    phase = ""

    def _Task__step(self, exc: BaseException | None = None) -> None:  # noqa: N802
        start = time.process_time()
        try:
            super()._Task__step(exc)  # type: ignore[misc]
        finally:
            name = getattr(self.get_coro(), "__qualname__", "?")
            kind = TASKS.get(name, name)
            SPENT[f"{kind}: {self.phase}" if self.phase else kind] += time.process_time() - start


def _phase(name: str, function: Callable[..., Awaitable[Any]]) -> Callable[..., Awaitable[Any]]:
    async def timed(*args: Any, **kwargs: Any) -> Any:
        task = asyncio.current_task()
        before = getattr(task, "phase", "")
        if isinstance(task, _TimedTask):
            task.phase = name
        try:
            return await function(*args, **kwargs)
        finally:
            if isinstance(task, _TimedTask):
                task.phase = before

    return timed


def install(path: Path) -> None:
    """In the bot's process: times its tasks by piece and writes them (JSON) at exit."""
    import atexit
    import json

    from bot.channels import intake
    from handlers import engine
    from schedules import replies

    loop = asyncio.get_running_loop()
    loop.set_task_factory(lambda loop, coro, **kw: _TimedTask(coro, loop=loop, **kw))
    intake.Intake.receive = _phase("store", intake.Intake.receive)  # type: ignore[method-assign]
    engine.Engine.take = _phase("turn", engine.Engine.take)  # type: ignore[method-assign]
    intake.deliver_replies = _phase("sends and their marks", intake.deliver_replies)  # type: ignore[attr-defined]
    replies.send_once = _phase("sends", replies.send_once)  # type: ignore[attr-defined]
    started = time.process_time()

    def dump() -> None:
        SPENT["all (the process)"] = time.process_time() - started
        path.write_text(json.dumps(SPENT))

    atexit.register(dump)


def pieces_report(paths: list[Path], updates: int) -> str:
    import json

    spent: Counter[str] = Counter()
    for path in paths:
        spent.update(json.loads(path.read_text()))
    total = spent.pop("all (the process)", 0.0)
    outside = total - sum(spent.values())
    lines = [f"CPU by piece (time.process_time of each task's steps), {updates} updates:"]
    for name, seconds in [*spent.most_common(), ("outside tasks: the loop's callbacks", outside)]:
        lines.append(f"  {seconds * 1000 / updates:6.2f} ms/update  {name}")
    lines.append(f"  {total * 1000 / updates:6.2f} ms/update  all (start to exit)")
    return "\n".join(lines)
