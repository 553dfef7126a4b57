"""Hostile and malformed connection values are refused by the form AND by the services."""

from __future__ import annotations

import pytest
from django.core.exceptions import ValidationError

from servers.forms import ServerForm
from servers.models import Server
from servers.services import server_create, server_update
from servers.validators import clean_host
from tenancy.audit import Actor

GOOD = {"name": "web-1", "host": "web-1.example.com", "port": "22", "user": "deploy"}
HOSTILE = [
    ("host", "-oProxyCommand=x"),
    ("host", "1.2.3.4; id"),
    ("host", "$(id)"),
    ("host", "a b"),
    ("host", "`id`.example.com"),
    ("host", "-example.com"),
    ("host", "example-.com"),
    ("host", "a" * 64 + ".com"),
    ("host", "999.1.1.1"),
    ("host", "fe80::1%eth0"),
    ("user", "root;id"),
    ("user", "-oProxyCommand=x"),
    ("user", "$(id)"),
    ("user", "Root"),
    ("user", "ro ot"),
    ("port", "22 -o x"),
    ("port", "70000"),
    ("port", "0"),
    ("port", "-1"),
    ("port", "$(id)"),
]


@pytest.mark.parametrize("field,value", HOSTILE)
def test_it_refuses_hostile_values_in_the_form(field, value):
    form = ServerForm({**GOOD, field: value})
    assert not form.is_valid()
    assert list(form.errors) == [field]


@pytest.mark.parametrize("field,value", HOSTILE)
def test_it_refuses_hostile_values_in_the_create_service(cast, field, value):
    with pytest.raises(ValidationError) as caught:
        server_create(org=cast.org, actor=Actor(user=cast.owner), **{**GOOD, field: value})
    assert list(caught.value.message_dict) == [field]
    assert not Server.objects.exists()


@pytest.mark.parametrize("field,value", HOSTILE)
def test_it_refuses_hostile_values_in_the_update_service_and_saves_nothing(cast, field, value):
    server = server_create(org=cast.org, actor=Actor(user=cast.owner), **GOOD)
    with pytest.raises(ValidationError):
        server_update(server=server, actor=Actor(user=cast.owner), name="renamed", **{field: value})
    assert Server.objects.get(pk=server.pk).name == "web-1"


@pytest.mark.parametrize(
    "value", ["10.0.0.1", "::1", "2001:db8::17", "web-1.example.com", "localhost", "a" * 63]
)
def test_it_accepts_ip_addresses_and_host_names(value):
    assert clean_host(value) == value


def test_it_lowercases_host_names():
    assert clean_host("Web-1.Example.COM") == "web-1.example.com"


def test_it_refuses_host_names_longer_than_253_characters():
    with pytest.raises(ValidationError):
        clean_host(".".join(["a" * 63] * 4))


def test_it_refuses_a_trailing_newline_in_the_service(cast):
    # The form strips surrounding whitespace; the service sees raw API values and must not.
    with pytest.raises(ValidationError) as caught:
        server_create(org=cast.org, actor=Actor(user=cast.owner), **{**GOOD, "user": "root\n"})
    assert list(caught.value.message_dict) == ["user"]


def test_it_refuses_a_port_given_as_a_bool(cast):
    with pytest.raises(ValidationError) as caught:
        server_create(org=cast.org, actor=Actor(user=cast.owner), **{**GOOD, "port": True})
    assert "port" in caught.value.message_dict


def test_it_explains_each_bad_field_in_its_own_words():
    form = ServerForm({**GOOD, "host": "a b", "port": "0", "user": "root;id"})
    form.is_valid()
    assert "host name" in form.errors["host"][0] and "port" in form.errors["port"][0]
    assert "user name" in form.errors["user"][0]


def test_it_refuses_a_duplicate_name_in_the_same_organization(cast):
    server_create(org=cast.org, actor=Actor(user=cast.owner), **GOOD)
    with pytest.raises(ValidationError) as caught:
        server_create(org=cast.org, actor=Actor(user=cast.owner), **{**GOOD, "host": "10.0.0.2"})
    assert list(caught.value.message_dict) == ["name"]


def test_it_allows_the_same_name_in_another_organization(cast):
    server_create(org=cast.org, actor=Actor(user=cast.owner), **GOOD)
    server_create(org=cast.other_org, actor=Actor(user=cast.outsider), **GOOD)
    assert Server.objects.filter(name="web-1").count() == 2


def test_it_shows_a_duplicate_name_as_a_field_error_on_the_page(cast, client_for):
    server_create(org=cast.org, actor=Actor(user=cast.owner), **GOOD)
    response = client_for(cast.manager).post("/o/acme/servers/new/", GOOD)
    assert response.status_code == 200
    assert response.context["form"].errors["name"]
