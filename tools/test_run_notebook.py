#!/usr/bin/python3
"""Late-output handling of tools/run_notebook.py on a scripted iopub sequence (no kernel needed).

The fake kernel publishes, for one cell: busy, a stream, idle, then (late) a display_data and an
execute_result, a message of another cell, and a stray idle. The fixed client must keep both late outputs
exactly once; stock nbclient's reader is run on the same sequence to show that it drops them (so this test
would fail without the fix). Run: /usr/bin/python3 tools/test_run_notebook.py
"""

import asyncio
import os
import sys
from queue import Empty

import nbclient
import nbformat

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from run_notebook import LateOutputClient  # noqa: E402

PARENT = "cell-1"


def message(msg_type, content, parent=PARENT):
    return {
        "msg_type": msg_type,
        "header": {"msg_type": msg_type, "date": None},
        "parent_header": {"msg_id": parent},
        "metadata": {},
        "content": content,
    }


SEQUENCE = [
    message("status", {"execution_state": "busy"}),
    message("stream", {"name": "stdout", "text": "early\n"}),
    message("status", {"execution_state": "idle"}),
    ("wait", 0.02),  # shorter than the grace period
    message("display_data", {"data": {"image/svg+xml": "<svg/>"}, "metadata": {}}),
    message("stream", {"name": "stdout", "text": "other cell\n"}, parent="cell-0"),
    message("execute_result", {"data": {"text/plain": "42"}, "metadata": {}, "execution_count": 1}),
    message("status", {"execution_state": "idle"}),
]


class FakeIopub:
    def __init__(self, sequence):
        self.queue = list(sequence)

    async def get_msg(self, timeout=None):
        while self.queue and isinstance(self.queue[0], tuple):
            await asyncio.sleep(self.queue.pop(0)[1])
        if self.queue:
            return self.queue.pop(0)
        if timeout is None:
            raise AssertionError("stock reader would block forever: the sequence ran out before idle")
        await asyncio.sleep(timeout)
        raise Empty


class FakeKernelClient:
    def __init__(self, sequence):
        self.iopub_channel = FakeIopub(sequence)


def run(client_class):
    nb = nbformat.v4.new_notebook(cells=[nbformat.v4.new_code_cell("x")])
    client = client_class(nb, kernel_name="deno")
    client.reset_execution_trackers()
    client.clear_before_next_output = False  # set by async_execute_cell, which is bypassed here
    client.kc = FakeKernelClient(SEQUENCE)
    cell = nb.cells[0]
    cell.metadata["execution"] = {}
    asyncio.run(client._async_poll_output_msg(PARENT, cell, 0))
    return [o["output_type"] for o in cell.outputs], cell.outputs


def main():
    fixed, outputs = run(LateOutputClient)
    expected = ["stream", "display_data", "execute_result"]
    assert fixed == expected, f"late-output client kept {fixed}, expected {expected}"
    assert outputs[0]["text"] == "early\n", "the other cell's stream must not join this cell's"
    stock, _ = run(nbclient.NotebookClient)
    assert stock == ["stream"], f"stock nbclient kept {stock}; the scripted race no longer reproduces"
    print("ok late output kept: fixed client", fixed, "| stock nbclient", stock)


if __name__ == "__main__":
    main()
