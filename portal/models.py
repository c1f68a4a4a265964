"""Every area's models, imported in one place for Alembic and the tests."""

from portal.accounts import models as accounts_models  # noqa: F401
from portal.api import models as api_models  # noqa: F401
from portal.audit import models as audit_models  # noqa: F401
from portal.auth import models as auth_models  # noqa: F401
from portal.certificates import models as certificates_models  # noqa: F401
from portal.clocks import models as clocks_models  # noqa: F401
from portal.db import Base
from portal.enrollment import models as enrollment_models  # noqa: F401
from portal.inbox import models as inbox_models  # noqa: F401
from portal.materials import models as materials_models  # noqa: F401
from portal.ops import models as ops_models  # noqa: F401
from portal.outbox import models as outbox_models  # noqa: F401
from portal.payments import models as payments_models  # noqa: F401
from portal.projects import models as projects_models  # noqa: F401
from portal.recognition import models as recognition_models  # noqa: F401
from portal.renders import models as renders_models  # noqa: F401

metadata = Base.metadata
