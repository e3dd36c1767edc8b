"""Action jobs: a slow page action (freeze, fix preview, training pre-flight, split) run by a worker
while the page that asked for it stays usable and shows its progress.

One model (:class:`~.models.ActionJob`), one status endpoint (``/api/v1/action-jobs/<id>/``), one
status page (``/actions/<id>/``) and one template partial serve every action. An app registers
each of its actions (``registry.action_register`` in its ``AppConfig.ready``) with the dotted
path of its runner; this package never imports an app. A job is claimed and held through
``finetunedb.leases`` like every other job kind.
"""
