"""The helpdesk: channels, teams, conversations and their messages.

Business rules live in plain keyword-only service functions (session first, no Flask),
so the API, workers and automation all go through the same rules.
"""
