"""The Alembic migrations build exactly the schema the models describe."""

from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from sqlalchemy import text

from storage.db.migrate import upgrade
from storage.db.models import Base
from storage.db.sessions import make_engine


async def test_upgrade_matches_models(tmp_path) -> None:
    engine = make_engine(f"sqlite+aiosqlite:///{tmp_path / 'm.db'}")
    await upgrade(engine)

    def diff(conn):
        return compare_metadata(MigrationContext.configure(conn), Base.metadata)

    async with engine.connect() as conn:
        assert await conn.run_sync(diff) == []
        version = (await conn.execute(text("select version_num from alembic_version"))).scalar()
    assert version
    await upgrade(engine)  # a second run is a no-op
    await engine.dispose()
