"""The hostile-input and fault suite: one regression test (or more) per finding of the security
round (issue 12), each failing on the code before its fix. Where a point belongs to one area, its
tests live with that area; this index names them.

1. Audit trail erased or shortened undetected — ``test_audit_tamper.py`` (keyed HMAC-SM3 chain,
   signed checkpoints outside the database, PostgreSQL TRUNCATE and head guards, the runtime role).
2. Identity token at rest and in URLs — ``tests/auth/test_unified_login.py`` and
   ``tests/auth/test_sessions.py`` (no id_token stored, an opaque logout hint, nothing in logs).
3. Squatting on ID numbers — ``test_person_squatting.py`` (unconfirmed typed records, linking on
   verified sign-in, the clerks' work list, identical answers whatever is registered).
4. Costly requests — ``test_costly_requests.py`` (limits per client address before
   authentication, the cached estimate PDF, spreadsheet caps by unzipped size, rows and time).
5. Hostile input — ``test_hostile_input.py`` (control and bidi characters refused at the door and
   never printed, formula-like names, PDF actions and links removed, no SQL parameters in logs).
6. Faults — ``tests/core/test_database_faults.py`` (Chinese 503, timeouts from configuration,
   recovery without restart) and, for a payment reference the platform has forgotten,
   ``tests/payments/test_service.py`` and ``tests/payments/test_live.py``.
7. Identifiers — ``tests/accounts/test_identifier_regions.py`` (region codes that ever existed,
   81/82/83 residence permits, 15-digit numbers converted to 18).
8. Minimisation — ``tests/recognition/test_visibility.py`` (who may see each kind of material).
"""
