"""Fixtures of the clocks tests: actors of the demo logins and a session."""

from __future__ import annotations

import pytest

from tests.conftest import sign_in_up_front


@pytest.fixture
def actor_for(actor_for):
    return sign_in_up_front(actor_for, "provincial", "clerk")
