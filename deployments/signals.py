"""What the deployments app announces; other apps (and its own task modules) listen.

Both are sent after the change committed, with `send_robust`: a receiver that fails is
logged (logger "django.dispatch") and never changes a deployment's outcome. Receivers are
connected in each app's AppConfig.ready() (deployments/apps.py, notifications/apps.py,
webhooks/apps.py).
"""

from __future__ import annotations

from django.dispatch import Signal

# A deployment's status changed (running, finished, cancelled while queued); sent with
# `deployment_id` and `status`, the status it changed to, so a receiver that has nothing to do
# for that status returns without reading the row (a status of None: read it). Listeners:
# the reconcile (deployments/tasks.py), the notifications fan-out (notifications/services.py)
# and the webhook inbox's stale-push note (webhooks/receivers.py).
deployment_status_changed = Signal()

# A queued deployment should go to a worker now (just requested); sent with `deployment_id`.
# The task module's receiver sends run_deployment (deployments/tasks.py), so the services
# that request deployments never import their task module.
deployment_queued = Signal()
