"""`hoibot run --workers N`: N bot processes on one port, watched by this one.

Each child is a whole worker (bot.app.run_bot) with its own event loop and connections; they
share the webhook port through SO_REUSEPORT (the kernel spreads connections among them) and
everything else through PostgreSQL: claimed updates, row-locked conversations, the outbox
claimed with SKIP LOCKED, reminder keys queued once. The parent only starts them, replaces
one that dies, and on SIGTERM or SIGINT passes the stop on and kills what is still running
after STOP_GRACE seconds. Linux only (SO_REUSEPORT, PR_SET_PDEATHSIG).
"""

from __future__ import annotations

import asyncio
import contextlib
import ctypes
import logging
import signal
import sys
import time

logger = logging.getLogger(__name__)
STOP_GRACE = 4.5  # a child's own stop takes about DRAIN_SECONDS; all are gone within 5 s
RESTART_PAUSE = 1.0
EARLY_EXIT = 10.0  # a child that fails this soon after its start would only fail again
_PR_SET_PDEATHSIG = 1


def _die_with_parent() -> None:
    """In the child, before exec: SIGTERM it when the parent dies (even by SIGKILL), so no
    orphan keeps the port and the work after a restart of the whole service."""
    libc = ctypes.CDLL(None, use_errno=True)
    libc.prctl(_PR_SET_PDEATHSIG, signal.SIGTERM)


def worker_command(count: int, index: int) -> list[str]:
    return [
        sys.executable,
        "-m",
        "bot.cli",
        "run",
        "--workers",
        str(count),
        "--worker-index",
        str(index),
    ]


async def supervise(count: int, grace: float = STOP_GRACE) -> int:
    """Runs `count` workers until SIGTERM or SIGINT; returns the exit code (0: all stopped
    cleanly, 1: one failed at its start, or one had to be killed)."""
    loop = asyncio.get_running_loop()
    stop = asyncio.Event()
    for sig in (signal.SIGTERM, signal.SIGINT):
        loop.add_signal_handler(sig, stop.set)
    children: dict[int, asyncio.subprocess.Process] = {}
    started: dict[int, float] = {}
    failed = False

    async def start(index: int) -> None:
        children[index] = await asyncio.create_subprocess_exec(
            *worker_command(count, index),
            preexec_fn=_die_with_parent,
            # Own process group: a Ctrl-C reaches the parent only, which stops them in order.
            process_group=0,
        )
        started[index] = time.monotonic()

    try:
        for index in range(count):
            await start(index)
        logger.info("%d workers started: pids %s", count, [p.pid for p in children.values()])
        stopping = asyncio.create_task(stop.wait())
        while not stop.is_set():
            exits = {asyncio.create_task(p.wait()): i for i, p in children.items()}
            done, _ = await asyncio.wait([stopping, *exits], return_when=asyncio.FIRST_COMPLETED)
            for task in exits:
                task.cancel()
            for task in done & exits.keys():
                index = exits[task]
                code = children[index].returncode
                if stop.is_set():
                    break
                # An error at start (settings, database) would come again; a kill would not.
                if code and code > 0 and time.monotonic() - started[index] < EARLY_EXIT:
                    logger.error("worker %d failed at its start (exit %s): stopping", index, code)
                    failed = True
                    stop.set()
                    break
                logger.warning("worker %d exited with %s: starting another", index, code)
                await asyncio.sleep(RESTART_PAUSE)
                await start(index)
    finally:
        killed = await _stop_all(list(children.values()), grace)
        for sig in (signal.SIGTERM, signal.SIGINT):
            loop.remove_signal_handler(sig)
    return 1 if failed or killed else 0


async def _stop_all(children: list[asyncio.subprocess.Process], grace: float) -> int:
    """SIGTERM to every child still running; SIGKILL to those not gone after `grace`.
    Returns how many had to be killed."""
    running = [p for p in children if p.returncode is None]
    for process in running:
        with contextlib.suppress(ProcessLookupError):
            process.send_signal(signal.SIGTERM)
    waits = [asyncio.create_task(p.wait()) for p in running]
    if not waits:
        return 0
    await asyncio.wait(waits, timeout=grace)
    killed = 0
    for process in running:
        if process.returncode is None:
            with contextlib.suppress(ProcessLookupError):
                process.kill()
            killed += 1
    await asyncio.gather(*waits, return_exceptions=True)
    if killed:
        logger.warning("%d workers did not stop within %.1f s: killed", killed, grace)
    return killed
