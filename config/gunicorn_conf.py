"""gunicorn settings shared by `make run` (config/launcher.py), the tests' live server and the
benchmarks, so that all three run the same server: `gunicorn -c python:config.gunicorn_conf`."""

worker_class = "config.web_worker.ProblemThreadWorker"
# The longest request line gunicorn takes (its default is 4094): a key batch of about 400
# ID numbers in one `__in` filter. Past it the request is a 414 problem document.
limit_request_line = 8190
