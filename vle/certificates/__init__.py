"""Certificates of course completion: a PDF per completion, and a public page
that verifies its code."""
