"""Memory at rest: resident memory of the running bot with 100,000 people registered.

    python -m bench.memory            # PostgreSQL, 100,000 branch leaders (+ officers)
    python -m bench.memory --quick

The bot runs in its own process (webhook mode, reminders on, against a fake Telegram API);
after it has planned its reminders and answered a few messages, its VmRSS is read from /proc.
"""

from __future__ import annotations

import argparse
import asyncio
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from aiohttp import ClientSession, web

from bench.common import Shape, build_nation, database, engine_for, run, table
from bench.fanout import free_port
from bench.inbound import ReplySink, start_bot, stop_bot


def rss_mb(pid: int) -> float:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) / 1024
    return 0.0


async def main(db: str, quick: bool) -> None:
    shape = Shape(2, 10, 20, 0) if quick else Shape(34, 97, 30, 0)
    with tempfile.TemporaryDirectory() as tmp:
        url = await database(db, Path(tmp))
        if not quick:  # build in a child process, so this one stays small too
            subprocess.run(
                [sys.executable, "-m", "bench.fanout", "--build", "full", "--url", url], check=True
            )
        else:
            engine = engine_for(url)
            await build_nation(engine, shape)
            await engine.dispose()
        sink = ReplySink()
        app = web.Application()
        app.router.add_post("/bot{token}/{method}", sink.handle)
        runner = web.AppRunner(app, access_log=None)
        await runner.setup()
        port = free_port()
        await web.TCPSite(runner, "127.0.0.1", port).start()
        processes, webhook = await start_bot("ours", url, f"http://127.0.0.1:{port}")
        process = processes[0]  # one worker
        try:
            started = rss_mb(process.pid)
            async with ClientSession() as http:
                for i, text in enumerate(["/baocao", "3", "/tiendo", "/tong thoat ngheo"]):
                    update = {
                        "update_id": 10_000 + i,
                        "message": {
                            "message_id": 1,
                            "date": int(time.time()),
                            "text": text,
                            "chat": {"id": 1_000_001, "type": "private"},
                            "from": {"id": 1_000_001, "is_bot": False, "first_name": "Lan"},
                        },
                    }
                    async with http.post(webhook, json=update):
                        pass
            await asyncio.sleep(3)
            after = rss_mb(process.pid)
        finally:
            stop_bot(processes)
            await runner.cleanup()
    people = shape.branch_count + shape.provinces * shape.communes + shape.provinces
    rows = [
        ["bot started, idle", f"{started:.0f} MB", "", ""],
        [
            f"after a few messages ({people:,} people registered)",
            f"{after:.0f} MB",
            "< 200 MB",
            "met" if after < 200 else "NOT met",
        ],
    ]
    print(table(rows, ["resident memory", "value", "goal", ""]))


if __name__ == "__main__":
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--db", choices=["postgres", "sqlite"], default="postgres")
    parser.add_argument("--quick", action="store_true")
    args = parser.parse_args()
    run(lambda: main(args.db, args.quick))
