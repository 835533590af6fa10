"""The agents' browser pages, one module per page. Thin: parse the form, call the same selectors
and services as the REST API (so scope, permissions and audit are identical), render or redirect.

workspace sits above routing, tagging and inbox, so it may import their services alike.
"""
