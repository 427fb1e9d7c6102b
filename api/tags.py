"""Tags of the current account: the vocabulary (with usage counts) and contacts' tags.

Conversations' tags are under ``/conversations/{id}/tags`` (see :mod:`api.conversations`).
Reading the vocabulary needs ``conversations:read``; a contact's tags are read and
changed with the contact permissions. Curating the vocabulary is ``tags:manage``.
"""

from __future__ import annotations

import uuid
from datetime import datetime
from functools import partial

import marshmallow as ma
from flask import g
from flask.views import MethodView

from api.auth import audit_change, current_actor, requires, tenant_blueprint
from api.base import Schema
from api.errors import fail
from api.helpdesk_errors import refusals_answered
from api.listing import ORDERED_OPS, TEXT_OPS, Field, ListArgs, Listing, page_schema, paginate
from crm.service import get_contact
from helpdesk.tags import (
    CONTACTS,
    MAX_NAME_LENGTH,
    Tag,
    add_tags,
    create_tag,
    delete_tag,
    find_tag,
    get_tag,
    key_of,
    merge_tags,
    remove_tag,
    tag_with_usage,
    tags_on,
    tags_with_usage,
    update_tag,
)
from tenants.db import db

blp = tenant_blueprint(
    "tags", __name__, "/tags", description="Tags shared by conversations and contacts"
)
contact_tags = tenant_blueprint("contact_tags", __name__, "/contacts", description="Contacts' tags")

COLOR = ma.validate.Regexp(r"^#[0-9a-fA-F]{6}$", error="a colour is #rrggbb")
LISTING = Listing(
    fields={
        "name": Field(Tag.name, str, TEXT_OPS),
        "created_at": Field(Tag.created_at, datetime, ORDERED_OPS),
    },
    default_sort="name",
    tiebreak=Tag.id,
)


class TagArgs(ListArgs):
    prefix = ma.fields.String(
        metadata={"description": "Names starting with this, ignoring case and spacing"}
    )


class TagIn(Schema):
    name = ma.fields.String(required=True, validate=ma.validate.Length(min=1, max=MAX_NAME_LENGTH))
    color = ma.fields.String(allow_none=True, validate=COLOR)
    description = ma.fields.String(allow_none=True, validate=ma.validate.Length(max=500))


class TagOut(Schema):
    id = ma.fields.UUID(required=True)
    name = ma.fields.String(required=True)
    color = ma.fields.String(allow_none=True)
    description = ma.fields.String(allow_none=True)
    conversation_count = ma.fields.Integer(required=True)
    contact_count = ma.fields.Integer(required=True)
    created_at = ma.fields.AwareDateTime(required=True)
    updated_at = ma.fields.AwareDateTime(required=True)


TagPage = page_schema(TagOut, "TagPage")


class MergeTagIn(Schema):
    into = ma.fields.UUID(required=True, metadata={"description": "The tag that remains"})


class TagNamesIn(Schema):
    tags = ma.fields.List(
        ma.fields.String(),
        required=True,
        validate=ma.validate.Length(min=1, max=50),
        metadata={"description": "Tag names; a name no tag has yet becomes a new tag"},
    )


class TagNamesOut(Schema):
    tags = ma.fields.List(
        ma.fields.String(), required=True, metadata={"description": "Sorted by name"}
    )


def _snapshot(tag: Tag) -> dict:
    return {"name": tag.name, "color": tag.color, "description": tag.description}


_audit = partial(audit_change, "tag")


def _tag_or_404(tag_id: uuid.UUID) -> Tag:
    tag = get_tag(db.session, tag_id)
    if tag is None:
        fail(404, "tag_not_found", "No such tag.")
    return tag


@blp.route("")
class Tags(MethodView):
    @blp.arguments(TagArgs, location="query")
    @blp.response(200, TagPage)
    @blp.errors(400)
    @requires("conversations:read")
    def get(self, args):
        """List tags with how many conversations and contacts carry each"""
        query = tags_with_usage()
        if args.get("prefix"):
            escaped = key_of(args["prefix"]).replace("\\", "\\\\")
            escaped = escaped.replace("%", "\\%").replace("_", "\\_")
            query = query.where(Tag.key.like(f"{escaped}%", escape="\\"))
        return paginate(db.session, query, LISTING, args)

    @blp.arguments(TagIn)
    @blp.response(201, TagOut)
    @blp.errors(409)
    @requires("tags:manage")
    def post(self, data):
        """Create a tag (names are unique ignoring case and spacing)"""
        with refusals_answered():
            tag = create_tag(db.session, **data)
        _audit("created", tag.id, after=_snapshot(tag))
        db.session.commit()
        return tag_with_usage(db.session, tag.id)


