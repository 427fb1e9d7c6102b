"""The append-only audit log of each account (a tenant table)."""
