"""Unified login, server-side sessions, roles and the access policy."""
