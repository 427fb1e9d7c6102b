"""The current account's contacts as a CSV download (rules in :mod:`crm.export`)."""

from __future__ import annotations

from datetime import UTC, datetime

import marshmallow as ma
from flask import Response
from flask.views import MethodView
from sqlalchemy import select
from sqlalchemy.orm import Session
from webargs.fields import DelimitedList

from api.auth import requires, tenant_blueprint
from api.contacts import LISTING
from api.custom_fields import listing_fields
from api.errors import fail
from api.listing import SelectArgs, filtered, ordered
from crm.custom_fields import list_definitions
from crm.export import STANDARD_COLUMNS, UnknownColumns, chosen_columns, csv_chunks
from crm.models import Contact
from tenants.db import db
from tenants.scope import current_schema, scoped_engine

blp = tenant_blueprint(
    "contacts_export", __name__, "/contacts/export", description="Contacts as CSV"
)


class ExportArgs(SelectArgs):
    columns = DelimitedList(
        ma.fields.String(),
        validate=ma.validate.Length(min=1),
        metadata={
            "description": f"Comma-separated, in the order wanted: {', '.join(STANDARD_COLUMNS)} "
            "and `custom_fields.<key>` of the account's contact custom fields. Default: "
            "the standard columns, then every custom field in definition order",
            "example": "name,email,custom_fields.plan",
        },
    )


@blp.route("")
class ContactExport(MethodView):
    @blp.arguments(ExportArgs, location="query")
    @blp.response(
        200,
        {"type": "string", "format": "binary"},
        content_type="text/csv",
        description="The header row (the column names), then one row per contact",
        headers={
            "Content-Disposition": {
                "description": 'attachment; filename="contacts-<YYYY-MM-DD>.csv"',
                "schema": {"type": "string"},
            }
        },
    )
    @blp.errors(400)
    @requires("contacts:read")
    def get(self, args):
        """Download contacts as CSV

        The contacts the list would answer for the same `filter` and `sort` (deleted ones
        left out), all of them, streamed. Cells: dates ISO 8601, multi-select values
        joined with `; `; a cell starting with `=`, `+`, `-`, `@`, a tab or a carriage
        return is prefixed with `'` so a spreadsheet does not run it as a formula (E.164
        phones excepted). Errors come before the first byte: 400 `invalid_filter` /
        `invalid_sort` as in the list; 422 naming `columns` for an unknown column.
        """
        definitions = list_definitions(db.session, "contact")
        try:
            columns = chosen_columns(args.get("columns"), definitions)
        except UnknownColumns as exc:
            fail(
                422,
                "validation_failed",
                f"Unknown columns: {', '.join(exc.names)}.",
                errors={
                    "columns": [
                        f"unknown: {', '.join(exc.names)}; allowed: {', '.join(exc.allowed)}"
                    ]
                },
            )
        listing = LISTING.with_fields(listing_fields("contact", Contact.custom_fields))
        query = select(Contact).where(Contact.deleted_at.is_(None))
        query = ordered(filtered(query, listing, args["filter"]), listing, args["sort"])
        # The body is read after the view returns, when the request's session and
        # tenant are gone: it brings its own session, bound to this account's schema.
        engine = scoped_engine(db.engine, current_schema())

        def body():
            with Session(bind=engine) as session:
                yield from csv_chunks(session, query, columns)

        filename = f"contacts-{datetime.now(UTC).date().isoformat()}.csv"
        return Response(
            body(),
            mimetype="text/csv",
            headers={"Content-Disposition": f'attachment; filename="{filename}"'},
        )
