"""The automation engine: JSONLogic rules evaluated by RQ workers on conversation events.

Its evaluator, rules and actions arrive with the automation issue; the package exists so
the layout is fixed from the start.
"""
