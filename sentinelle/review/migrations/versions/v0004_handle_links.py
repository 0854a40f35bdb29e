"""Handles attached to parties and subjects by hand (communications: who is who).

Revision ID: 0004
Revises: 0003
Created: 2026-11-29
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = '0004'
down_revision = '0003'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table('handle_links',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('platform', sa.String(length=100), nullable=False),
    sa.Column('handle', sa.String(length=300), nullable=False),
    sa.Column('role', sa.String(length=20), nullable=False),
    sa.Column('provider', sa.String(length=200), nullable=False),
    sa.Column('party_id', sa.String(length=200), nullable=False),
    sa.Column('reason', sa.Text(), nullable=False),
    sa.Column('linked_by', sa.Integer(), nullable=False),
    sa.Column('linked_at', sa.DateTime(), nullable=False),
    sa.Column('undone_by', sa.Integer(), nullable=True),
    sa.Column('undone_at', sa.DateTime(), nullable=True),
    sa.Column('undo_reason', sa.Text(), nullable=True),
    sa.ForeignKeyConstraint(['linked_by'], ['users.id'], ),
    sa.ForeignKeyConstraint(['undone_by'], ['users.id'], ),
    sa.PrimaryKeyConstraint('id')
    )
    op.create_index(op.f('ix_handle_links_handle'), 'handle_links', ['handle'], unique=False)
    op.create_index(op.f('ix_handle_links_party_id'), 'handle_links', ['party_id'],
                    unique=False)


def downgrade() -> None:
    op.drop_index(op.f('ix_handle_links_party_id'), table_name='handle_links')
    op.drop_index(op.f('ix_handle_links_handle'), table_name='handle_links')
    op.drop_table('handle_links')
