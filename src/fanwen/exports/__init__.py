"""DOCX export laid out like an official document, and placeholder fill-in."""
