"""Placeholder: page-cache purging on edits is wired here."""
