"""Maintainer tools for the dependencies: the locks' contents, the licences they carry, vulnerability audits.

``./dev lock`` and ``./dev audit`` run these; they are not part of the Lambda layer.
"""
