"""The policy layer: programs, licenses, the 50% rule and good-guy decisions turn matches into decisions.

Public API (stable; the payments code builds on it): :class:`~clearance.policy.types.Subject`,
:class:`~clearance.policy.types.Transaction`, :class:`~clearance.policy.decide.PolicyContext`,
:func:`~clearance.policy.decide.decide_party`, :func:`~clearance.policy.decide.combine` and
:func:`~clearance.policy.decide.decide_message`, returning
:class:`~clearance.policy.types.PartyDecision` / :class:`~clearance.policy.types.MessageDecision`.
"""
