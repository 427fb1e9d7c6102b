"""The automation engine: JSONLogic rules evaluated by RQ workers on conversation events.

:mod:`automation.jsonlogic` is the evaluator (rules compiled once to Python, cached per
rule version); the rules and actions themselves arrive with the automation issue.
"""
