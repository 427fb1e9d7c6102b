"""The Socket.IO message queue on Redis, as python-socketio's, with two differences.

It listens only once its process has a connection to deliver to: the RQ workers and the
CLI emit through it and never serve a browser, so they never subscribe to every push.

When its listener loses Redis (a restart, a network blip) it reconnects within seconds
(python-socketio's own backs off up to a minute) and, once subscribed again, tells the
process's connections ``feed.reset``: the pushes published meanwhile never reached them,
so they ask for them (``resync``), and are told to reload if Redis restarted and forgot
the feeds (:mod:`realtime.feed`). No silent gap either way.
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Iterator
from typing import Any

import socketio

log = logging.getLogger(__name__)

#: Seconds before the listener's first attempt to reconnect, doubled up to the last.
RETRY_FIRST, RETRY_LAST = 0.5, 4.0


class Queue(socketio.RedisManager):
    def __init__(self, url: str, *, channel: str) -> None:
        super().__init__(url, channel=channel, write_only=True)
        self._listener: Any = None
        self._listen_once = threading.Lock()

    def connect(self, sid: str, namespace: str) -> Any:
        """A connection was admitted: from now on this process has someone to deliver to."""
        with self._listen_once:
            if self._listener is None:
                self._listener = self.server.start_background_task(self._thread)
        return super().connect(sid, namespace)

    def _redis_listen_with_retries(self) -> Iterator[dict]:
        wait, lost = RETRY_FIRST, False
        while True:
            try:
                self._redis_connect()
                self.pubsub.subscribe(self.channel)
                if lost:
                    self.server.start_background_task(self._reset)
                wait, lost = RETRY_FIRST, False
                yield from self.pubsub.listen()
            except Exception as exc:  # whatever the Redis client raises for a lost server
                log.warning("lost the Socket.IO queue (%s); again in %.1f s", exc, wait)
                lost = True
                time.sleep(wait)
                wait = min(wait * 2, RETRY_LAST)

    def _reset(self) -> None:
        for namespace in list(self.get_namespaces()):
            reset = {"reason": "queue_reconnected"}
            self.emit("feed.reset", reset, namespace=namespace, room=None, ignore_queue=True)
