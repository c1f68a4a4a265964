"""Forms of operations: asking for a system self-check (系统自检) is a button."""

from flask_wtf import FlaskForm


class SelfCheckForm(FlaskForm):
    """Only the CSRF token: start a self-check."""
