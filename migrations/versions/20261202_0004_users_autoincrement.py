"""users.id never reused: AUTOINCREMENT on SQLite.

Without it SQLite gives a new row the highest id plus one, so deleting the
newest user hands their id to the next signup, and a session cookie of the
deleted user would open the new person's account. SQLite can only add
AUTOINCREMENT by recreating the table (batch mode); env.py switches foreign
keys off for the run so dropping the old table does not cascade into
accounts and sessions. PostgreSQL's sequences never go back: nothing to do.

Revision ID: 0004_users_autoincrement
Revises: 0003_session_created
Create Date: 2026-12-02
"""

import sqlalchemy as sa
from alembic import op

revision = "0004_users_autoincrement"
down_revision = "0003_session_created"
branch_labels = None
depends_on = None


def _recreate_users(autoincrement: bool) -> None:
    bind = op.get_bind()
    if bind.dialect.name != "sqlite":
        return
    if bind.exec_driver_sql("PRAGMA foreign_keys").scalar():
        # Dropping users would delete every account, session and password.
        raise RuntimeError("foreign keys must be off to recreate users on SQLite")
    # Reflection skips expression indexes: drop it here, make it again after.
    op.drop_index("uq_users_email_lower", table_name="users")
    with op.batch_alter_table(
        "users",
        recreate="always",
        table_kwargs={"sqlite_autoincrement": autoincrement},
    ):
        pass
    op.create_index(
        "uq_users_email_lower", "users", [sa.text("lower(email)")], unique=True
    )
    if bind.exec_driver_sql("PRAGMA foreign_key_check").first() is not None:
        raise RuntimeError("recreating users left rows without their user")


def upgrade() -> None:
    _recreate_users(autoincrement=True)


def downgrade() -> None:
    _recreate_users(autoincrement=False)
