"""Reports drafted, reviewed and approved in the application (four eyes), and their history.

Revision ID: 0005
Revises: 0004
Created: 2026-11-29
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = '0005'
down_revision = '0004'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table('report_drafts',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('format', sa.String(length=40), nullable=False),
    sa.Column('scope', sa.String(length=20), nullable=False),
    sa.Column('case_id', sa.Integer(), nullable=True),
    sa.Column('role', sa.String(length=20), nullable=True),
    sa.Column('provider', sa.String(length=200), nullable=True),
    sa.Column('party_id', sa.String(length=200), nullable=True),
    sa.Column('subjects', sa.Text(), nullable=False),
    sa.Column('title', sa.String(length=400), nullable=False),
    sa.Column('run_id', sa.String(length=32), nullable=True),
    sa.Column('narrative_drafted', sa.Text(), nullable=True),
    sa.Column('narrative', sa.Text(), nullable=True),
    sa.Column('status', sa.String(length=20), nullable=False),
    sa.Column('author_id', sa.Integer(), nullable=False),
    sa.Column('created_at', sa.DateTime(), nullable=False),
    sa.Column('updated_at', sa.DateTime(), nullable=False),
    sa.Column('submitted_at', sa.DateTime(), nullable=True),
    sa.Column('reviewer_id', sa.Integer(), nullable=True),
    sa.Column('reviewed_at', sa.DateTime(), nullable=True),
    sa.Column('review_comment', sa.Text(), nullable=True),
    sa.Column('exported_by', sa.Integer(), nullable=True),
    sa.Column('exported_at', sa.DateTime(), nullable=True),
    sa.Column('export_sha256', sa.String(length=64), nullable=True),
    sa.Column('export_bytes', sa.Integer(), nullable=True),
    sa.Column('export_filename', sa.String(length=300), nullable=True),
    sa.ForeignKeyConstraint(['author_id'], ['users.id'], ),
    sa.ForeignKeyConstraint(['case_id'], ['cases.id'], ),
    sa.ForeignKeyConstraint(['exported_by'], ['users.id'], ),
    sa.ForeignKeyConstraint(['reviewer_id'], ['users.id'], ),
    sa.PrimaryKeyConstraint('id')
    )
    op.create_index(op.f('ix_report_drafts_case_id'), 'report_drafts', ['case_id'],
                    unique=False)
    op.create_index(op.f('ix_report_drafts_export_sha256'), 'report_drafts',
                    ['export_sha256'], unique=False)
    op.create_table('report_events',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('draft_id', sa.Integer(), nullable=False),
    sa.Column('at', sa.DateTime(), nullable=False),
    sa.Column('user_id', sa.Integer(), nullable=False),
    sa.Column('action', sa.String(length=20), nullable=False),
    sa.Column('old_status', sa.String(length=20), nullable=True),
    sa.Column('new_status', sa.String(length=20), nullable=False),
    sa.Column('comment', sa.Text(), nullable=False),
    sa.ForeignKeyConstraint(['draft_id'], ['report_drafts.id'], ),
    sa.ForeignKeyConstraint(['user_id'], ['users.id'], ),
    sa.PrimaryKeyConstraint('id')
    )
    op.create_index(op.f('ix_report_events_draft_id'), 'report_events', ['draft_id'],
                    unique=False)


def downgrade() -> None:
    op.drop_index(op.f('ix_report_events_draft_id'), table_name='report_events')
    op.drop_table('report_events')
    op.drop_index(op.f('ix_report_drafts_export_sha256'), table_name='report_drafts')
    op.drop_index(op.f('ix_report_drafts_case_id'), table_name='report_drafts')
    op.drop_table('report_drafts')
