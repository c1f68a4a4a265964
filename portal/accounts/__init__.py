"""Accounts: who signs in (natural persons, legal persons, staff) and their personal data."""
