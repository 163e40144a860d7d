"""Alembic environment: the engine comes from the vle app (see vle/migrations.py),
or from VLE_DATABASE_URL / the instance folder when run with the alembic command."""

from __future__ import annotations

from alembic import context
from sqlalchemy import Engine

import config as settings
from vle import audit as _audit  # noqa: F401
from vle.accounts import models as _accounts  # noqa: F401 - register the tables
from vle.catalog import models as _catalog  # noqa: F401
from vle.certificates import models as _certificates  # noqa: F401
from vle.community import models as _community  # noqa: F401
from vle.competencies import models as _competencies  # noqa: F401
from vle.db import Base, database_url, make_engine
from vle.learning import models as _learning  # noqa: F401
from vle.mail import models as _mail  # noqa: F401
from vle.monitoring import models as _monitoring  # noqa: F401
from vle.quizzes import models as _quizzes  # noqa: F401

target_metadata = Base.metadata


def run() -> None:
    engine: Engine | None = context.config.attributes.get("engine")
    if engine is None:
        engine = make_engine(database_url(settings.load()))
    with engine.connect() as connection:
        context.configure(
            connection=connection,
            target_metadata=target_metadata,
            render_as_batch=True,  # SQLite alters tables by copying them
            compare_type=True,
        )
        with context.begin_transaction():
            context.run_migrations()
        connection.commit()


run()
