"""The HTTP service (``clearance serve``): thin routers over the screening core, one module a resource.

``screen`` (``/v1/screen``), ``match`` (yente's ``/match/{dataset}``), ``entities``, ``lists``, ``ops``
(health, readiness, metrics); ``service`` holds the screener in force, the audit writer and the limits;
``auth`` the API keys and roles; ``problems`` the RFC 9457 error documents.
"""
