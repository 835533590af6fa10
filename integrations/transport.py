"""Outbound webhook HTTP goes through the one SSRF guard the product has (core.safe_http), which
the generic API channel's replies use too."""

from core.safe_http import Result, Target, UnsafeURL, check, forbidden, post, resolve

__all__ = ["Result", "Target", "UnsafeURL", "check", "forbidden", "post", "resolve"]
