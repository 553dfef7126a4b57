"""Deployment, log, release and truth shapes for the REST API (deployments/api.py)."""

from __future__ import annotations

from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import extend_schema_field
from rest_framework import serializers

from deployments.approvals import REJECT_REASON_MAX
from deployments.gates import OVERRIDE_MAX
from deployments.models import Deployment, DeploymentStep, LogLine


class DeploymentStepSerializer(serializers.ModelSerializer):
    duration_seconds = serializers.SerializerMethodField()

    class Meta:
        model = DeploymentStep
        fields = ["name", "server", "status", "order", "started_at", "finished_at",
                  "duration_seconds", "exit_code", "error"]

    def get_duration_seconds(self, step: DeploymentStep) -> float | None:
        return step.duration.total_seconds() if step.duration is not None else None


class DeploymentSerializer(serializers.ModelSerializer):
    duration_seconds = serializers.SerializerMethodField()
    env_version = serializers.SerializerMethodField(
        help_text="The number of the environment version it ships (null: not started, or "
                  "a rollback to a release from before versions were kept).")

    class Meta:
        model = Deployment
        fields = ["id", "number", "site", "kind", "trigger", "triggered_by_name", "branch",
                  "commit_sha",
                  "commit_message", "commit_author", "release", "previous_release", "status",
                  "created_at", "started_at", "finished_at", "duration_seconds", "failed_step",
                  "error", "cancel_requested_at", "approval_role", "approval_expires_at",
                  "decided_by_name", "decided_at", "freeze_override", "held_by", "force",
                  "base_commit", "env_version"]

    def get_duration_seconds(self, deployment: Deployment) -> float | None:
        duration = deployment.duration
        return duration.total_seconds() if duration is not None else None

    def get_env_version(self, deployment: Deployment) -> int | None:
        version = deployment.env_version if deployment.env_version_id else None
        return version.number if version is not None else None


class DeploymentDetailSerializer(DeploymentSerializer):
    steps = DeploymentStepSerializer(many=True, read_only=True)

    class Meta(DeploymentSerializer.Meta):
        fields = [*DeploymentSerializer.Meta.fields, "steps"]


class LogLineSerializer(serializers.ModelSerializer):
    class Meta:
        model = LogLine
        fields = ["seq", "server", "stream", "text", "ts"]


class DeployInputSerializer(serializers.Serializer):
    commit = serializers.CharField(required=False, allow_blank=True,
                                   help_text="A full 40-character SHA; default: the branch head.")
    freeze_override = serializers.CharField(
        required=False, allow_blank=True, max_length=OVERRIDE_MAX,
        help_text="Why to deploy during an active freeze window (refused without it; audited).")
    force = serializers.BooleanField(
        required=False, default=False,
        help_text="Deploy even when the commit is already live (else the deployment ends "
                  "`skipped`, \"already live\").")
    confirm_destructive = serializers.BooleanField(
        required=False, default=False,
        help_text="Required when the plan finds destructive migrations (else 409 with their "
                  "list).")


class RejectInputSerializer(serializers.Serializer):
    reason = serializers.CharField(required=False, allow_blank=True, max_length=REJECT_REASON_MAX)


class PlanInputSerializer(serializers.Serializer):
    commit = serializers.CharField(required=False, allow_blank=True, max_length=64,
                                   help_text="A full 40-character SHA; default: the branch head "
                                             "as the servers' mirror last saw it.")


class ChangesSerializer(serializers.Serializer):
    """A release diff (deployments/release_diff.py Changes) with its counts."""

    summary = serializers.DictField(help_text="Counts and one line of text.")
    commits = serializers.ListField(child=serializers.DictField())
    more_commits = serializers.BooleanField()
    areas = serializers.DictField(help_text="Top-level directory -> changed files.")
    packages = serializers.DictField(help_text="Lock file -> added, removed, upgraded, "
                                               "downgraded packages.")
    migrations = serializers.ListField(child=serializers.DictField())
    migration_label = serializers.CharField()
    env = serializers.DictField(help_text="Environment key names added, removed, changed.")

    def to_representation(self, changes) -> dict:
        diff = changes.diff
        return {
            "summary": changes.summary(), "commits": changes.commits,
            "more_commits": diff.get("more_commits", False), "areas": diff.get("areas", {}),
            "packages": changes.packages, "migrations": changes.migrations,
            "migration_label": changes.migration_label, "env": changes.env,
        }


class DeploymentChangesSerializer(serializers.Serializer):
    kind = serializers.CharField()
    base = serializers.CharField(help_text="The commit live when the deployment started.")
    commit = serializers.CharField()
    changes = ChangesSerializer(allow_null=True)
    unknown = serializers.CharField(help_text="Why there is no diff (\"\" when there is).")


class ServerPlanSerializer(serializers.Serializer):
    name = serializers.CharField()
    live_release = serializers.CharField()
    live_commit = serializers.CharField()
    error = serializers.CharField()
    steps = serializers.SerializerMethodField()

    def get_steps(self, server) -> list[dict]:
        return [{"step": step, "commands": commands} for step, commands in server.steps]


