"""工伤保险省级统筹公共服务门户 — application factory.

``flask --app portal ...`` and the ``portal`` console script both build the app here.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any, Mapping

from flask import Flask
from werkzeug.middleware.proxy_fix import ProxyFix

from portal.characters import without_invisible_controls
from portal.config import PROJECT_ROOT, load_settings, use_config_dir, validate
from portal.logging_setup import configure_logging


def create_app(overrides: Mapping[str, Any] | None = None) -> Flask:
    settings = load_settings(overrides)
    configure_logging(settings.log_format, settings.log_level)
    validate(settings)
    use_config_dir(settings.config_dir)  # the province this deployment serves (regions, catalogue)

    app = Flask(
        __name__,
        template_folder=str(PROJECT_ROOT / "templates"),
        static_folder=str(PROJECT_ROOT / "static"),
        instance_path=str(PROJECT_ROOT / "instance"),
    )
    # Every printed value passes one filter: no bidi or control character reaches a page or PDF.
    app.jinja_options = {**app.jinja_options, "finalize": without_invisible_controls}
    app.config.from_mapping(settings.flask_config())
    Path(app.instance_path).mkdir(parents=True, exist_ok=True)
    if settings.trusted_proxies:
        n = settings.trusted_proxies
        app.wsgi_app = ProxyFix(app.wsgi_app, x_for=n, x_proto=n, x_host=n)  # type: ignore[method-assign]

    _init_data_layer(app, settings)
    _init_extensions(app, settings)
    _register_blueprints(app)
    _wire_areas(app)
    return app


def _init_data_layer(app: Flask, settings) -> None:
    from portal.auth.session_store import DatabaseSessionInterface
    from portal.db import Database
    from portal.security.crypto import parse_keyring
    from portal.security.fields import install_keyring

    install_keyring(
        parse_keyring(settings.encryption_keys, settings.encryption_active_key,
                      settings.encryption_algorithm),
        settings.lookup_key.encode("utf-8"),
    )
    database = Database(settings.database_url, statement_timeout_ms=settings.db_statement_timeout_ms,
                        lock_timeout_ms=settings.db_lock_timeout_ms)
    app.extensions["portal.database"] = database
    app.session_interface = DatabaseSessionInterface(database, settings.session_idle_minutes)


def _init_extensions(app: Flask, settings) -> None:
    from portal.auth.oidc import init_oidc
    from portal.cli import register_commands
    from portal.extensions import csrf, htmx, limiter
    from portal.tasks import queue
    from portal.web import (
        errors,
        filters,
        hooks,
        input_guard,
        limits,
        submissions,
        unit_of_work,
    )

    csrf.init_app(app)
    limiter.init_app(app)
    limits.skip_unlimited_views(app)  # pages without a limit skip the limiter's per-request work
    htmx.init_app(app)
    init_oidc(app, settings)
    # registered before the other after-request hooks, so it runs after them (Flask runs them in
    # reverse): the commit is the last thing before the response leaves
    unit_of_work.init_app(app)
    hooks.init_app(app)
    input_guard.init_app(app)  # after the actor is known, before any view: refuses control characters
    errors.init_app(app)
    filters.init_app(app)
    submissions.init_app(app)  # {{ submission_field() }}: a retried POST never writes twice
    # The task queue follows this app's settings and runs tasks against its database.
    queue.init_app(app)
    # `flask --app portal X` offers the same commands as the `portal` script.
    register_commands(app)


#: Areas whose ``routes.bp`` blueprint the app serves, in registration order.
AREAS = ("public", "auth", "home", "accounts", "audit", "ops", "enrollment", "api", "certificates",
         "payments", "projects", "clocks", "materials", "inbox", "recognition", "benefits", "renders")


def _wire_areas(app: Flask) -> None:
    """What the areas provide to one another, said once, here (nothing registers on import).

    Each call is idempotent: tests build many apps in one process."""
    from flask import current_app

    from portal.certificates import service as certificates
    from portal.clocks import service as clocks
    from portal.enrollment import service as enrollment
    from portal.materials import service as materials
    from portal.ops import service as ops
    from portal.outbox import service as outbox
    from portal.payments import service as payments
    from portal.projects import service as projects
    from portal.recognition import service as recognition
    from portal.tasks import jobs as job_tasks
    from portal.tasks import payments as payment_tasks

    # 参保证明: what a certificate may say of a unit and of a project
    certificates.register(enrollment.CERTIFICATE_SUBJECT)
    certificates.register(projects.CERTIFICATE_SUBJECT)
    # who may read the files of a recognition case
    materials.register_access_rule(recognition.case_file_rule)
    # a change of the holiday calendar recomputes the due dates stored on recognition cases
    clocks.register_due_dates_recompute(recognition.recompute_due_dates)
    # a paid project bill covers the project
    payments.register_paid_handler(projects.SUBJECT_TYPE, projects.on_bill_paid)
    # services find the tax collection platform's client of the app in context
    payments.set_platform_provider(lambda: tax_platform_client(current_app))
    # a new bill's 缴款码 is asked for through the outbox, right after the issuing commit
    outbox.register_handler(payments.REFERENCE_TOPIC, payment_tasks.deliver_reference)
    # a job run asked for in a request goes to the task queue right after its commit
    outbox.register_handler(ops.ENQUEUE_TOPIC, job_tasks.enqueue_recorded)
    # heavy documents the background worker renders (a page shows 正在生成… meanwhile)
    from portal.benefits import routes as benefits_routes
    from portal.renders import service as renders
    from portal.renders import tasks as render_tasks

    renders.use_queue(render_tasks.render_document)  # importing the module registers its tasks
    renders.register_renderer(benefits_routes.ESTIMATE_PDF_KIND, benefits_routes.render_estimate_pdf,
                              title="工伤保险待遇测算（估算）")


def tax_platform_client(app: Flask):
    """The tax collection platform client of ``app`` (built once per app)."""
    client = app.extensions.get("portal.tax_platform")
    if client is None:
        from adapters.tax_collection.client import TaxPlatformClient

        conf = app.config["PORTAL_SETTINGS"]
        client = TaxPlatformClient(conf.tax_platform_url, conf.tax_platform_key.encode("utf-8"),
                                   timeout=conf.tax_platform_timeout_seconds)
        app.extensions["portal.tax_platform"] = client
    return client


def _register_blueprints(app: Flask) -> None:
    # Imported here, not at module top, so areas never import the app (no cycles).
    from importlib import import_module

    from portal.auth.access import PUBLIC

    for area in AREAS:
        app.register_blueprint(import_module(f"portal.{area}.routes").bp)
    # Flask's own static files are public.
    app.view_functions["static"].access_policy = PUBLIC  # type: ignore[attr-defined]
