"""Provisioning as a job: who may ask (page and API), what is refused before anything runs,
and the whole path through the worker to a bare Debian host, then a deploy served there."""

from __future__ import annotations

import datetime

import pytest
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import NameOID
from django.urls import reverse

from deployments import lifecycle
from deployments.models import (
    Deployment,
    Kind,
    LogLine,
    ProvisionedServer,
    SiteProvisioning,
    Status,
    Trigger,
)
from deployments.pipeline.commands import MISSING_EXTENSIONS
from deployments.provisioning import ProvisionRequestError, ProvisionSettings, provision_request
from deployments.services import deployment_request
from deployments.worker import run_deployment
from servers.models import OrganizationKey, Server
from servers.services import server_check
from sites.models import Site
from sites.services import site_create
from tenancy.audit import Actor
from tenancy.models import AuditEvent
from tenancy.roles import Cap
from testbed.gitrepo import AppRepo
from tests.fixtures.matrix import EVERYONE, allowed, api_status, assert_page_access
from tests.fixtures.stage import NO_BUILD_TOOLS


@pytest.fixture
def www_site(make_site) -> Site:
    return make_site(deploy_path="/var/www/shop")


def _key_pem(key) -> str:
    return key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
                             serialization.NoEncryption()).decode()


@pytest.fixture
def tls_pair() -> tuple[str, str]:
    """A self-signed certificate for shop.example.test and its key (PEM)."""
    key = ec.generate_private_key(ec.SECP256R1())
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "shop.example.test")])
    now = datetime.datetime.now(datetime.UTC)
    certificate = (x509.CertificateBuilder().subject_name(name).issuer_name(name)
                   .public_key(key.public_key()).serial_number(1).not_valid_before(now)
                   .not_valid_after(now + datetime.timedelta(days=1)).sign(key, hashes.SHA256()))
    return certificate.public_bytes(serialization.Encoding.PEM).decode(), _key_pem(key)


@pytest.fixture
def other_key() -> str:
    return _key_pem(ec.generate_private_key(ec.SECP256R1()))


def _bare_site(cast, bare_host, deploy_path: str, **fields) -> Site:
    """A site on a server row for `bare_host` (the organization's keys authorized there)."""
    keys = [key.public_key for key in OrganizationKey.objects.filter(organization=cast.org)]
    server = Server.objects.create(organization=cast.org, name="bare", host=bare_host.address,
                                   port=22, user="root", host_key=bare_host.host_key_line)
    values = dict(name="Shop", domain="shop.example.test", preset="php",
                  repository_url="git@example.test:shop.git", deploy_path=deploy_path,
                  repository_host_keys=f"{bare_host.address} {bare_host.host_key_line}")
    site = site_create(organization=cast.org, actor=Actor(user=cast.owner), servers=[server],
                       **{**values, **fields})
    with (bare_host.base / "authorized_keys").open("a") as authorized:
        authorized.writelines(f"{line}\n" for line in [*keys, site.deploy_key_public])
    return site


@pytest.mark.parametrize("who", EVERYONE)
def test_the_provision_button_follows_the_capability_table(cast, www_site, client_for, who):
    client = client_for(cast.user(who) if who != "anonymous" else None)
    response = client.post(reverse("sites:provision", kwargs={"org": "acme", "pk": www_site.pk}))
    assert_page_access(response, Cap.PROVISION, who, ok=302)
    queued = Deployment.objects.filter(site=www_site, kind=Kind.PROVISION).exists()
    assert queued == allowed(Cap.PROVISION, who)


@pytest.mark.parametrize("who", EVERYONE)
def test_the_provision_api_follows_the_capability_table(cast, www_site, api_as, who):
    response = api_as(who).post(f"/api/v1/sites/{www_site.pk}/provision/", {"scheduler": True})
    assert response.status_code == api_status(Cap.PROVISION, who, ok=202)
    stored = SiteProvisioning.objects.filter(site=www_site, scheduler_enabled=True).exists()
    assert stored == allowed(Cap.PROVISION, who)


def test_it_audits_the_request_without_the_key(cast, www_site, tls_pair):
    certificate, key = tls_pair
    provision_request(site=www_site, actor=Actor(user=cast.manager), trigger=Trigger.MANUAL,
                      settings=ProvisionSettings(certificate=certificate, private_key=key))
    event = AuditEvent.objects.get(verb="site.provision_requested")
    assert "uploaded (CN=shop.example.test)" == event.after["certificate"]
    assert "PRIVATE KEY" not in str(event.after)
    assert SiteProvisioning.objects.get(site=www_site).tls_private_key == key.strip() + "\n"


