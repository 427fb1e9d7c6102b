"""Swagger UI's assets, served from the installed ``swagger-ui-bundle`` (no CDN needed)."""

from __future__ import annotations

from flask import Blueprint, send_from_directory
from swagger_ui_bundle import swagger_ui_path

ASSETS_URL = "/docs/assets/"

assets = Blueprint("docs_assets", __name__)


@assets.get(f"{ASSETS_URL}<path:filename>")
def asset(filename: str):
    return send_from_directory(swagger_ui_path, filename, max_age=86400)
