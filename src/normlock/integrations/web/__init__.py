"""The registry in a browser (``pip install 'normlock[serve]'``; ``normlock serve``).

A read-only ASGI application (Starlette, served by uvicorn) over a
:class:`~normlock.registry.Registry`: lock names, versions, aliases and their promotion
history; each lock's methods, parameters, training reference, warnings and file; the diff
between two references; each feature's served-data history as charts with the findings
of each window; ``/metrics`` in Prometheus text format; and a JSON endpoint behind each
page under ``/api``. Everything it shows ships in the package: templates, inline CSS and
inline SVG charts; no script, no request to another host.

* :mod:`.app`: routes, errors, security headers;
* :mod:`.views`: each page's data (also its JSON);
* :mod:`.pages`, ``templates/``: HTML; :mod:`.charts`: SVG charts;
* :mod:`.metrics`: the Prometheus exposition; :mod:`.server`: running it.
"""
