"""Documents rendered by the background worker (后台生成的文件): a person asks for a heavy PDF,
the portal answers at once with a page that shows 正在生成… and then the download link, while a
worker renders it.

A :class:`~portal.renders.models.DocumentJob` row holds the request (what to render), its state
(queued → running → done | failed), and the finished file, so any node can serve it and a
worker of any node can render it. Only the person who asked may see the job or fetch the file:
the row keeps the SHA-256 of a random secret kept in that person's session
(:mod:`portal.renders.access`). Documents are wired in by kind (``register_renderer``) in the
app factory; today the public benefits estimate (待遇测算) is rendered this way.
"""
