"""工伤保险待遇 (work-injury benefits): the rules engine on effective-dated policy data, the public estimator (待遇测算) and ``portal benefits estimate``."""
