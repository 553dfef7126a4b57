"""Links to a commit on the forge that hosts the repository (GitHub, GitLab, Bitbucket)."""

from __future__ import annotations

import re
from urllib.parse import urlsplit

from deployments.pipeline.git import locate

# host -> how a commit's page is addressed under https://<host>/<owner>/<repo>
COMMIT_PATHS = {
    "github.com": "/commit/{sha}",
    "gitlab.com": "/-/commit/{sha}",
    "bitbucket.org": "/commits/{sha}",
}
_SCP_PATH = re.compile(r"^(?:[^@/]+@)?[^:/]+:(?P<path>.+)$")
_REPO_PATH = re.compile(r"^[A-Za-z0-9_.-]+(/[A-Za-z0-9_.-]+)+$")


def commit_url(repository_url: str, sha: str) -> str:
    """The commit's page on its forge, "" when the repository is not on a known forge."""
    location = locate(repository_url)
    host = location.host.lower()
    if host not in COMMIT_PATHS or not re.fullmatch(r"[0-9a-f]{7,64}", sha):
        return ""
    if "://" in repository_url:
        path = urlsplit(repository_url).path
    else:
        match = _SCP_PATH.match(repository_url)
        path = match["path"] if match else ""
    path = path.strip("/").removesuffix(".git")
    if not _REPO_PATH.match(path) or any(part in (".", "..") for part in path.split("/")):
        return ""
    return f"https://{host}/{path}" + COMMIT_PATHS[host].format(sha=sha)
