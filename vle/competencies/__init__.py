"""Competency tracking: frameworks, links, evidence, ratings, plans, badges."""
