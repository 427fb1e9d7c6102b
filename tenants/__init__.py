"""The data floor: which account a piece of work belongs to, and how it reaches that data.

Shared identity and the account registry live in the ``public`` schema; every account's
own tables live in a schema of their own. Nothing here imports a domain package.
"""
