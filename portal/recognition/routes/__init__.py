"""Views of work-injury recognition, on one blueprint ``bp`` (endpoints ``recognition.*``): the
applicant's side (filing, the parties' case page, supplement, 催办, withdrawal) in ``applicant``
and the recognition office's side (queue, case page and actions, supervision) in ``office``."""

from portal.recognition.routes import applicant, office
from portal.recognition.routes.blueprint import bp

__all__ = ["bp", "applicant", "office"]
