"""Adapters to outside platforms: one package per peer, each with a client and a sandbox peer."""
