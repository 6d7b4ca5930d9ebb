"""The batch's kernel client: ready as soon as the kernel is, with no fixed wait.

jupyter_client's ``wait_for_ready`` ends by reading IOPub until 0.2 s pass without a message,
so every kernel start waited 0.2 s after the kernel had answered (a forked kernel answers in
about 0.07 s): about 2 s of the sample city's 10 notebooks. Here the client is ready once the
kernel has answered ``kernel_info`` and IOPub has carried a message (it is connected, as
jupyter_client checks), and then takes only the IOPub messages already there. A later status
message of that ``kernel_info`` is harmless: nbclient reads only the messages of its own
requests.
"""

from __future__ import annotations

import time
from queue import Empty

from jupyter_client.asynchronous import AsyncKernelClient

IOPUB_CHECK = 0.2  # seconds to wait for IOPub's first message before asking again


class ReadyClient(AsyncKernelClient):
    """``AsyncKernelClient`` whose ``wait_for_ready`` returns when the kernel answers."""

    async def wait_for_ready(self, timeout: float | None = None) -> None:
        end = time.monotonic() + (float("inf") if timeout is None else timeout)
        while not await self._answered():
            if not await self.is_alive():
                raise RuntimeError("Kernel died before replying to kernel_info")
            if time.monotonic() > end:
                raise RuntimeError(f"Kernel didn't respond in {timeout:.0f} seconds")
        while True:  # what is already on IOPub, without waiting for more
            try:
                await self.iopub_channel.get_msg(timeout=0)
            except Empty:
                return

    async def _answered(self) -> bool:
        """One ``kernel_info`` round trip; True when it was answered and IOPub is connected."""
        self.kernel_info()
        try:
            reply = await self.shell_channel.get_msg(timeout=1)
        except Empty:
            return False
        if reply["msg_type"] != "kernel_info_reply":
            return False
        try:
            await self.iopub_channel.get_msg(timeout=IOPUB_CHECK)
        except Empty:
            return False
        self._handle_kernel_info_reply(reply)
        return True
