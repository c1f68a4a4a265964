"""Every select of every form declares its options as WTForms ``SelectChoice``: WTForms 3.3
deprecates choices given as tuples (removed in 3.4), and the warning must not reach the logs."""

from __future__ import annotations

import importlib
import inspect
import pkgutil
import warnings

import pytest
from flask_wtf import FlaskForm
from wtforms import RadioField, SelectFieldBase
from wtforms.fields.choices import SelectChoice

import portal
from portal.config import load_defaults


def _form_classes() -> list[type[FlaskForm]]:
    found = []
    for info in pkgutil.iter_modules(portal.__path__):
        if not info.ispkg:
            continue
        try:
            module = importlib.import_module(f"portal.{info.name}.forms")
        except ModuleNotFoundError as exc:
            if exc.name == f"portal.{info.name}.forms":
                continue
            raise
        found += [cls for _, cls in inspect.getmembers(module, inspect.isclass)
                  if issubclass(cls, FlaskForm) and cls.__module__ == module.__name__]
    return found


FORMS = _form_classes()


def test_the_walk_finds_the_forms_with_selects():
    names = {f"{cls.__module__}.{cls.__name__}" for cls in FORMS}
    assert {"portal.projects.forms.BasisForm", "portal.projects.forms.InboxFilterForm",
            "portal.audit.forms.AuditFilterForm"} <= names


@pytest.fixture(scope="module")
def flask_app():
    from flask import Flask

    app = Flask(__name__)
    app.config.update(SECRET_KEY=load_defaults().get("secret_key") or "test", WTF_CSRF_ENABLED=False)
    return app


@pytest.mark.parametrize("form_class", FORMS, ids=lambda cls: f"{cls.__module__}.{cls.__name__}")
def test_select_choices_are_select_choice_objects(flask_app, form_class):
    with flask_app.test_request_context(), warnings.catch_warnings():
        warnings.simplefilter("error", DeprecationWarning)
        form = form_class(meta={"csrf": False})
        for field in form:
            if isinstance(field, (SelectFieldBase, RadioField)) and field.choices is not None:
                assert all(isinstance(choice, SelectChoice) for choice in field.choices), field.name
                assert "<option" in field() or "<input" in field()
