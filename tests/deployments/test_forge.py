"""Links to a commit's page on GitHub, GitLab and Bitbucket (pure)."""

from __future__ import annotations

import pytest

from deployments.forge import commit_url

SHA = "1a2b3c4d" * 5


@pytest.mark.parametrize("url,expected", [
    ("git@github.com:acme/shop.git", f"https://github.com/acme/shop/commit/{SHA}"),
    ("https://github.com/acme/shop", f"https://github.com/acme/shop/commit/{SHA}"),
    ("ssh://git@gitlab.com/group/sub/shop.git", f"https://gitlab.com/group/sub/shop/-/commit/{SHA}"),
    ("git@bitbucket.org:acme/shop.git", f"https://bitbucket.org/acme/shop/commits/{SHA}"),
    ("ssh://git@git.example.com/acme/shop.git", ""),
    ("https://github.com/acme/shop/../../evil", ""),
])
def test_it_links_commits_on_known_forges_only(url, expected):
    assert commit_url(url, SHA) == expected
