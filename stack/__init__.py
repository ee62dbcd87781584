"""The one library that starts and stops every local thing the project runs: Redis servers
(``redis_server``), PostgreSQL databases and users (``postgres``), the web and the worker
through their entrypoints (``web``, ``worker``, ``fleet``), images and containers
(``image``, ``containers``), and the processes under them all (``processes``,
``proctree``, ``ports``, ``ownership``: every process it starts dies with its starter).

``make run``, the blueprint rehearsal (``blueprintup``), the tests and the benchmarks all
start things through it. It runs the project from outside: it imports none of its Django
side.
"""
