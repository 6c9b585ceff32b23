"""Organisation details: county, HSA-id, folded name for search, healthcare regions.

Existing rows get ``county_code`` from their municipality code's first two digits and the
healthcare region of that municipality, so they show up in the new searches at once.

Revision ID: 0002
Revises: 0001
Create Date: 2026-11-23
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op
from vfu_common.db import UtcDateTime

revision = "0002"
down_revision = "0001"
branch_labels = None
depends_on = None

KINDS = ("region", "municipality", "university", "private_provider", "coordinating_body")
NEW_COLUMNS = ("name_folded", "county_code", "hsa_id")
# Frozen copies of the reference data and naming convention this revision ran with: a
# migration must do the same thing on every database, whatever the live code says later.
HEALTHCARE_REGIONS = ("Norra", "Mellansverige", "Stockholm", "Sydöstra", "Södra", "Västra")
NAMING_CONVENTION = {
    "ix": "ix_%(column_0_label)s",
    "uq": "uq_%(table_name)s_%(column_0_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}
# The healthcare region of each county (the first two digits of a municipality code)...
REGION_OF_COUNTY = {
    "01": "Stockholm",
    "03": "Mellansverige",
    "04": "Mellansverige",
    "05": "Sydöstra",
    "06": "Sydöstra",
    "07": "Södra",
    "08": "Sydöstra",
    "09": "Stockholm",
    "10": "Södra",
    "12": "Södra",
    "14": "Västra",
    "17": "Mellansverige",
    "18": "Mellansverige",
    "19": "Mellansverige",
    "20": "Mellansverige",
    "21": "Mellansverige",
    "22": "Norra",
    "23": "Norra",
    "24": "Norra",
    "25": "Norra",
}
# ...but Halland (13) is split: Hylte, Halmstad and Laholm to Södra, the rest to Västra.
REGION_OF_HALLAND_MUNICIPALITY = {
    "1315": "Södra",
    "1380": "Södra",
    "1381": "Södra",
    "1382": "Västra",
    "1383": "Västra",
    "1384": "Västra",
}


def healthcare_region_for_municipality(code: str) -> str:
    """The region of a (validated) municipality code; KeyError for an unknown county."""
    if code.startswith("13"):
        return REGION_OF_HALLAND_MUNICIPALITY[code]
    return REGION_OF_COUNTY[code[:2]]


def _in(column: str, values: tuple[str, ...]) -> str:
    return f"{column} IN ({', '.join(repr(v) for v in values)})"


def _organisations(*, with_details: bool) -> sa.Table:
    """The organisations table as it stands before (or after) this revision.

    Handed to SQLite's batch mode as ``copy_from``: batch mode does not reflect CHECK
    constraints, so a table copy built by reflection would silently drop them.
    """
    columns: list[sa.Column[object]] = [
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.Column("organisation_number", sa.String(10), nullable=False),
        sa.Column("kind", sa.String(32), nullable=False),
        sa.Column("name", sa.String(200), nullable=False),
        sa.Column("municipality_code", sa.String(4), nullable=True),
        sa.Column("version", sa.Integer(), nullable=False),
        sa.Column("created_at", UtcDateTime(), nullable=False),
        sa.Column("updated_at", UtcDateTime(), nullable=False),
        # Added nullable by upgrade() (filled before the NOT NULL is set).
        sa.Column("name_folded", sa.String(200), nullable=not with_details),
        sa.Column("county_code", sa.String(2), nullable=True),
        sa.Column("hsa_id", sa.String(31), nullable=True),
    ]
    constraints: list[sa.Constraint] = [
        sa.CheckConstraint(_in("kind", KINDS), name="kind_known"),
        sa.CheckConstraint("length(organisation_number) = 10", name="organisation_number_length"),
        sa.CheckConstraint("version >= 1", name="version_positive"),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("organisation_number"),
    ]
    if with_details:
        constraints.append(sa.CheckConstraint("length(county_code) = 2", name="county_code_length"))
    return sa.Table(
        "organisations", sa.MetaData(naming_convention=NAMING_CONVENTION), *columns, *constraints
    )


def upgrade() -> None:
    # Plain ADD COLUMNs work natively on both databases; the data is filled before the
    # one table rebuild SQLite needs for the NOT NULL and the CHECK.
    op.add_column("organisations", sa.Column("name_folded", sa.String(200), nullable=True))
    op.add_column("organisations", sa.Column("county_code", sa.String(2), nullable=True))
    op.add_column("organisations", sa.Column("hsa_id", sa.String(31), nullable=True))
    op.create_table(
        "organisation_healthcare_regions",
        sa.Column("organisation_id", sa.Uuid(), nullable=False),
        sa.Column("healthcare_region", sa.String(32), nullable=False),
        sa.CheckConstraint(
            _in("healthcare_region", HEALTHCARE_REGIONS),
            name=op.f("ck_organisation_healthcare_regions_healthcare_region_known"),
        ),
        sa.ForeignKeyConstraint(
            ["organisation_id"],
            ["organisations.id"],
            ondelete="CASCADE",
            name="fk_organisation_healthcare_regions_organisation",
        ),
        sa.PrimaryKeyConstraint(
            "organisation_id", "healthcare_region", name=op.f("pk_organisation_healthcare_regions")
        ),
    )
    op.create_index(
        op.f("ix_organisation_healthcare_regions_healthcare_region"),
        "organisation_healthcare_regions",
        ["healthcare_region"],
    )
    _backfill()
    with op.batch_alter_table(
        "organisations", copy_from=_organisations(with_details=False)
    ) as batch:
        batch.alter_column("name_folded", existing_type=sa.String(200), nullable=False)
        batch.create_check_constraint(
            op.f("ck_organisations_county_code_length"), "length(county_code) = 2"
        )
    # After the rebuild: a copy_from rebuild recreates only the indexes it was given.
    op.create_index(op.f("ix_organisations_county_code"), "organisations", ["county_code"])
    op.create_index(op.f("ix_organisations_name_id"), "organisations", ["name", "id"])


def _backfill() -> None:
    """Fold names, and derive county and healthcare region from the municipality code."""
    organisations = sa.table(
        "organisations",
        sa.column("id", sa.Uuid()),
        sa.column("name", sa.String()),
        sa.column("municipality_code", sa.String()),
        sa.column("name_folded", sa.String()),
        sa.column("county_code", sa.String()),
    )
    regions = sa.table(
        "organisation_healthcare_regions",
        sa.column("organisation_id", sa.Uuid()),
        sa.column("healthcare_region", sa.String()),
    )
    bind = op.get_bind()
    rows = bind.execute(
        sa.select(organisations.c.id, organisations.c.name, organisations.c.municipality_code)
    ).all()
    for row in rows:
        code = row.municipality_code
        bind.execute(
            organisations.update()
            .where(organisations.c.id == row.id)
            .values(name_folded=row.name.casefold(), county_code=code[:2] if code else None)
        )
        if code:
            bind.execute(
                regions.insert().values(
                    organisation_id=row.id,
                    healthcare_region=healthcare_region_for_municipality(code),
                )
            )


def downgrade() -> None:
    op.drop_index(op.f("ix_organisations_name_id"), table_name="organisations")
    op.drop_index(op.f("ix_organisations_county_code"), table_name="organisations")
    op.drop_table("organisation_healthcare_regions")
    with op.batch_alter_table(
        "organisations", copy_from=_organisations(with_details=True)
    ) as batch:
        batch.drop_constraint(op.f("ck_organisations_county_code_length"), type_="check")
        for column in NEW_COLUMNS:
            batch.drop_column(column)
