"""The marketplace: accounts and tokens, publishers, skills and their immutable versions,
package bytes, scan reports, status changes, ratings; full-text search per dialect.

Revision ID: 0001
Revises:
Create Date: 2026-12-02
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0001"
down_revision = None
branch_labels = None
depends_on = None

TS = sa.DateTime(timezone=True)


def upgrade() -> None:
    op.create_table(
        "accounts",
        sa.Column("id", sa.Integer, primary_key=True),
        sa.Column("name", sa.String(64), nullable=False, unique=True),
        sa.Column("role", sa.String(16), nullable=False),
        sa.Column("created_at", TS, nullable=False),
    )
    op.create_table(
        "api_tokens",
        sa.Column("id", sa.Integer, primary_key=True),
        sa.Column("account_id", sa.Integer, sa.ForeignKey("accounts.id"), nullable=False),
        sa.Column("token_hash", sa.String(64), nullable=False, unique=True),
        sa.Column("prefix", sa.String(16), nullable=False),
        sa.Column("created_at", TS, nullable=False),
    )
    op.create_table(
        "publishers",
        sa.Column("id", sa.Integer, primary_key=True),
        sa.Column("name", sa.String(64), nullable=False),
        sa.Column("origin", sa.String(500), nullable=False),
        sa.Column("account_id", sa.Integer, sa.ForeignKey("accounts.id")),
        sa.Column("public_key", sa.String(64), nullable=False),
        sa.Column("key_fingerprint", sa.String(64), nullable=False),
        sa.Column("created_at", TS, nullable=False),
        sa.UniqueConstraint("name", "origin"),
    )
    op.create_table(
        "skills",
        sa.Column("id", sa.String(100), primary_key=True),
        sa.Column("publisher_id", sa.Integer, sa.ForeignKey("publishers.id"), nullable=False),
        sa.Column("origin", sa.String(500), nullable=False),
        sa.Column("name", sa.String(200), nullable=False),
        sa.Column("category", sa.String(40), nullable=False),
        sa.Column("description", sa.Text, nullable=False),
        sa.Column("tags", sa.JSON, nullable=False),
        sa.Column("latest_version", sa.String(64), nullable=False),
        sa.Column("status", sa.String(16), nullable=False),
        sa.Column("installs", sa.Integer, nullable=False),
        sa.Column("rating_average", sa.Float, nullable=False),
        sa.Column("rating_count", sa.Integer, nullable=False),
        sa.Column("created_at", TS, nullable=False),
        sa.Column("updated_at", TS, nullable=False),
    )
    op.create_index("ix_skills_category_status", "skills", ["category", "status"])
    op.create_index("ix_skills_status_updated", "skills", ["status", "updated_at", "id"])
    op.create_index("ix_skills_status_installs", "skills", ["status", "installs", "id"])
    op.create_index("ix_skills_status_rating", "skills", ["status", "rating_average", "rating_count", "id"])
    op.create_index("ix_skills_status_name", "skills", ["status", "name", "id"])
    op.create_table(
        "skill_tags",
        sa.Column("skill_id", sa.String(100), sa.ForeignKey("skills.id"), primary_key=True),
        sa.Column("tag", sa.String(40), primary_key=True, index=True),
    )
    op.create_table(
        "skill_versions",
        sa.Column("id", sa.Integer, primary_key=True),
        sa.Column("skill_id", sa.String(100), sa.ForeignKey("skills.id"), nullable=False),
        sa.Column("version", sa.String(64), nullable=False),
        sa.Column("manifest", sa.JSON, nullable=False),
        sa.Column("readme", sa.Text, nullable=False),
        sa.Column("sha256", sa.String(64), nullable=False),
        sa.Column("size", sa.Integer, nullable=False),
        sa.Column("archive_format", sa.String(8), nullable=False),
        sa.Column("signature", sa.String(128), nullable=False),
        sa.Column("key_fingerprint", sa.String(64), nullable=False),
        sa.Column("published_by", sa.String(64), nullable=False),
        sa.Column("published_at", TS, nullable=False),
        sa.Column("origin", sa.String(500), nullable=False),
        sa.Column("status", sa.String(16), nullable=False),
        sa.Column("status_reason", sa.Text, nullable=False),
        sa.Column("rules_version", sa.Integer),
        sa.Column("overridden_by", sa.String(64)),
        sa.Column("overridden_at", TS),
        sa.Column("override_reason", sa.Text),
        sa.UniqueConstraint("skill_id", "version"),
    )
    op.create_table(
        "package_blobs",
        sa.Column("sha256", sa.String(64), primary_key=True),
        sa.Column("data", sa.LargeBinary, nullable=False),
    )
    op.create_table(
        "scan_reports",
        sa.Column("id", sa.Integer, primary_key=True),
        sa.Column("version_id", sa.Integer, sa.ForeignKey("skill_versions.id"), nullable=False, index=True),
        sa.Column("rules_version", sa.Integer, nullable=False),
        sa.Column("verdict", sa.String(16), nullable=False),
        sa.Column("scanners", sa.JSON, nullable=False),
        sa.Column("started_at", TS, nullable=False),
        sa.Column("finished_at", TS, nullable=False),
    )
    op.create_table(
        "scan_findings",
        sa.Column("id", sa.Integer, primary_key=True),
        sa.Column("report_id", sa.Integer, sa.ForeignKey("scan_reports.id"), nullable=False, index=True),
        sa.Column("scanner", sa.String(32), nullable=False),
        sa.Column("rule", sa.String(100), nullable=False),
        sa.Column("severity", sa.String(16), nullable=False),
        sa.Column("file", sa.String(500), nullable=False),
        sa.Column("line", sa.Integer),
        sa.Column("excerpt", sa.Text, nullable=False),
        sa.Column("message", sa.Text, nullable=False),
    )
    op.create_table(
        "status_changes",
        sa.Column("id", sa.Integer, primary_key=True),
        sa.Column("version_id", sa.Integer, sa.ForeignKey("skill_versions.id"), nullable=False, index=True),
        sa.Column("from_status", sa.String(16), nullable=False),
        sa.Column("to_status", sa.String(16), nullable=False),
        sa.Column("actor", sa.String(64), nullable=False),
        sa.Column("reason", sa.Text, nullable=False),
        sa.Column("at", TS, nullable=False),
    )
    op.create_table(
        "ratings",
        sa.Column("id", sa.Integer, primary_key=True),
        sa.Column("skill_id", sa.String(100), sa.ForeignKey("skills.id"), nullable=False, index=True),
        sa.Column("account_id", sa.Integer, sa.ForeignKey("accounts.id"), nullable=False),
        sa.Column("stars", sa.Integer, nullable=False),
        sa.Column("review", sa.Text, nullable=False),
        sa.Column("created_at", TS, nullable=False),
        sa.Column("updated_at", TS, nullable=False),
        sa.UniqueConstraint("skill_id", "account_id"),
    )
    if op.get_bind().dialect.name == "postgresql":
        # 'simple': no stemming, so prefix queries ("reac" while typing) behave as on SQLite.
        op.execute(
            "ALTER TABLE skills ADD COLUMN search_vector tsvector GENERATED ALWAYS AS ("
            "setweight(to_tsvector('simple', coalesce(name, '') || ' ' || id), 'A') || "
            "setweight(to_tsvector('simple', coalesce(tags::text, '')), 'B') || "
            "setweight(to_tsvector('simple', coalesce(description, '')), 'C')) STORED"
        )
        op.execute("CREATE INDEX ix_skills_search ON skills USING GIN (search_vector)")
    else:
        op.execute(
            "CREATE VIRTUAL TABLE skill_search USING fts5("
            "skill_id UNINDEXED, name, tags, description, tokenize = 'unicode61 remove_diacritics 2', prefix = '2 3 4')"
        )


def downgrade() -> None:
    if op.get_bind().dialect.name == "sqlite":
        op.execute("DROP TABLE skill_search")
    for table in (
        "ratings", "status_changes", "scan_findings", "scan_reports", "package_blobs",
        "skill_versions", "skill_tags", "skills", "publishers", "api_tokens", "accounts",
    ):
        op.drop_table(table)
