"""gunicorn settings, production's and the dev runner's alike.

``gunicorn -c python:core.gunicorn_conf wsgi:app``. Read from the environment (see the
README): ``TURUMBA_HOST`` / ``TURUMBA_PORT``, ``TURUMBA_WEB_PROCESSES``,
``TURUMBA_THREADS`` and ``TURUMBA_KEEPALIVE``.
"""

from __future__ import annotations

import os

bind = f"{os.environ.get('TURUMBA_HOST', '127.0.0.1')}:{os.environ.get('TURUMBA_PORT', '8000')}"
#: Threads, not an event loop: a request spends most of its time waiting on PostgreSQL
#: and Redis, and the GIL is released meanwhile. One process per core.
worker_class = "gthread"
workers = int(os.environ.get("TURUMBA_WEB_PROCESSES", "2"))
threads = int(os.environ.get("TURUMBA_THREADS", "8"))
#: Seconds an idle keep-alive connection stays open (gunicorn's default is 2). Longer than
#: a proxy's idle timeout (60 s for most load balancers), so the proxy, never gunicorn,
#: closes an idle connection, and no request races a close; a reused connection skips
#: the TCP handshake. gthread parks idle connections in its poller, not in a thread.
keepalive = int(os.environ.get("TURUMBA_KEEPALIVE", "75"))
