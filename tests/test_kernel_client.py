"""The batch's kernel client is ready when the kernel answers, without waiting for quiet."""

import asyncio
from queue import Empty

import pytest

from stat_lib.run.kernel_client import IOPUB_CHECK, ReadyClient


class Channel:
    """A channel holding ``messages``; ``get_msg`` records each timeout it was given."""

    def __init__(self, messages):
        self.messages, self.timeouts = list(messages), []

    async def get_msg(self, timeout=None):
        self.timeouts.append(timeout)
        if not self.messages:
            raise Empty
        return self.messages.pop(0)


class Fake(ReadyClient):
    """No sockets: ``kernel_info`` puts the kernel's answer (if any) on the channels."""

    def __init__(self, answers, alive=True):
        self.answers, self.alive, self.asked = list(answers), alive, 0
        self.shell, self.iopub = Channel([]), Channel([])

    shell_channel = property(lambda self: self.shell)
    iopub_channel = property(lambda self: self.iopub)

    def kernel_info(self):
        self.asked += 1
        if self.answers.pop(0):
            self.shell.messages.append({"msg_type": "kernel_info_reply", "content": {}})
            self.iopub.messages += [{"msg_type": "status"}, {"msg_type": "status"}]

    async def is_alive(self):
        return self.alive

    def _handle_kernel_info_reply(self, msg):
        self.info = msg


def test_ready_at_the_first_answer_taking_only_the_iopub_messages_already_there():
    kc = Fake([False, True])  # the kernel answers the second kernel_info
    asyncio.run(kc.wait_for_ready(timeout=10))
    assert kc.asked == 2 and kc.info["msg_type"] == "kernel_info_reply"
    # IOPub: the connection check waited (up to IOPUB_CHECK), then only timeout-0 reads
    assert kc.iopub.timeouts == [IOPUB_CHECK, 0, 0] and not kc.iopub.messages


def test_a_dead_kernel_is_an_error_not_a_wait():
    with pytest.raises(RuntimeError, match="died before replying"):
        asyncio.run(Fake([False], alive=False).wait_for_ready(timeout=10))


def test_a_silent_kernel_times_out_naming_the_timeout():
    with pytest.raises(RuntimeError, match="didn't respond in 0 seconds"):
        asyncio.run(Fake([False] * 5).wait_for_ready(timeout=0))
