"""Creating, suspending, deleting and migrating tenants; the ``flask tenants`` commands."""
