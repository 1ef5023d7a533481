"""Checks on what a fit is asked to do, from the summaries it already has."""
