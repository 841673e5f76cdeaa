"""The auth core's tables: Auth.js's adapter schema (users, accounts, sessions,
verification_token) with the constraints Auth.js's SQL leaves out.

Revision ID: 0001_auth_core
Revises:
Create Date: 2026-11-25
"""

import sqlalchemy as sa
from alembic import op

revision = "0001_auth_core"
down_revision = None
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "users",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("name", sa.String(length=255), nullable=True),
        sa.Column("email", sa.String(length=255), nullable=True),
        sa.Column("emailVerified", sa.DateTime(timezone=True), nullable=True),
        sa.Column("image", sa.Text(), nullable=True),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_users")),
    )
    op.create_index(
        "uq_users_email_lower", "users", [sa.text("lower(email)")], unique=True
    )
    op.create_table(
        "verification_token",
        sa.Column("identifier", sa.Text(), nullable=False),
        sa.Column("token", sa.Text(), nullable=False),
        sa.Column("expires", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint(
            "identifier", "token", name=op.f("pk_verification_token")
        ),
    )
    op.create_table(
        "accounts",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("userId", sa.Integer(), nullable=False),
        sa.Column("type", sa.String(length=255), nullable=False),
        sa.Column("provider", sa.String(length=255), nullable=False),
        sa.Column("providerAccountId", sa.String(length=255), nullable=False),
        sa.Column("refresh_token", sa.Text(), nullable=True),
        sa.Column("access_token", sa.Text(), nullable=True),
        sa.Column("expires_at", sa.BigInteger(), nullable=True),
        sa.Column("id_token", sa.Text(), nullable=True),
        sa.Column("scope", sa.Text(), nullable=True),
        sa.Column("session_state", sa.Text(), nullable=True),
        sa.Column("token_type", sa.Text(), nullable=True),
        sa.ForeignKeyConstraint(
            ["userId"],
            ["users.id"],
            name=op.f("fk_accounts_userId_users"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_accounts")),
    )
    op.create_index("ix_accounts_userId", "accounts", ["userId"])
    op.create_index(
        "uq_accounts_provider_account",
        "accounts",
        ["provider", "providerAccountId"],
        unique=True,
    )
    op.create_table(
        "sessions",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("userId", sa.Integer(), nullable=False),
        sa.Column("expires", sa.DateTime(timezone=True), nullable=False),
        sa.Column("sessionToken", sa.String(length=255), nullable=False),
        sa.ForeignKeyConstraint(
            ["userId"],
            ["users.id"],
            name=op.f("fk_sessions_userId_users"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_sessions")),
        sa.UniqueConstraint("sessionToken", name=op.f("uq_sessions_sessionToken")),
    )
    op.create_index("ix_sessions_userId", "sessions", ["userId"])


def downgrade() -> None:
    op.drop_table("sessions")
    op.drop_table("accounts")
    op.drop_table("verification_token")
    op.drop_index("uq_users_email_lower", table_name="users")
    op.drop_table("users")
