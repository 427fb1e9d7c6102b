"""Importing contacts from CSV files (rules in :mod:`crm.imports`)."""

from __future__ import annotations

import re
import uuid
from datetime import datetime

import marshmallow as ma
from flask import Response, current_app, g, request
from flask.views import MethodView
from flask_smorest.fields import Upload
from sqlalchemy import select
from sqlalchemy.orm import Session

from api.auth import acting, requires, tenant_blueprint
from api.base import Schema
from api.errors import fail
from api.listing import ORDERED_OPS, Field, ListArgs, Listing, page_schema, paginate
from api.requests import accepts_upload
from crm.imports import service
from crm.imports.mapping import InvalidMapping, ignored_columns
from crm.imports.models import POLICIES, STATUSES, ContactImport
from crm.imports.reading import Unreadable
from tenants.db import db
from tenants.scope import current_schema, scoped_engine

blp = tenant_blueprint(
    "contacts_import", __name__, "/contacts/imports", description="Contact imports from CSV"
)

LISTING = Listing(
    fields={
        "status": Field(ContactImport.status),
        "created_at": Field(ContactImport.created_at, datetime, ORDERED_OPS),
    },
    tiebreak=ContactImport.id,
)


def _import_max_bytes() -> int:
    return current_app.extensions["turumba.config"].import_max_bytes


class ContactImportUploadIn(Schema):
    file = Upload(metadata={"description": "The CSV file (or send it as a text/csv body)"})


class ContactImportUploadArgs(Schema):
    filename = ma.fields.String(
        load_default="contacts.csv",
        validate=ma.validate.Length(min=1, max=255),
        metadata={"description": "The file's name, for a `text/csv` body"},
    )


class ContactImportOut(Schema):
    id = ma.fields.UUID(required=True)
    filename = ma.fields.String(required=True)
    status = ma.fields.String(required=True, metadata={"enum": list(STATUSES)})
    encoding = ma.fields.String(
        required=True, metadata={"description": "`utf-8-sig` (UTF-8) or `cp1252`"}
    )
    delimiter = ma.fields.String(required=True, metadata={"example": ","})
    headers = ma.fields.List(ma.fields.String(), required=True)
    mapping = ma.fields.Dict(
        keys=ma.fields.String(),
        values=ma.fields.String(allow_none=True),
        required=True,
        metadata={
            "description": "Each header's target field, null when the column is ignored",
            "example": {"E-mail": "email", "Plan": "custom_fields.plan", "Notes": None},
        },
    )
    ignored_columns = ma.fields.Method(
        "_ignored",
        metadata={
            "type": "array",
            "items": {"type": "string"},
            "description": "Named columns the mapping leaves out (unknown ones, as suggested)",
        },
    )
    duplicates = ma.fields.String(required=True, metadata={"enum": list(POLICIES)})
    samples = ma.fields.List(
        ma.fields.List(ma.fields.String()),
        required=True,
        metadata={"description": "The first data rows, as read"},
    )
    total_rows = ma.fields.Integer(
        required=True, metadata={"description": "Data rows (blank ones not counted)"}
    )
    rows_done = ma.fields.Integer(required=True)
    created = ma.fields.Integer(required=True)
    updated = ma.fields.Integer(required=True)
    skipped = ma.fields.Integer(required=True)
    failed = ma.fields.Integer(required=True)
    error = ma.fields.String(allow_none=True, metadata={"description": "Why it failed"})
    created_by = ma.fields.UUID(allow_none=True)
    started_at = ma.fields.AwareDateTime(allow_none=True)
    finished_at = ma.fields.AwareDateTime(allow_none=True)
    created_at = ma.fields.AwareDateTime(required=True)
    updated_at = ma.fields.AwareDateTime(required=True)

    def _ignored(self, contact_import):
        return ignored_columns(contact_import.mapping)


ContactImportPage = page_schema(ContactImportOut, "ContactImportPage")


class ContactImportPatch(Schema):
    mapping = ma.fields.Dict(
        keys=ma.fields.String(),
        values=ma.fields.String(allow_none=True),
        metadata={
            "description": "The whole mapping: `{header: target}`, targets `name`, `email`, "
            "`phone`, `company`, `tags` and `custom_fields.<key>`; null (or a header left "
            "out) ignores the column. A header the file lacks, an unknown target or one "
            "given twice is a 422 naming `mapping.<header>`",
            "example": {"E-mail": "email", "Full name": "name", "Plan": "custom_fields.plan"},
        },
    )
    duplicates = ma.fields.String(
        validate=ma.validate.OneOf(POLICIES),
        metadata={
            "description": "What a row matching an existing contact (by email or phone) or "
            "an earlier row does: `skip` it (the default), `update` that contact with its "
            "non-empty cells, or `create`: refuse it, as creating a contact with a taken "
            "email or phone is refused"
        },
    )


class ContactImportPreviewIn(Schema):
    limit = ma.fields.Integer(
        load_default=service.PREVIEW_ROWS,
        validate=ma.validate.Range(min=1, max=service.PREVIEW_ROWS),
        metadata={"description": "Rows to check, from the first"},
    )


