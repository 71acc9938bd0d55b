"""gunicorn's configuration for the portal in production: ``gunicorn -c gunicorn.conf.py wsgi:app``
(README, « Production »). Every setting can be changed by the environment, so that the same file
serves every host; the worker (timers, mails, antivirus) is a separate process: ``flask --app wsgi
worker``."""
import multiprocessing
import os

#: Where to listen; behind a load balancer or a reverse proxy, usually a private address.
bind = os.environ.get("GUNICORN_BIND", "127.0.0.1:8000")
#: Processes: 2 per core plus one by default (each holds its own database connections).
workers = int(os.environ.get("WEB_CONCURRENCY", multiprocessing.cpu_count() * 2 + 1))
#: Threads per process: a step waits on the database and on look-ups (company directory).
threads = int(os.environ.get("GUNICORN_THREADS", "4"))
worker_class = "gthread"
#: A request slower than this is killed and logged (a step is milliseconds; the recap PDF, seconds).
timeout = int(os.environ.get("GUNICORN_TIMEOUT", "60"))
graceful_timeout = 30
keepalive = 5
#: Restart each process after this many requests (bounds the growth of any cache or leak).
max_requests = int(os.environ.get("GUNICORN_MAX_REQUESTS", "2000"))
max_requests_jitter = 200
#: Not preloaded: each process opens its own database pool after the fork.
preload_app = False
#: The reverse proxy's addresses, whose X-Forwarded-* headers are trusted (comma-separated).
forwarded_allow_ips = os.environ.get("FORWARDED_ALLOW_IPS", "127.0.0.1")
accesslog = "-"
#: One line per request, with the id the portal's own log lines carry (app/logs.py).
access_log_format = '%(h)s "%(r)s" %(s)s %(b)s %(M)sms request_id=%({x-request-id}o)s'
errorlog = "-"
loglevel = os.environ.get("GUNICORN_LOG_LEVEL", "info")


def child_exit(server, worker):
    """Prometheus' multiprocess mode (PROMETHEUS_MULTIPROC_DIR, app/metrics.py): forget the figures
    of a process that exited."""
    if os.environ.get("PROMETHEUS_MULTIPROC_DIR"):
        from prometheus_client import multiprocess
        multiprocess.mark_process_dead(worker.pid)
