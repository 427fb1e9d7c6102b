"""Contacts and everything about the people an account talks to (tenant schema)."""