class ContactImportCounts(Schema):
    create = ma.fields.Integer(required=True)
    update = ma.fields.Integer(required=True)
    skip = ma.fields.Integer(required=True)
    fail = ma.fields.Integer(required=True)


class ContactImportDuplicates(Schema):
    in_file = ma.fields.Integer(
        required=True, metadata={"description": "Rows matching an earlier row of the file"}
    )
    existing = ma.fields.Integer(
        required=True, metadata={"description": "Rows matching a contact of the account"}
    )


class ContactImportRowError(Schema):
    row = ma.fields.Integer(required=True, metadata={"description": "The header is row 1"})
    errors = ma.fields.Dict(
        keys=ma.fields.String(),
        values=ma.fields.List(ma.fields.String()),
        required=True,
        metadata={"example": {"email": ["The email address is not valid."]}},
    )
    duplicate_of = ma.fields.UUID(
        allow_none=True, metadata={"description": "The existing contact the row matched"}
    )
    duplicate_of_row = ma.fields.Integer(
        allow_none=True, metadata={"description": "The earlier row the row matched"}
    )


class ContactImportPreviewOut(Schema):
    rows_checked = ma.fields.Integer(required=True)
    total_rows = ma.fields.Integer(required=True)
    would = ma.fields.Nested(
        ContactImportCounts,
        required=True,
        metadata={"description": "What the checked rows would do"},
    )
    duplicates = ma.fields.Nested(ContactImportDuplicates, required=True)
    errors = ma.fields.List(
        ma.fields.Nested(ContactImportRowError),
        required=True,
        metadata={"description": f"The first {service.PREVIEW_ERRORS} rows refused"},
    )


def _plain_name(filename: str) -> str:
    """The file's name without its path or control characters."""
    name = filename.replace("\\", "/").rsplit("/", 1)[-1]
    return "".join(char for char in name if char.isprintable()) or "contacts.csv"


def _import_or_404(import_id: uuid.UUID, *, lock: bool = False) -> ContactImport:
    found = service.get_import(db.session, import_id, lock=lock)
    if found is None:
        fail(404, "contact_import_not_found", "No such contact import.")
    return found


def _refused(exc: service.ImportRefused):
    fail(409, exc.code, exc.message)


def _invalid_mapping(exc: InvalidMapping):
    fail(422, "validation_failed", "The mapping is not usable.", errors=exc.errors)


@blp.route("")
class ContactImports(MethodView):
    @blp.arguments(ListArgs, location="query")
    @blp.response(200, ContactImportPage)
    @blp.errors(400)
    @requires("contacts:write")
    def get(self, args):
        """List contact imports, newest first"""
        return paginate(db.session, select(ContactImport), LISTING, args)

    @blp.arguments(ContactImportUploadArgs, location="query")
    @blp.arguments(ContactImportUploadIn, location="files")
    @blp.response(201, ContactImportOut)
    @requires("contacts:write")
    @accepts_upload(_import_max_bytes)
    def post(self, args, files):
        """Upload a CSV file to import

        `multipart/form-data` with the file as `file`, or the file itself as a `text/csv`
        body (`?filename=` names it); at most `TURUMBA_IMPORT_MAX_BYTES` (50 MiB; 413
        beyond). UTF-8 (with or without a byte-order mark), else Windows-1252; comma,
        semicolon or tab separated; the first row names the columns. The answer is a
        `pending` import with the file's headers, a few sample rows, its row count and a
        suggested mapping (headers matched to fields and custom fields ignoring case,
        spacing and punctuation, with common synonyms such as `E-mail`, `Mobile`,
        `Organisation`; unknown columns ignored). Refused with 422: not UTF-8 nor
        Windows-1252 (`import_unsupported_encoding`), no header row (`import_no_header`),
        a column name given twice (`import_duplicate_columns`), not CSV
        (`import_not_csv`), no file (`validation_failed` naming `file`).
        """
        upload = files.get("file")
        if upload is not None:
            stream, filename = upload.stream, upload.filename or "contacts.csv"
        elif request.mimetype == "text/csv":
            stream, filename = request.stream, args["filename"]
        else:
            fail(422, "validation_failed", "Send a CSV file.", errors={"file": ["required"]})
        try:
            contact_import = service.upload(
                db.session,
                stream,
                filename=_plain_name(filename),
                content_type="text/csv",
                user_id=g.user_id,
                **acting(),
            )
        except Unreadable as exc:
            fail(422, exc.code, exc.message)
        db.session.commit()
        return contact_import


@blp.route("/<uuid:import_id>")
class ContactImportById(MethodView):
    @blp.response(200, ContactImportOut)
    @requires("contacts:write")
    def get(self, import_id):
        """Read a contact import: its mapping, status and progress"""
        return _import_or_404(import_id)

    @blp.arguments(ContactImportPatch)
    @blp.response(200, ContactImportOut)
    @blp.errors(409)
    @requires("contacts:write")
    def patch(self, data, import_id):
        """Set a pending import's mapping and duplicates policy

        409 `import_started` once it started.
        """
        contact_import = _import_or_404(import_id, lock=True)
        try:
            service.configure(db.session, contact_import, **data)
        except service.ImportRefused as exc:
            _refused(exc)
        except InvalidMapping as exc:
            _invalid_mapping(exc)
        db.session.commit()
        return contact_import


