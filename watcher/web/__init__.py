"""The review page: `watcher web`, a process of its own that reads the daemon's database
and folders (Starlette on uvicorn, Jinja2 templates, plain JavaScript, nothing fetched
from the internet)."""
