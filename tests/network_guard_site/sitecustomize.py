"""Installs tests/network_guard.py in every Python process a test starts.

On ``PYTHONPATH`` only while the test suite runs (``tests/conftest.py`` puts it there). A child
keeps its own fixed ports (the test chose them with ``free_port()``) but may talk to loopback
only; what it is refused goes to the file named by ``TEST_NETWORK_GUARD_LOG``, and the test that
started it fails.
"""

import importlib.util
import os
import sys
from pathlib import Path


def _install() -> None:
    log_path = os.environ.get("TEST_NETWORK_GUARD_LOG")
    if not log_path:
        return
    source = Path(__file__).resolve().parents[1] / "network_guard.py"
    spec = importlib.util.spec_from_file_location("_test_network_guard", source)
    if spec is None or spec.loader is None:
        return
    module = importlib.util.module_from_spec(spec)
    sys.modules["_test_network_guard"] = module
    spec.loader.exec_module(module)
    module.install(check_fixed_ports=False, log_path=log_path)


_install()
