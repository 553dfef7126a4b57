"""Environment versions: every change of a site's environment is a numbered version (who,
when, which names changed; values encrypted, never in the audit log)."""

from __future__ import annotations

import pytest
from django.core.exceptions import ValidationError
from django.db import connection

from sites.environment import parse_dotenv
from sites.secrets import MASK
from sites.selectors import env_changes_since, env_version_latest
from sites.services import site_env_update, site_update
from sites.validators import MAX_ENV_VARIABLES
from tenancy.audit import Actor
from tenancy.models import AuditEvent

KEY = "base64:c2VjcmV0LWtleS12YWx1ZQ=="  # the `site` fixture's APP_KEY


def _edit(site, cast, env, secret=()):
    return site_env_update(site=site, actor=Actor(user=cast.developer), env=env,
                           secret_env_names=list(secret))


def test_a_new_site_starts_at_version_one_with_every_name_added(site, cast):
    first = env_version_latest(site=site)
    assert (first.number, first.added) == (1, ["APP_DEBUG", "APP_KEY"])
    assert first.created_by == cast.owner
    assert first.env == site.env


def test_it_records_the_names_added_removed_and_changed(site, cast):
    version = _edit(site, cast, {"APP_KEY": MASK, "APP_DEBUG": "true", "MAIL_HOST": "smtp"})
    assert (version.number, version.added, version.removed, version.changed) == (
        2, ["MAIL_HOST"], [], ["APP_DEBUG"])
    assert site.env["APP_KEY"] == KEY  # ******** kept the stored value


def test_it_audits_names_and_never_values(site, cast):
    _edit(site, cast, {"APP_KEY": "base64:bmV3LXNlY3JldC12YWx1ZQ==", "APP_DEBUG": "false"})
    event = AuditEvent.objects.get(verb="site.env_updated")
    assert event.after == {"version": 2, "added": [], "removed": [], "changed": ["APP_KEY"]}
    assert "bmV3" not in str(event.before) + str(event.after)


def test_saving_the_same_environment_makes_no_version(site, cast):
    assert _edit(site, cast, {"APP_KEY": MASK, "APP_DEBUG": "false"}) is None
    assert site.env_versions.count() == 1
    assert not AuditEvent.objects.filter(verb="site.env_updated").exists()


def test_marking_a_name_secret_is_a_version_too(site, cast):
    version = _edit(site, cast, {"APP_KEY": MASK, "APP_DEBUG": "false"}, secret=["APP_DEBUG"])
    assert (version.number, version.secret_env_names) == (2, ["APP_DEBUG"])


def test_the_site_form_path_records_versions_as_well(site, cast):
    site_update(site=site, actor=Actor(user=cast.owner), env={"APP_DEBUG": "false"})
    assert env_version_latest(site=site).removed == ["APP_KEY"]


def test_it_says_what_changed_since_a_version(site, cast):
    _edit(site, cast, {"APP_DEBUG": "true", "NEW": "x"})
    changes = env_changes_since(site, 1)
    assert changes.as_dict() == {"added": ["NEW"], "removed": ["APP_KEY"], "changed": ["APP_DEBUG"]}
    assert changes.count == 3 and not env_changes_since(site, env_version_latest(site=site))


def test_it_refuses_too_many_variables_writing_nothing(site, cast):
    env = {f"V{i}": "x" for i in range(MAX_ENV_VARIABLES + 1)}
    with pytest.raises(ValidationError, match=f"at most {MAX_ENV_VARIABLES}"):
        _edit(site, cast, env)
    site.refresh_from_db()
    assert (site.env_versions.count(), sorted(site.env)) == (1, ["APP_DEBUG", "APP_KEY"])


def test_it_stores_version_values_encrypted(site):
    with connection.cursor() as cursor:
        cursor.execute("SELECT environment FROM sites_environmentversion")
        [(stored,)] = cursor.fetchall()
    assert KEY not in stored and "APP_DEBUG" not in stored


@pytest.mark.parametrize("text,expected", [
    ("export A=1\n# c\n\nB='x y' \n", {"A": "1", "B": "x y"}),
    ('C="a \\"q\\" \\$HOME"', {"C": 'a "q" $HOME'}),
    ("D=plain # comment", {"D": "plain"}),
])
def test_it_reads_a_pasted_env_file(text, expected):
    assert parse_dotenv(text) == expected


@pytest.mark.parametrize("text,message", [
    ("JUST_A_NAME", "Line 1: expected NAME=value"), ("A=1\nA=2", "Line 2: A is set twice"),
    ("A='open", "Line 1: the quote is not closed"), ("LD_PRELOAD=x", "not allowed"),
])
def test_it_refuses_a_bad_env_file_saying_where(text, message):
    with pytest.raises(ValidationError, match=message):
        parse_dotenv(text)
