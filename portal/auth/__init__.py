"""Unified login (统一身份认证): server-side sessions, roles and the access policy."""
