"""Segments: saved contact filters whose condition is a JSONLogic document, listed in SQL."""
