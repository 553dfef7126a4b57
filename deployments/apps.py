from django.apps import AppConfig


class DeploymentsConfig(AppConfig):
    name = "deployments"

    def ready(self) -> None:
        # Imported here, not at the top: receivers use models, which Django loads after apps.py.
        from deployments.signals import deployment_queued, deployment_status_changed
        from deployments.tasks import reconcile_after_finish, send_queued

        # A requested deployment goes to a worker once its row is committed.
        deployment_queued.connect(send_queued, dispatch_uid="deployments.send_queued")
        # The servers are the truth: after every finished deployment, read them again.
        deployment_status_changed.connect(
            reconcile_after_finish, dispatch_uid="deployments.reconcile_after_finish"
        )
