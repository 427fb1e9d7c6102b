"""Users, credentials and access tokens; shared across accounts in the public schema."""