class PlanSerializer(serializers.Serializer):
    requested = serializers.CharField()
    target = serializers.CharField(help_text="The commit the deploy would run (\"\": unknown).")
    base = serializers.CharField(help_text="The commit live on every server (\"\": none).")
    already_live = serializers.BooleanField()
    migration_label = serializers.CharField()
    button_label = serializers.CharField(
        help_text="What the Deploy button says: `Deploy abc1234 — 3 commits, 2 migrations "
                  "(1 destructive)`, or `Already live`.")
    migrations_source = serializers.ChoiceField(
        choices=["migrate:status", "files"],
        help_text="Where the migrations that will run come from: `artisan migrate:status` in "
                  "the live release on the first server, or the new files of the diff.")
    destructive = serializers.ListField(
        child=serializers.DictField(), help_text="The destructive migrations (`path`, "
        "`destructive` operations): a deploy needs `confirm_destructive`.")
    warnings = serializers.ListField(child=serializers.CharField())
    diff_error = serializers.CharField()
    changes = ChangesSerializer(allow_null=True)
    servers = ServerPlanSerializer(many=True)


class RollbackPlanInputSerializer(serializers.Serializer):
    release = serializers.CharField(max_length=64,
                                    help_text="A retained release name (UTC YYYYMMDDHHMMSS).")


class RollbackPlanSerializer(serializers.Serializer):
    release = serializers.CharField(help_text="The release that becomes live.")
    commit = serializers.CharField(help_text="Its commit (\"\": unknown).")
    live_release = serializers.CharField(help_text="The release live now (\"\": unknown).")
    live_commit = serializers.CharField()
    commits_gone = serializers.ListField(
        child=serializers.DictField(), help_text="The commits live now that the rollback takes "
        "away (sha, author, subject, url), newest first.")
    more_commits = serializers.BooleanField()
    migrations_kept = serializers.ListField(
        child=serializers.CharField(), help_text="Migrations the live release ran that the "
        "target does not have: the database stays migrated.")
    diff_error = serializers.CharField()
    warnings = serializers.ListField(child=serializers.CharField())


class RollbackInputSerializer(serializers.Serializer):
    release = serializers.CharField(help_text="A retained release name (UTC YYYYMMDDHHMMSS).")


class ReleasesSerializer(serializers.Serializer):
    live = serializers.CharField(allow_null=True)
    releases = serializers.ListField(child=serializers.CharField())


class ReleaseOnDiskSerializer(serializers.Serializer):
    name = serializers.CharField(help_text="releases/<name> (UTC YYYYMMDDHHMMSS).")
    commit = serializers.CharField(allow_null=True, help_text="Its REVISION; null if none.")


class ServerTruthSerializer(serializers.Serializer):
    """What one server of the site served at the last reconcile (deployments/reconcile.py)."""

    server = serializers.IntegerField(source="server.pk")
    name = serializers.CharField(source="server.name")
    observed = serializers.BooleanField(help_text="False until the server was first read.")
    live = serializers.CharField(allow_null=True, help_text="The release `current` points at.")
    current = serializers.SerializerMethodField(help_text="release | none | not_release")
    current_target = serializers.SerializerMethodField()
    releases = serializers.SerializerMethodField()
    observed_at = serializers.SerializerMethodField()
    checked_at = serializers.SerializerMethodField()
    error = serializers.SerializerMethodField(help_text="Why the last read failed ('' if not).")
    drift = serializers.ListField(child=serializers.CharField(),
                                  help_text="Where the server disagrees with the panel.")
    stale = serializers.BooleanField(help_text="Observed before the last deployment ended.")

    def get_current(self, truth) -> str | None:
        return truth.facts.current if truth.observed else None

    def get_current_target(self, truth) -> str | None:
        return (truth.facts.current_target or None) if truth.observed else None

    @extend_schema_field(ReleaseOnDiskSerializer(many=True))
    def get_releases(self, truth) -> list[dict]:
        return list(truth.facts.releases) if truth.observed else []

    @extend_schema_field(OpenApiTypes.DATETIME)
    def get_observed_at(self, truth):
        return truth.facts.observed_at if truth.facts is not None else None

    @extend_schema_field(OpenApiTypes.DATETIME)
    def get_checked_at(self, truth):
        return truth.facts.checked_at if truth.facts is not None else None

    def get_error(self, truth) -> str:
        return truth.facts.error if truth.facts is not None else ""


class SiteTruthSerializer(serializers.Serializer):
    """The servers' truth about a site, next to what the panel believes live."""

    live_everywhere = serializers.CharField(
        allow_null=True, help_text="The release live on every server, per the facts.")
    believed_live = serializers.SerializerMethodField(
        help_text="The release of the last successful deployment (the panel's belief).")
    has_drift = serializers.SerializerMethodField()
    servers = ServerTruthSerializer(many=True)

    def get_believed_live(self, truth) -> str | None:
        return truth.believed_live.release if truth.believed_live else None

    def get_has_drift(self, truth) -> bool:
        return bool(truth.drift)


class ReconcileSerializer(SiteTruthSerializer):
    judged = serializers.SerializerMethodField(
        help_text="False while a deployment runs: drift not judged.")

    def get_judged(self, truth) -> bool:
        return self.context.get("judged", True)

