"""gunicorn settings, production's and the dev runner's alike.

``gunicorn -c python:core.gunicorn_conf wsgi:app``. Read from the environment (see the
README): ``TURUMBA_HOST`` / ``TURUMBA_PORT``, ``TURUMBA_WORKER_CLASS``,
``TURUMBA_WEB_PROCESSES``, ``TURUMBA_THREADS``, ``TURUMBA_WORKER_CONNECTIONS`` and
``TURUMBA_KEEPALIVE``.
"""

from __future__ import annotations

import os

bind = f"{os.environ.get('TURUMBA_HOST', '127.0.0.1')}:{os.environ.get('TURUMBA_PORT', '8000')}"
#: Threads, not an event loop: a request waits on PostgreSQL and Redis part of its time,
#: and the GIL is released meanwhile. One process per core, and few threads each: more
#: threads than that only fight over the GIL (bench/messages.py, 2 cores, 50 clients:
#: 2 x 2 threads gave ~390 messages/s at 3.9 ms of server CPU each and a p95 of ~20 ms
#: at 200 requests/s; 2 x 8 gave ~280/s at 5.3 ms and a p95 over 100 ms).
#:
#: ``TURUMBA_WORKER_CLASS=gevent`` is for the processes that hold the sockets: an open
#: websocket costs a greenlet instead of threads, and a push's fan-out to 1,000 of them
#: costs a third to a sixth of the CPU (bench/realtime.py). ``api.sockets.init_app`` follows
#: (Flask-SocketIO on gevent, websockets through simple-websocket); psycopg and redis-py
#: run on the patched sockets. It serves the REST API as fast but not as well: nothing
#: bounds the requests a process runs at once, so each may open ``TURUMBA_DB_POOL_SIZE``
#: + 10 PostgreSQL connections, and p95 about doubled (bench/messages.py). Hence gthread
#: by default, and gevent behind a route for ``/socket.io/`` (see the README).
WORKER_CLASSES = ("gthread", "gevent")
worker_class = os.environ.get("TURUMBA_WORKER_CLASS", "gthread")
if worker_class not in WORKER_CLASSES:
    raise ValueError(f"TURUMBA_WORKER_CLASS must be one of {', '.join(WORKER_CLASSES)}")
workers = int(os.environ.get("TURUMBA_WEB_PROCESSES", "2"))
threads = int(os.environ.get("TURUMBA_THREADS", "2"))
#: gevent only: the connections (open websockets included) one process serves at once,
#: each a greenlet; past it, new connections wait in the listen backlog.
worker_connections = int(os.environ.get("TURUMBA_WORKER_CONNECTIONS", "2000"))
#: Seconds an idle keep-alive connection stays open (gunicorn's default is 2). Longer than
#: a proxy's idle timeout (60 s for most load balancers), so the proxy, never gunicorn,
#: closes an idle connection, and no request races a close; a reused connection skips
#: the TCP handshake. gthread parks idle connections in its poller, not in a thread.
keepalive = int(os.environ.get("TURUMBA_KEEPALIVE", "75"))
#: Each worker listens on its own SO_REUSEPORT socket, so the kernel spreads connections
#: evenly over the workers. On one shared socket, Linux hands most new connections to the
#: same worker (42 of 50 measured here), and keep-alive keeps them there: that worker
#: saturates while the other idles (bench/messages.py, 200 requests/s: p95 238 ms shared,
#: 35 ms with this). Only processes of the same user can join the port.
reuse_port = True
