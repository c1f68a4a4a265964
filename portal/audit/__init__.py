"""Audit trail (审计日志): append-only, hash-chained with SM3."""
