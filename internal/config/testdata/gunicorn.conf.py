# A gunicorn.conf.py as people write them: only simple assignments.
# -*- coding: utf-8 -*-

bind = [
    "0.0.0.0:8000",            # public
    'unix:/run/app/app.sock',  # for nginx
]
backlog = 1024
workers = 4
threads = 64
worker_connections = 1_000
timeout = 120
graceful_timeout = 30.5
keepalive = 5
max_requests = 1000
max_requests_jitter = 50
max_worker_memory = "512M"
limit_request_line = 0
limit_request_fields = 200
limit_request_field_size = 16384
protocol = "http"
http_protocols = ("h1", "h2c")
http2_max_frame_size = 0x8000
forwarded_allow_ips = "10.0.0.0/8, 127.0.0.1"
uwsgi_allow_from = ["127.0.0.1"]
accesslog = "-"
access_log_format = '%(h)s %(l)s %(u)s %(t)s "%(r)s" %(s)s %(b)s "%(f)s" "%(a)s" %(L)s'
errorlog = "/var/log/app/error.log"
loglevel = "warning"
pidfile = "/run/app/app.pid"
user = "www-data"
group = None
umask = 0o027
reuse_port = True
raw_env = ["DJANGO_SETTINGS_MODULE=app.settings", "MODE=prod"]
