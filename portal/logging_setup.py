"""Structured logging: one JSON object per line, through structlog.

Log lines carry identifiers of requests, roles, endpoints and outcomes, never personal data:
no ID, phone or bank numbers, no names, no query strings, no form bodies.
"""

from __future__ import annotations

import logging
import sys

import structlog


def configure_logging(log_format: str = "json", level: str = "INFO") -> None:
    renderer = (structlog.processors.JSONRenderer(ensure_ascii=False) if log_format == "json"
                else structlog.dev.ConsoleRenderer(colors=False))
    structlog.configure(
        processors=[
            structlog.contextvars.merge_contextvars,
            structlog.processors.add_log_level,
            structlog.processors.TimeStamper(fmt="iso", utc=True),
            structlog.processors.format_exc_info,
            renderer,
        ],
        wrapper_class=structlog.make_filtering_bound_logger(getattr(logging, level.upper(), logging.INFO)),
        logger_factory=structlog.PrintLoggerFactory(file=sys.stderr),
        cache_logger_on_first_use=False,
    )
    # Werkzeug's own access log duplicates ours and prints query strings: keep it quiet.
    logging.getLogger("werkzeug").setLevel(logging.WARNING)
