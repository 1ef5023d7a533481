"""Whitening groups: columns decorrelated together, beside the per-column features.

:mod:`~normlock.groups.spec` parses a spec's ``groups``, :mod:`~normlock.groups.fit`
keeps their exact co-moments during the fit and fits their matrices, :mod:`~normlock.groups.lock`
is what the lock stores, and :mod:`~normlock.groups.transform` applies them.
"""
