#!/usr/bin/python3
"""Executes Jupyter notebooks headless with the Deno kernel and writes the executed copies.

Usage: /usr/bin/python3 tools/run_notebook.py [--out DIR] [--timeout S] [--grace S] NOTEBOOK.ipynb...

Stock nbclient stops reading a cell's iopub messages at its `status: idle`, but the Deno kernel sometimes
publishes output after idle (docs/platform.md#late-output-race), which nbclient then drops silently. This
executor keeps reading iopub after idle, with a short poll, until a grace period passes with no message for
the cell. It overrides a private nbclient method, so it needs Debian's nbclient 0.7.2 (checked at start).

Exit codes: 0 every notebook ran, 1 a cell raised an error or the kernel failed (the partial notebook is
still written), 2 bad usage or the wrong nbclient.
"""

import argparse
import asyncio
import os
import sys
import time
from queue import Empty

import nbclient
import nbformat
from nbclient.exceptions import CellExecutionComplete, CellExecutionError
from nbclient.util import ensure_async

NBCLIENT_VERSION = "0.7.2"
POLL_SECONDS = 0.05
GRACE_SECONDS = 0.25


class LateOutputClient(nbclient.NotebookClient):
    """A NotebookClient that also collects a cell's output published after its idle status."""

    grace_seconds = GRACE_SECONDS
    poll_seconds = POLL_SECONDS

    async def _async_poll_output_msg(self, parent_msg_id, cell, cell_index):
        assert self.kc is not None
        while True:
            msg = await ensure_async(self.kc.iopub_channel.get_msg(timeout=None))
            if msg["parent_header"].get("msg_id") != parent_msg_id:
                continue
            try:
                self.process_message(msg, cell, cell_index)
            except CellExecutionComplete:
                break
        await self._drain_late_output(parent_msg_id, cell, cell_index)

    async def _drain_late_output(self, parent_msg_id, cell, cell_index):
        """Reads iopub until `grace_seconds` pass with no message for this cell; keeps its outputs."""
        last = time.monotonic()
        while time.monotonic() - last < self.grace_seconds:
            try:
                msg = await ensure_async(self.kc.iopub_channel.get_msg(timeout=self.poll_seconds))
            except Empty:
                continue
            if msg["parent_header"].get("msg_id") != parent_msg_id:
                continue
            last = time.monotonic()
            # a second idle (or busy) would end the cell again; only outputs matter now
            if msg["msg_type"] != "status":
                self.process_message(msg, cell, cell_index)


def execute(path, out_dir, timeout, grace):
    """Runs one notebook in its own folder; writes OUT_DIR/<name>. Returns an error line or None."""
    nb = nbformat.read(path, as_version=4)
    client = LateOutputClient(
        nb,
        timeout=timeout,
        kernel_name="deno",
        resources={"metadata": {"path": os.path.dirname(os.path.abspath(path))}},
    )
    client.grace_seconds = grace
    error = None
    try:
        client.execute()
    except CellExecutionError as e:
        error = str(e).strip().splitlines()[-1] if str(e).strip() else "cell error"
    except Exception as e:  # kernel death, timeouts: still write what ran
        error = f"{type(e).__name__}: {e}"
    os.makedirs(out_dir, exist_ok=True)
    target = os.path.join(out_dir, os.path.basename(path))
    tmp = target + ".tmp"
    nbformat.write(nb, tmp)
    os.replace(tmp, target)
    return error


def main(argv):
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("notebooks", nargs="+", help="notebooks to execute")
    parser.add_argument("--out", default="executed", help="folder for the executed notebooks (default: executed)")
    parser.add_argument("--timeout", type=float, default=600, help="seconds per cell (default 600)")
    parser.add_argument(
        "--grace", type=float, default=GRACE_SECONDS,
        help=f"seconds without a message after idle before a cell ends (default {GRACE_SECONDS})",
    )
    args = parser.parse_args(argv)
    if nbclient.__version__ != NBCLIENT_VERSION:
        print(
            f"run_notebook.py: nbclient {nbclient.__version__} found, {NBCLIENT_VERSION} needed "
            "(the late-output fix overrides a private method): apt-get install python3-nbclient and run "
            "with /usr/bin/python3",
            file=sys.stderr,
        )
        return 2
    failed = 0
    for path in args.notebooks:
        if not os.path.isfile(path):
            print(f"{path}: no such notebook", file=sys.stderr)
            return 2
        started = time.monotonic()
        error = execute(path, args.out, args.timeout, args.grace)
        seconds = time.monotonic() - started
        if error:
            failed += 1
            print(f"FAILED {path} ({seconds:.1f} s): {error}", file=sys.stderr)
        else:
            print(f"ok {path} ({seconds:.1f} s)")
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
