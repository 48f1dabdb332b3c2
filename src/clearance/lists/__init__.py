"""List readers: one module a format, all returning :class:`~clearance.lists.base.ParsedList`."""
