"""The benefits area keeps no tables of its own. The estimator computes from what is typed and
from the policy figures in ``config/policy/benefits.toml``; to prefill a date it reads the
signed-in person's work-injury recognition cases through ``portal.recognition.service``."""
