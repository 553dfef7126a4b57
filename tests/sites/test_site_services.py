"""site_create / site_update / site_delete: validated, normalized, audited, scoped."""

from __future__ import annotations

import pytest
from django.core.exceptions import ValidationError
from django.db import connection

from servers.ssh import fingerprint
from sites.services import site_delete, site_update
from tenancy.audit import Actor
from tenancy.models import AuditEvent


@pytest.mark.parametrize(
    "field,value",
    [("repository_url", "-oProxyCommand=x"), ("repository_url", "ext::sh -c id"),
     ("repository_url", "file:///srv/repo.git"), ("branch", "--upload-pack=x"),
     ("branch", "main;id"), ("branch", "$(id)"), ("deploy_path", "/"), ("deploy_path", "/etc"),
     ("deploy_path", "/srv/../etc"), ("web_dir", "../x"), ("shared_dirs", ["storage", "storage/x"]),
     ("env", {"LD_PRELOAD": "/tmp/x.so"}), ("env", {"GIT_SSH_COMMAND": "sh"}),
     ("releases_to_keep", 0), ("reload_command", [])],
)
def test_it_refuses_hostile_values_at_save(make_site, field, value):
    with pytest.raises(ValidationError) as refused:
        make_site(**{field: value})
    assert field in refused.value.message_dict or field == "env"


def test_it_normalizes_paths_at_save(make_site):
    site = make_site(deploy_path="/srv//shop/", web_dir="public/", shared_dirs=["storage/"])
    site.refresh_from_db()
    assert (site.deploy_path, site.web_dir) == ("/srv/shop", "public")
    assert site.shared_dirs == ["storage"]


def test_it_generates_an_ed25519_deploy_key_per_site(make_site):
    first, second = make_site(name="a"), make_site(name="b")
    assert first.deploy_key_public.startswith("ssh-ed25519 ")
    assert fingerprint(first.deploy_key_public) != fingerprint(second.deploy_key_public)


def test_it_encrypts_environment_and_keys_at_rest(site):
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT environment, deploy_key_private FROM sites_site WHERE id=%s", [site.id]
        )
        environment, private = cursor.fetchone()
    assert "c2VjcmV0LWtleS12YWx1ZQ" not in environment and "APP_KEY" not in environment
    assert "OPENSSH PRIVATE KEY" not in private
    assert site.env["APP_KEY"] == "base64:c2VjcmV0LWtleS12YWx1ZQ=="


def test_it_refuses_servers_of_another_organization(make_site, cast, other_server):
    site = make_site()
    with pytest.raises(ValidationError):
        site_update(site=site, actor=Actor(user=cast.owner), servers=[other_server])


def test_it_requires_a_server(make_site, cast):
    site = make_site()
    with pytest.raises(ValidationError):
        site_update(site=site, actor=Actor(user=cast.owner), servers=[])


def test_it_refuses_a_duplicate_name_in_the_same_organization(make_site):
    make_site()
    with pytest.raises(ValidationError):
        make_site()


def test_it_audits_env_changes_without_values(site, cast):
    site_update(site=site, actor=Actor(user=cast.developer), env={"DB_PASSWORD": "hunter2-long"})
    event = AuditEvent.objects.filter(verb="site.updated").get()
    assert "hunter2-long" not in str(event.before) + str(event.after)
    assert event.after["env_names"] == ["DB_PASSWORD"]


def test_it_deletes_with_an_audit_event(site, cast):
    site_delete(site=site, actor=Actor(user=cast.manager))
    assert AuditEvent.objects.filter(verb="site.deleted", target_repr="shop").exists()
