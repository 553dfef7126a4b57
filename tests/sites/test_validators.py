"""Every hostile value is refused by the validators, the service and the form alike."""

from __future__ import annotations

import pytest
from django.core.exceptions import ValidationError

from sites import validators as v

HOSTILE_URLS = [
    "-oProxyCommand=x", "ext::sh -c touch% /tmp/pwned", "file:///etc/passwd",
    "git@host:repo .git", "git@host:repo\n.git", "ssh://-oProxyCommand=x/repo",
    "https://user:token@github.com/a/b.git", "git@-host:a/b.git", "http://github.com/a/b.git",
    "git@host:-repo", "ssh://host", " ",
]
GOOD_URLS = [
    "git@github.com:acme/shop.git", "ssh://git@gitlab.example.com:2222/acme/shop.git",
    "https://github.com/acme/shop.git", "ssh://root@127.0.0.1:40022/tmp/repos/laravelish.git",
]
HOSTILE_BRANCHES = [
    "--upload-pack=x", "main;id", "$(id)", "-main", "a..b", "main.lock", "feature/", ".hidden",
    "a//b", "ma in", "main~1", "ref^", "a:b", "@", "", "x\ny",
]
HOSTILE_PATHS = [
    "/", "/etc", "/etc/app", "/usr/local/app", "/var", "/root", "/srv/../etc", "relative/path",
    "/srv/app;rm", "/srv/$(id)", "/srv/-x", "/proc/1", "/lib64/x", "/boot", "/srv/a b",
]


@pytest.mark.parametrize("url", HOSTILE_URLS)
def test_it_refuses_hostile_repository_urls(url):
    with pytest.raises(ValidationError):
        v.clean_repository_url(url)


@pytest.mark.parametrize("url", GOOD_URLS)
def test_it_accepts_ordinary_repository_urls(url):
    assert v.clean_repository_url(url) == url


@pytest.mark.parametrize("branch", HOSTILE_BRANCHES)
def test_it_refuses_hostile_branches(branch):
    with pytest.raises(ValidationError):
        v.clean_branch(branch)


def test_it_accepts_ordinary_branches():
    assert v.clean_branch("feature/login-v2.1") == "feature/login-v2.1"


@pytest.mark.parametrize("path", HOSTILE_PATHS)
def test_it_refuses_system_and_hostile_deploy_paths(path):
    with pytest.raises(ValidationError):
        v.clean_deploy_path(path)


def test_it_normalizes_deploy_paths():
    assert v.clean_deploy_path("/srv//shop/") == "/srv/shop"
    assert v.clean_deploy_path("/root/apps/shop") == "/root/apps/shop"
    assert v.clean_deploy_path("/var/www/shop") == "/var/www/shop"


@pytest.mark.parametrize("value", ["/public", "../public", "a/../../b", "-x", "pub lic"])
def test_it_refuses_web_dirs_outside_the_release(value):
    with pytest.raises(ValidationError):
        v.clean_relative_path(value, what="web directory", allow_root=True)


@pytest.mark.parametrize(
    "dirs,files",
    [(["storage", "storage/app"], []), (["storage"], ["storage/x.txt"]), (["a"], ["a"]),
     (["../x"], []), (["/abs"], []), (["."], [])],
)
def test_it_refuses_overlapping_or_escaping_shared_paths(dirs, files):
    with pytest.raises(ValidationError):
        v.clean_shared_paths(dirs, files)


def test_it_normalizes_shared_paths():
    assert v.clean_shared_paths(["storage/", "bootstrap//cache"], [".env"]) == (
        ["storage", "bootstrap/cache"], [".env"],
    )


@pytest.mark.parametrize(
    "name",
    ["LD_PRELOAD", "LD_LIBRARY_PATH", "BASH_ENV", "ENV", "PATH", "IFS", "PS4", "SHELLOPTS",
     "PROMPT_COMMAND", "GIT_SSH_COMMAND", "GIT_DIR", "ld_preload", "1ABC", "A-B", "A B", ""],
)
def test_it_refuses_dangerous_or_invalid_env_names(name):
    with pytest.raises(ValidationError):
        v.clean_environment({name: "x"})


def test_it_refuses_env_values_with_line_breaks():
    with pytest.raises(ValidationError):
        v.clean_environment({"APP_NAME": "shop\nLD_PRELOAD=/tmp/x.so"})


def test_it_parses_env_text():
    assert v.parse_env_text("# c\nAPP_KEY=base64:a=\n\nDB_PASS=p=w d\n") == {
        "APP_KEY": "base64:a=", "DB_PASS": "p=w d",
    }


@pytest.mark.parametrize("argv", [[], ["-x"], ["kill", "-USR2\n1"], [""]])
def test_it_refuses_bad_reload_commands(argv):
    with pytest.raises(ValidationError):
        v.clean_reload_command(argv)


@pytest.mark.parametrize("keep", [0, 51, -1])
def test_it_bounds_releases_to_keep(keep):
    with pytest.raises(ValidationError):
        v.clean_releases_to_keep(keep)


def test_it_refuses_unreadable_known_hosts_lines():
    with pytest.raises(ValidationError):
        v.clean_known_hosts("github.com ssh-ed25519 not-a-key")
