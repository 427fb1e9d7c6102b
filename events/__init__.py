"""The event stream: named domain events, written to an outbox in the same transaction as
the change they describe, and relayed to their consumers (automation, realtime, webhooks).
"""