@blp.route("/<uuid:import_id>/preview")
class ContactImportPreview(MethodView):
    @blp.arguments(ContactImportPreviewIn)
    @blp.response(200, ContactImportPreviewOut)
    @blp.errors(409)
    @requires("contacts:write")
    def post(self, data, import_id):
        """Try an import without writing anything (a dry run)

        The first `limit` rows (10,000 at most) are read, checked and matched exactly as
        the import would, against the contacts as they are now: what each would do
        (`would`), how many match an earlier row or an existing contact, and the first
        rows refused with each field's errors. 409 `import_file_gone` when the upload
        expired; 422 naming `mapping` when nothing is mapped.
        """
        contact_import = _import_or_404(import_id)
        try:
            result = service.preview(db.session, contact_import, limit=data["limit"])
        except service.ImportRefused as exc:
            _refused(exc)
        except InvalidMapping as exc:
            _invalid_mapping(exc)
        return {
            "rows_checked": result.rows_checked,
            "total_rows": contact_import.total_rows,
            "would": {action: result.counts[action] for action in ContactImportCounts().fields},
            "duplicates": {"in_file": result.in_file, "existing": result.existing},
            "errors": [
                {
                    "row": outcome.row.number,
                    "errors": outcome.errors,
                    "duplicate_of": outcome.duplicate_of,
                    "duplicate_of_row": outcome.duplicate_of_row,
                }
                for outcome in result.errors
            ],
        }


@blp.route("/<uuid:import_id>/start")
class ContactImportStart(MethodView):
    @blp.response(202, ContactImportOut)
    @blp.errors(409)
    @requires("contacts:write")
    def post(self, import_id):
        """Start importing (in a worker)

        The import is `queued`, then `running`; follow it with `GET` or the
        `contact_import.progress` pushes to your sockets. 409 `import_started` when it
        was started already, `import_file_gone` when the upload expired; 422 naming
        `mapping` when nothing is mapped.
        """
        contact_import = _import_or_404(import_id, lock=True)
        try:
            service.start(db.session, contact_import, **acting())
        except service.ImportRefused as exc:
            _refused(exc)
        except InvalidMapping as exc:
            _invalid_mapping(exc)
        db.session.commit()
        return contact_import


@blp.route("/<uuid:import_id>/cancel")
class ContactImportCancel(MethodView):
    @blp.response(200, ContactImportOut)
    @blp.errors(409)
    @requires("contacts:write")
    def post(self, import_id):
        """Cancel an import

        A running import stops after the batch in progress; what was imported stays.
        409 `import_finished` when it completed, failed or was cancelled already.
        """
        contact_import = _import_or_404(import_id, lock=True)
        try:
            service.cancel(db.session, contact_import, **acting())
        except service.ImportRefused as exc:
            _refused(exc)
        db.session.commit()
        return contact_import


@blp.route("/<uuid:import_id>/resume")
class ContactImportResume(MethodView):
    @blp.response(202, ContactImportOut)
    @blp.errors(409)
    @requires("contacts:write")
    def post(self, import_id):
        """Resume a failed or stalled import from its checkpoint

        A worker that dies is replaced on its own after a minute; this does it now (a
        run still alive carries on and the new one stops). 409 `import_not_resumable`
        for a pending, completed or cancelled import, `import_file_gone` when the upload
        expired.
        """
        contact_import = _import_or_404(import_id, lock=True)
        try:
            service.resume(db.session, contact_import, account_id=g.account.id)
        except service.ImportRefused as exc:
            _refused(exc)
        db.session.commit()
        return contact_import


@blp.route("/<uuid:import_id>/errors")
class ContactImportErrors(MethodView):
    @blp.response(
        200,
        {"type": "string", "format": "binary"},
        content_type="text/csv",
        description="The file's header and an `errors` column, then each refused row",
        headers={
            "Content-Disposition": {
                "description": 'attachment; filename="<file>-errors.csv"',
                "schema": {"type": "string"},
            }
        },
    )
    @requires("contacts:write")
    def get(self, import_id):
        """Download the rows an import refused, as CSV

        Each refused row as it was read, with an `errors` column saying why (`<column>:
        <messages>`, fields named by their column), in file order; cells are defused as
        the export defuses them. Fix the rows and import the file again (the `errors`
        column is then ignored as unknown).
        """
        contact_import = _import_or_404(import_id)
        # Streamed after the view returns: the body brings its own session.
        engine = scoped_engine(db.engine, current_schema())

        def body():
            with Session(bind=engine) as session:
                yield from service.report_chunks(session, contact_import)

        stem = re.sub(r"[^A-Za-z0-9._-]+", "_", contact_import.filename.rsplit(".", 1)[0])
        return Response(
            body(),
            mimetype="text/csv",
            headers={"Content-Disposition": f'attachment; filename="{stem}-errors.csv"'},
        )
