"""Statutory clocks (法定期限): the working-day calendar, the deadline calculator and the
province's holiday override table."""
