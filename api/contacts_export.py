"""The current account's contacts as a CSV download (rules in :mod:`crm.export`), streamed
while the request lasts or written by a worker for a later download (:mod:`crm.exports`)."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime

import marshmallow as ma
from flask import Response, g, url_for
from flask.views import MethodView
from sqlalchemy import Select, select
from sqlalchemy.orm import Session
from webargs.fields import DelimitedList

from api.auth import requires, tenant_blueprint
from api.base import Schema
from api.contacts import SEGMENT_HELP, contact_listing, in_segment, search_arg, searched
from api.errors import fail
from api.listing import SelectArgs, filtered, ordering
from crm import exports as jobs
from crm import files
from crm.custom_fields import list_definitions
from crm.export import STANDARD_COLUMNS, UnknownColumns, chosen_columns, csv_chunks
from crm.models import Contact
from tenants.db import db
from tenants.scope import current_schema, scoped_engine

blp = tenant_blueprint(
    "contacts_export", __name__, "/contacts/export", description="Contacts as CSV"
)


class ExportArgs(SelectArgs):
    q = search_arg()
    segment = ma.fields.UUID(metadata={"description": SEGMENT_HELP})
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


def _filename() -> str:
    return f"contacts-{datetime.now(UTC).date().isoformat()}.csv"


def _selection(args: dict) -> tuple[Select, list, list[str]]:
    """What ``args`` ask for: the contacts (unordered), their order, the columns; the
    list's 400s and a 422 naming ``columns`` or ``segment`` when they are wrong."""
    definitions = list_definitions(db.session, "contact")
    try:
        columns = chosen_columns(args.get("columns"), definitions)
    except UnknownColumns as exc:
        fail(
            422,
            "validation_failed",
            f"Unknown columns: {', '.join(exc.names)}.",
            errors={
                "columns": [f"unknown: {', '.join(exc.names)}; allowed: {', '.join(exc.allowed)}"]
            },
        )
    listing = contact_listing()
    query = select(Contact).where(Contact.deleted_at.is_(None))
    if args.get("segment"):
        query = query.where(in_segment(args["segment"], "segment"))
    if (found := searched(args.get("q"))) is not None:
        query = query.where(found)
    return filtered(query, listing, args["filter"]), ordering(listing, args["sort"]), columns


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
    @blp.errors(400, 409)
    @requires("contacts:read")
    def get(self, args):
        """Download contacts as CSV

        The contacts the list would answer for the same `q`, `filter`, `segment` and `sort`
        (deleted ones left out), all of them, streamed. Cells: dates ISO 8601, multi-select
        values joined with `; `; a cell starting with `=`, `+`, `-`, `@`, a tab or a
        carriage return is prefixed with `'` so a spreadsheet does not run it as a formula
        (E.164 phones excepted). Errors come before the first byte: 400 `invalid_filter` /
        `invalid_sort` as in the list; 422 naming `columns` for an unknown column. For an
        export too large to wait for, `POST …/contacts/exports` runs it as a job.
        """
        selection, order, columns = _selection(args)
        query = selection.order_by(*order)
        # The body is read after the view returns, when the request's session and
        # tenant are gone: it brings its own session, bound to this account's schema.
        engine = scoped_engine(db.engine, current_schema())

        def body():
            with Session(bind=engine) as session:
                yield from csv_chunks(session, query, columns)

        return Response(
            body(),
            mimetype="text/csv",
            headers={"Content-Disposition": f'attachment; filename="{_filename()}"'},
        )


exports = tenant_blueprint(
    "contact_exports",
    __name__,
    "/contacts/exports",
    description="Contact exports run as a job, their file downloaded when done",
)


class ExportOut(Schema):
    id = ma.fields.UUID(required=True)
    status = ma.fields.String(required=True, metadata={"enum": list(jobs.STATUSES)})
    total_rows = ma.fields.Integer(
        required=True, metadata={"description": "Contacts selected when it was asked for"}
    )
    rows_done = ma.fields.Integer(
        required=True,
        metadata={"description": "Rows in the file once completed (less any deleted meanwhile)"},
    )
    columns = ma.fields.List(ma.fields.String(), required=True)
    filename = ma.fields.String(required=True)
    error = ma.fields.String(allow_none=True)
    created_at = ma.fields.DateTime(required=True)
    started_at = ma.fields.DateTime(allow_none=True)
    finished_at = ma.fields.DateTime(allow_none=True)
    download_url = ma.fields.Method(
        "_download_url",
        allow_none=True,
        metadata={"type": "string", "description": "Where the file is, once completed"},
    )

    def _download_url(self, export) -> str | None:
        if export.status != jobs.COMPLETED or export.file_id is None:
            return None
        return url_for(
            "contact_exports.ContactExportFile",
            account_id=g.account.id,
            export_id=export.id,
            _external=True,
        )


class ExportListOut(Schema):
    items = ma.fields.List(ma.fields.Nested(ExportOut), required=True)


def _export_or_404(export_id: uuid.UUID) -> jobs.ContactExport:
    export = jobs.get_export(db.session, export_id)
    if export is None:
        fail(404, "contact_export_not_found", "No such export.")
    return export


@exports.route("")
class ContactExports(MethodView):
    @exports.arguments(ExportArgs, location="query")
    @exports.response(202, ExportOut)
    @exports.errors(400, 409)
    @requires("contacts:read")
    def post(self, args):
        """Export contacts as a job

        Takes the same query parameters as `GET …/contacts/export`, with the same errors.
        The contacts are chosen now (those deleted before the job runs are left out); a
        worker writes the file, kept 7 days, and the requester's sockets hear
        `contact_export.completed {export}` (or `contact_export.failed`). Poll
        `GET …/contacts/exports/{id}` for `download_url`.
        """
        selection, order, columns = _selection(args)
        export = jobs.request_export(
            db.session,
            selection,
            order,
            columns=columns,
            filename=_filename(),
            account_id=g.account.id,
            user_id=g.user_id,
        )
        db.session.commit()
        return export

    @exports.response(200, ExportListOut)
    @requires("contacts:read")
    def get(self):
        """List recent exports

        The account's 50 latest exports, newest first.
        """
        return {"items": jobs.list_exports(db.session)}


@exports.route("/<uuid:export_id>")
class ContactExportItem(MethodView):
    @exports.response(200, ExportOut)
    @exports.errors(404)
    @requires("contacts:read")
    def get(self, export_id):
        """Read an export's progress"""
        return _export_or_404(export_id)


@exports.route("/<uuid:export_id>/download")
class ContactExportFile(MethodView):
    @exports.response(
        200,
        {"type": "string", "format": "binary"},
        content_type="text/csv",
        description="The export's CSV, as `GET …/contacts/export` writes it",
    )
    @exports.errors(404, 409, 410)
    @requires("contacts:read")
    def get(self, export_id):
        """Download an export's file

        409 `contact_export_not_ready` until it has completed; 410 `contact_export_expired`
        once its file is gone (7 days after).
        """
        export = _export_or_404(export_id)
        if export.status != jobs.COMPLETED:
            fail(409, "contact_export_not_ready", f"The export is {export.status}.")
        try:
            files.get_file(db.session, export.file_id)
        except files.FileGone:
            fail(410, "contact_export_expired", "The export's file has expired; export again.")
        engine, file_id = scoped_engine(db.engine, current_schema()), export.file_id

        def body():
            with Session(bind=engine) as session:
                stream = files.open_file(session, file_id)
                while block := stream.read(64 * 1024):
                    yield block

        return Response(
            body(),
            mimetype="text/csv",
            headers={"Content-Disposition": f'attachment; filename="{export.filename}"'},
        )
