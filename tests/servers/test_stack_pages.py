"""Stack panels without a check yet, the setup guide page, and the stored JSON round trip."""

from __future__ import annotations

import pytest
from django.urls import reverse

from servers.models import Server
from servers.stack.check import parse_nginx
from servers.stack.probe import FpmMaster, StackFacts
from servers.stack.report import judge_stored
from servers.stack.store import NO_FPM_MASTER_NOTE, stack_from_json, stack_to_json
from sites.models import Site
from sites.services import site_create
from tenancy.audit import Actor

NGINX_DUMP = (
    "# configuration file /etc/nginx/sites/app:\nserver {\n server_name app.test;\n"
    " root /srv/app/current/public;\n location ~ \\.php$ {\n"
    "  fastcgi_pass 127.0.0.1:9000;\n  fastcgi_param DOCUMENT_ROOT $realpath_root;\n }\n}\n"
)

REALPATH_BOTH = (
    "# configuration file /n.conf:\nserver {\n"
    " fastcgi_param SCRIPT_FILENAME $realpath_root$fastcgi_script_name;\n"
    " fastcgi_param DOCUMENT_ROOT $realpath_root;\n}\n"
)


def live_facts() -> StackFacts:
    master = FpmMaster(
        conf="/etc/php/8.2/fpm/php-fpm.conf",
        settings={"process_control_timeout": "10s"},
        listens=["127.0.0.1:9000"],
        opcache={"opcache.enable": "On"},
    )
    return StackFacts(nginx=parse_nginx(NGINX_DUMP), fpm=[master], notes=[])


def test_it_reads_back_the_stored_stack_unchanged():
    facts = live_facts()
    assert stack_from_json(stack_to_json(facts)) == facts


def test_it_notes_when_no_fpm_master_runs():
    facts = live_facts()
    facts.fpm[0].conf = None
    assert NO_FPM_MASTER_NOTE in stack_to_json(facts)["notes"]


@pytest.mark.django_db
def test_it_says_a_site_is_not_judged_before_a_check(cast, client_for):
    server = Server.objects.create(organization=cast.org, name="web-9", host="h")
    site = site_create(
        organization=cast.org,
        actor=Actor(user=cast.owner),
        servers=[server],
        name="shop",
        repository_url="git@github.com:acme/shop.git",
        deploy_path="/srv/shop",
    )
    page = client_for(cast.viewer).get(reverse("sites:detail", args=["acme", site.pk]))
    assert "Not judged yet" in page.content.decode()


@pytest.mark.django_db
def test_it_lists_the_nginx_roots_on_the_server_page(cast, client_for):
    stack = stack_to_json(live_facts())
    server = Server.objects.create(organization=cast.org, name="web-9", host="h", stack=stack)
    page = client_for(cast.viewer).get(reverse("servers:detail", args=["acme", server.pk]))
    assert "/etc/nginx/sites/app:3" in page.content.decode()


@pytest.mark.parametrize("role,status", [("viewer", 200), ("outsider", 404)])
def test_it_serves_the_setup_guide_as_text(cast, client_for, role, status):
    response = client_for(cast.user(role)).get(reverse("servers:setup-guide", args=["acme"]))
    assert response.status_code == status
    if status == 200:
        assert "process_control_timeout = 10s" in response.content.decode()


def test_it_explains_a_skipped_reload():
    facts = live_facts()
    facts.fpm[0].settings["process_control_timeout"] = "0"
    facts.nginx[0].fastcgi_params.update(parse_nginx(REALPATH_BOTH)[0].fastcgi_params)
    server = Server(name="web-9", stack=stack_to_json(facts))
    stack = judge_stored(server, Site(deploy_path="/srv/app", web_dir="public"))
    assert stack.reload == "skip"
    assert stack.reload_summary.startswith("Reload skipped: it would drop requests")
