"""Judgements on pairs of records: same person, not the same, unsure (entity resolution).

Revision ID: 0003
Revises: 0002
Created: 2026-11-29
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = '0003'
down_revision = '0002'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table('record_judgements',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('record_l', sa.String(length=300), nullable=False),
    sa.Column('record_r', sa.String(length=300), nullable=False),
    sa.Column('verdict', sa.String(length=20), nullable=False),
    sa.Column('reason', sa.Text(), nullable=False),
    sa.Column('judged_by', sa.Integer(), nullable=False),
    sa.Column('judged_at', sa.DateTime(), nullable=False),
    sa.Column('match_probability', sa.Float(), nullable=True),
    sa.Column('resolve_run', sa.Integer(), nullable=True),
    sa.Column('undone_by', sa.Integer(), nullable=True),
    sa.Column('undone_at', sa.DateTime(), nullable=True),
    sa.Column('undo_reason', sa.Text(), nullable=True),
    sa.ForeignKeyConstraint(['judged_by'], ['users.id'], ),
    sa.ForeignKeyConstraint(['undone_by'], ['users.id'], ),
    sa.PrimaryKeyConstraint('id')
    )
    op.create_index(op.f('ix_record_judgements_record_l'), 'record_judgements', ['record_l'],
                    unique=False)
    op.create_index(op.f('ix_record_judgements_record_r'), 'record_judgements', ['record_r'],
                    unique=False)


def downgrade() -> None:
    op.drop_index(op.f('ix_record_judgements_record_r'), table_name='record_judgements')
    op.drop_index(op.f('ix_record_judgements_record_l'), table_name='record_judgements')
    op.drop_table('record_judgements')
