"""The session registry: one record per signed-in session, JWT or database.

A table of its own (``session_registry``), so Auth.js's ``sessions`` keeps
its schema: a database session's record points at its row (ON DELETE
CASCADE), a JWT session's record stands alone and the token carries its id.
``user_id`` (ON DELETE CASCADE) is set when the subject is a row of
``users``. Existing database sessions get a record each (so they show on the
account page and end with the others); existing JWTs have no ``sid`` claim
and read as signed out once ``auth.session.check_interval`` is above 0.

The registry replaces registration's ``session_version`` (the ``pwv`` claim):
the column goes. Downgrading brings it back at 0, which ends no session.

Revision ID: 0005_session_registry
Revises: 0004_users_autoincrement
Create Date: 2026-12-02
"""

import datetime as dt
import secrets

import sqlalchemy as sa
from alembic import op

revision = "0005_session_registry"
down_revision = "0004_users_autoincrement"
branch_labels = None
depends_on = None

#: auth.session.absolute_max_age's default: the longest a backfilled record lives.
ABSOLUTE_MAX_AGE = dt.timedelta(days=30)


def _aware(value):
    if value is None:
        return None
    if isinstance(value, str):  # SQLite hands back text in raw queries
        value = dt.datetime.fromisoformat(value)
    return value if value.tzinfo else value.replace(tzinfo=dt.UTC)


def upgrade() -> None:
    registry = op.create_table(
        "session_registry",
        sa.Column("id", sa.String(length=64), nullable=False),
        sa.Column("subject", sa.String(length=255), nullable=False),
        sa.Column("user_id", sa.Integer(), nullable=True),
        sa.Column("session_id", sa.Integer(), nullable=True),
        sa.Column("strategy", sa.String(length=16), nullable=False),
        sa.Column("created", sa.DateTime(timezone=True), nullable=False),
        sa.Column("last_seen", sa.DateTime(timezone=True), nullable=False),
        sa.Column("expires", sa.DateTime(timezone=True), nullable=False),
        sa.Column("client", sa.String(length=100), nullable=False),
        sa.Column("address", sa.String(length=64), nullable=False),
        sa.ForeignKeyConstraint(
            ["user_id"],
            ["users.id"],
            name=op.f("fk_session_registry_user_id_users"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["session_id"],
            ["sessions.id"],
            name=op.f("fk_session_registry_session_id_sessions"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_session_registry")),
        sa.UniqueConstraint("session_id", name=op.f("uq_session_registry_session_id")),
    )
    op.create_index(
        op.f("ix_session_registry_subject"), "session_registry", ["subject"]
    )
    op.create_index(
        op.f("ix_session_registry_user_id"), "session_registry", ["user_id"]
    )

    bind = op.get_bind()
    now = dt.datetime.now(dt.UTC)
    rows = bind.execute(
        sa.text('SELECT id, "userId", expires, created FROM sessions')
    ).all()
    records = []
    for row in rows:
        created = _aware(row.created) or now
        expires = max(_aware(row.expires), created + ABSOLUTE_MAX_AGE)
        records.append(
            {
                "id": secrets.token_urlsafe(32),
                "subject": str(row.userId),
                "user_id": row.userId,
                "session_id": row.id,
                "strategy": "database",
                "created": created,
                "last_seen": created,
                "expires": expires,
                "client": "Unknown client",
                "address": "",
            }
        )
    if records:
        if bind.dialect.name == "sqlite":  # stored as naive UTC, as the app does
            for record in records:
                for key in ("created", "last_seen", "expires"):
                    record[key] = record[key].replace(tzinfo=None)
        op.bulk_insert(registry, records)

    with op.batch_alter_table(
        "registration_passwords", reflect_kwargs={"resolve_fks": False}
    ) as batch:
        batch.drop_column("session_version")


def downgrade() -> None:
    with op.batch_alter_table(
        "registration_passwords", reflect_kwargs={"resolve_fks": False}
    ) as batch:
        batch.add_column(
            sa.Column(
                "session_version", sa.Integer(), server_default="0", nullable=False
            )
        )
    op.drop_index(op.f("ix_session_registry_user_id"), table_name="session_registry")
    op.drop_index(op.f("ix_session_registry_subject"), table_name="session_registry")
    op.drop_table("session_registry")
