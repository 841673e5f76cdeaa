"""sessions.created: the sign-in time, for auth.session.absolute_max_age.

Nullable, so rows written by an Auth.js app sharing the database still fit.
Existing sessions count as begun now: the upgrade signs nobody out, and
their absolute lifetime runs from here.

Revision ID: 0003_session_created
Revises: 0002_registration
Create Date: 2026-12-02
"""

import sqlalchemy as sa
from alembic import op

revision = "0003_session_created"
down_revision = "0002_registration"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.add_column(
        "sessions", sa.Column("created", sa.DateTime(timezone=True), nullable=True)
    )
    op.execute("UPDATE sessions SET created = CURRENT_TIMESTAMP")


def downgrade() -> None:
    # resolve_fks=False: reflecting users too would only warn about its
    # expression index, which this does not touch.
    with op.batch_alter_table(
        "sessions", reflect_kwargs={"resolve_fks": False}
    ) as batch:
        batch.drop_column("created")
