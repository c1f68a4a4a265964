"""工伤保险待遇 (work-injury benefits): the rules engine on effective-dated policy data, the public
estimator (待遇测算) and ``portal benefits estimate``.

``engine.estimate(facts)`` is plain Python (no Flask, no database); ``facts.parse_facts`` checks
input for the page and the command line alike; ``policy`` indexes ``config/policy/benefits.toml``.
"""