@blp.route("/<uuid:tag_id>")
class TagById(MethodView):
    @blp.response(200, TagOut)
    @requires("conversations:read")
    def get(self, tag_id):
        """Read one tag"""
        tag = tag_with_usage(db.session, tag_id)
        if tag is None:
            fail(404, "tag_not_found", "No such tag.")
        return tag

    @blp.arguments(TagIn(partial=True))
    @blp.response(200, TagOut)
    @blp.errors(409)
    @requires("tags:manage")
    def patch(self, data, tag_id):
        """Rename a tag or change its colour or description

        Every conversation and contact carrying it shows the new name. Renaming into a
        name another tag has answers `409 tag_name_taken` (merge them instead).
        """
        tag = _tag_or_404(tag_id)
        before = _snapshot(tag)
        with refusals_answered():
            update_tag(db.session, tag, **data)
        _audit("updated", tag.id, before=before, after=_snapshot(tag))
        db.session.commit()
        return tag_with_usage(db.session, tag_id)

    @blp.response(204)
    @requires("tags:manage")
    def delete(self, tag_id):
        """Delete a tag: it disappears from every conversation and contact"""
        tag = _tag_or_404(tag_id)
        _audit("deleted", tag.id, before=_snapshot(tag))
        delete_tag(db.session, tag)
        db.session.commit()


@blp.route("/<uuid:tag_id>/merge")
class TagMerge(MethodView):
    @blp.arguments(MergeTagIn)
    @blp.response(200, TagOut)
    @requires("tags:manage")
    def post(self, data, tag_id):
        """Merge a tag into another: its conversations and contacts carry the other one

        A carrier of both keeps one link; the merged tag is deleted. The remaining tag is
        returned with its new counts.
        """
        source = _tag_or_404(tag_id)
        into = get_tag(db.session, data["into"])
        if into is None:
            fail(422, "validation_failed", "No such tag.", errors={"into": ["no such tag"]})
        before = _snapshot(source)
        with refusals_answered():
            merge_tags(db.session, source, into=into)
        _audit("merged", tag_id, before=before, after={"merged_into": str(data["into"])})
        db.session.commit()
        return tag_with_usage(db.session, data["into"])


def _contact_or_404(contact_id: uuid.UUID):
    contact = get_contact(db.session, contact_id)
    if contact is None:
        fail(404, "contact_not_found", "No such contact.")
    return contact


def _names(contact_id: uuid.UUID) -> dict:
    return {"tags": [tag.name for tag in tags_on(db.session, CONTACTS, contact_id)]}


@contact_tags.route("/<uuid:contact_id>/tags")
class ContactTags(MethodView):
    @contact_tags.response(200, TagNamesOut)
    @requires("contacts:read")
    def get(self, contact_id):
        """List a contact's tags"""
        return _names(_contact_or_404(contact_id).id)

    @contact_tags.arguments(TagNamesIn)
    @contact_tags.response(200, TagNamesOut)
    @requires("contacts:write")
    def post(self, data, contact_id):
        """Tag a contact

        Names are matched ignoring case and spacing; a name no tag has yet becomes a new
        tag. Tags the contact already carries stay as they are (no event).
        """
        contact = _contact_or_404(contact_id)
        with refusals_answered():
            add_tags(
                db.session,
                CONTACTS,
                contact.id,
                account_id=g.account.id,
                actor=current_actor(),
                names=data["tags"],
            )
        db.session.commit()
        return _names(contact_id)


@contact_tags.route("/<uuid:contact_id>/tags/<tag>")
class ContactTagByName(MethodView):
    @contact_tags.response(204)
    @requires("contacts:write")
    def delete(self, contact_id, tag):
        """Remove a tag, named by its name or id, from a contact"""
        contact = _contact_or_404(contact_id)
        found = find_tag(db.session, tag)
        if found is None or not remove_tag(
            db.session,
            CONTACTS,
            contact.id,
            found,
            account_id=g.account.id,
            actor=current_actor(),
        ):
            fail(404, "tag_not_found", "The contact does not carry this tag.")
        db.session.commit()
