"""Importing contacts from a CSV file: upload, map the columns, try it, run it in a
worker, resume it after a crash, read what it refused.

``models`` the tables; ``reading`` the file's encoding, delimiter and rows; ``mapping``
columns to fields; ``rows`` checking and matching rows (shared by the dry run and the
import); ``service`` the steps the API calls; ``runner`` the job, its batches and lease.
"""
