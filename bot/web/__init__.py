"""The HTTP side: the Starlette app with /healthz, to which channels add their webhooks.

May import: every capability below it, store and the foundation.
"""
