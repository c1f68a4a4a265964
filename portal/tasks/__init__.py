"""Background jobs (后台任务) on Huey.

``queue`` builds the one Huey instance from settings (SQLite file embedded, Redis in production);
``jobs`` holds the tasks. The web process enqueues, ``portal worker`` (or the in-process consumer
of ``portal demo``) runs them; both import the same task code.
"""
