"""Registration's tables: password hashes and emailed tokens, keyed to users.id.

Revision ID: 0002_registration
Revises: 0001_auth_core
Create Date: 2026-11-25
"""

import sqlalchemy as sa
from alembic import op

revision = "0002_registration"
down_revision = "0001_auth_core"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "registration_passwords",
        sa.Column("user_id", sa.Integer(), nullable=False),
        sa.Column("hash", sa.String(length=255), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("session_version", sa.Integer(), server_default="0", nullable=False),
        sa.ForeignKeyConstraint(
            ["user_id"],
            ["users.id"],
            name=op.f("fk_registration_passwords_user_id_users"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("user_id", name=op.f("pk_registration_passwords")),
    )
    op.create_table(
        "registration_tokens",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("user_id", sa.Integer(), nullable=False),
        sa.Column("purpose", sa.String(length=16), nullable=False),
        sa.Column("token_hash", sa.String(length=64), nullable=False),
        sa.Column("email", sa.String(length=255), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("expires_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["user_id"],
            ["users.id"],
            name=op.f("fk_registration_tokens_user_id_users"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_registration_tokens")),
        sa.UniqueConstraint(
            "token_hash", name=op.f("uq_registration_tokens_token_hash")
        ),
    )
    op.create_index(
        "ix_registration_tokens_user_id", "registration_tokens", ["user_id"]
    )


def downgrade() -> None:
    op.drop_index("ix_registration_tokens_user_id", table_name="registration_tokens")
    op.drop_table("registration_tokens")
    op.drop_table("registration_passwords")