@pytest.mark.parametrize("path", ["/srv/shop", "/tmp/shop"])
def test_it_refuses_a_deploy_path_outside_the_allowed_roots(cast, make_site, path):
    site = make_site(deploy_path=path)
    with pytest.raises(ProvisionRequestError, match="must lie under"):
        provision_request(site=site, actor=Actor(user=cast.manager), trigger=Trigger.MANUAL)
    assert not Deployment.objects.filter(site=site).exists()


def test_it_refuses_a_key_that_is_not_the_certificates(cast, www_site, tls_pair, other_key):
    certificate, _key = tls_pair
    with pytest.raises(ProvisionRequestError, match="does not belong"):
        provision_request(site=www_site, actor=Actor(user=cast.manager), trigger=Trigger.MANUAL,
                          settings=ProvisionSettings(certificate=certificate,
                                                     private_key=other_key))
    assert not SiteProvisioning.objects.filter(site=www_site).exists()


def test_a_deploy_request_does_not_supersede_a_queued_provisioning(cast, www_site):
    first = deployment_request(site=www_site, actor=Actor.system(), trigger=Trigger.API)
    lifecycle.deployment_claim(first.pk)
    job = provision_request(site=www_site, actor=Actor(user=cast.manager),
                            trigger=Trigger.MANUAL)
    deployment_request(site=www_site, actor=Actor.system(), trigger=Trigger.API)
    assert Deployment.objects.get(pk=job.pk).status == Status.QUEUED


@pytest.mark.ssh
@pytest.mark.web
@pytest.mark.redis
@pytest.mark.django_db(transaction=True)
def test_a_provisioning_job_sets_up_a_bare_host_that_then_serves_the_deploy(
    cast, bare_host, tmp_path
):
    repo = AppRepo.create(tmp_path / "repos", "laravelish")
    repo.commit(NO_BUILD_TOOLS, "Plain PHP")
    site = _bare_site(cast, bare_host, "/var/www/shop",
                      repository_url=repo.ssh_url("root", bare_host.address, 22))
    job = provision_request(site=site, actor=Actor(user=cast.manager), trigger=Trigger.MANUAL)
    run_deployment(job.pk, send=lambda _id: True)
    job = Deployment.objects.get(pk=job.pk)
    assert job.status == Status.SUCCEEDED, job.error
    assert ProvisionedServer.objects.get(site=site).user == "site-shop"
    deploy = deployment_request(site=site, actor=Actor.system(), trigger=Trigger.API)
    run_deployment(deploy.pk, send=lambda _id: True)
    assert Deployment.objects.get(pk=deploy.pk).status == Status.SUCCEEDED
    assert bare_host.get("/", host="shop.example.test")[0] == 200


@pytest.mark.ssh
@pytest.mark.web
@pytest.mark.redis
@pytest.mark.django_db(transaction=True)
def test_a_stack_finding_shows_its_fix_then_applies_it_and_checks_again(
    cast, bare_host, client_for
):
    site = _bare_site(cast, bare_host, "/var/www/shop")
    server = site.servers.get()
    server_check(server)
    page = client_for(cast.manager).get(reverse("sites:detail", kwargs={"org": "acme",
                                                                        "pk": site.pk}))
    fix = reverse("sites:stack-fix", kwargs={"org": "acme", "pk": site.pk,
                                             "server_pk": server.pk, "code": "nginx_site_missing"})
    assert fix in page.content.decode()
    preview = client_for(cast.manager).get(fix).content.decode()
    assert "+    root /var/www/shop/current/public;" in preview
    assert bare_host.run(["ls", "/etc/nginx/sites-enabled"]).stdout.split() == ["default"]
    client_for(cast.manager).post(fix)
    job = Deployment.objects.get(site=site, kind=Kind.PROVISION)
    run_deployment(job.pk, send=lambda _id: True)
    assert Deployment.objects.get(pk=job.pk).provision_steps == ["nginx_site"]
    page = client_for(cast.manager).get(reverse("sites:detail", kwargs={"org": "acme",
                                                                        "pk": site.pk}))
    assert fix not in page.content.decode()


def test_the_site_page_repeats_the_last_deploys_missing_extension_warning(
    cast, www_site, client_for
):
    deployment = deployment_request(site=www_site, actor=Actor.system(), trigger=Trigger.API)
    lifecycle.deployment_claim(deployment.pk)
    LogLine.objects.create(deployment=deployment, seq=1, server="web-1", stream="info",
                           text=MISSING_EXTENSIONS + "gd, sqlite3", ts=deployment.created_at)
    page = client_for(cast.viewer).get(reverse("sites:detail", kwargs={"org": "acme",
                                                                       "pk": www_site.pk}))
    assert "this server lacks: gd, sqlite3" in page.content.decode()
