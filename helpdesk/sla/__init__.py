"""Service-level agreements: policies with targets per priority, and their tracking.

``models`` holds the tables, ``policies`` the rules for policies, holidays and explicit
application, ``tracking`` the deadlines kept per conversation (event consumers and the
``sla`` timer) and the hit-rate report.
"""
