"""Accounts (账号与个人信息): who signs in (natural persons, legal persons, staff) and their personal data."""
