"""Materials tests store files under the test's own temporary directory."""

import pytest


@pytest.fixture
def app_overrides(tmp_path) -> dict:
    return {"files_dir": str(tmp_path / "files")}


@pytest.fixture
def files_dir(tmp_path):
    return tmp_path / "files"
