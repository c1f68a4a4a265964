"""Effective-dated policy data (政策参数) read from ``config/policy/``. Plain Python."""
