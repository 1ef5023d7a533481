"""Fit, apply and monitor inside a cluster engine: :mod:`normlock.dask`, :mod:`normlock.spark`.

Each partition is summarized where it lives (a :class:`~normlock.partial.PartialFit`, a
:class:`~normlock.profile.Profile`), the summaries merge in a tree, and the merged fit
becomes the same lock, bit for bit, as a local fit of all the rows; transforms run the
lock itself on each partition. The engines are optional: ``import normlock`` loads
neither.
"""
