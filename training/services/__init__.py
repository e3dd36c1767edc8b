"""Training services: launch and cancel runs (``runs``), execute them in the worker
(``execute``), evaluate and the playground (``evaluation``), pre-flight (``preflight``), budgets,
leases (``jobs``) and lineage. Views and tasks import the module they need; they decide.

Nothing is imported here: ``TrainingConfig.ready`` imports ``jobs`` at start-up, and that must
not load torch into every web process.
"""
