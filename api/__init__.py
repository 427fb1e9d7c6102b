"""HTTP only: blueprints, routes and marshmallow schemas. Rules live in the domain packages."""
