from django.apps import AppConfig


class DeploymentsConfig(AppConfig):
    name = "deployments"

    def ready(self) -> None:
        from deployments import lifecycle
        from deployments.tasks_reconcile import reconcile_after_finish

        # The servers are the truth: after every finished deployment, read them again.
        if reconcile_after_finish not in lifecycle.DEPLOYMENT_STATUS_HOOKS:
            lifecycle.DEPLOYMENT_STATUS_HOOKS.append(reconcile_after_finish)
