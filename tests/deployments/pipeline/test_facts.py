"""The one-command probe of a server's site layout, run by a real shell on a real directory."""

from __future__ import annotations

import subprocess

from deployments.pipeline import facts
from deployments.pipeline.facts import ServerFacts
from tests.deployments.pipeline.contexts import make_ctx

OLD = "20250101000000"


def probe_lines(deploy_path, **overrides) -> list[str]:
    argv = facts.probe(make_ctx(deploy_path=str(deploy_path), **overrides)).argv
    return subprocess.run(argv, capture_output=True, text=True, check=True).stdout.splitlines()


def probe(deploy_path) -> ServerFacts:
    return facts.parse_probe(probe_lines(deploy_path))


def test_it_creates_the_private_layout_and_reports_a_fresh_site(tmp_path):
    found = probe(tmp_path / "site")

    assert found == ServerFacts(free_kb=found.free_kb, created_releases=("20260102030405",))
    assert found.free_kb > 0
    assert (tmp_path / "site/.deploynix").stat().st_mode & 0o777 == 0o700
    assert (tmp_path / "site/releases").is_dir() and (tmp_path / "site/shared").is_dir()


def test_it_reports_current_mirror_releases_and_the_log_without_final_newline(tmp_path):
    for directory in (f"releases/{OLD}", "releases/not-a-release", "repo", ".deploynix"):
        (tmp_path / directory).mkdir(parents=True)
    (tmp_path / "current").symlink_to(f"releases/{OLD}")
    (tmp_path / "repo/HEAD").write_text("ref: refs/heads/main\n")
    (tmp_path / ".deploynix/releases.log").write_text(f'junk\n{{"release": "{OLD}"}}')

    found = probe(tmp_path)

    assert (found.current_release, found.has_mirror) == (OLD, True)
    assert (found.releases, found.logged_releases) == ((OLD,), (OLD,))


def test_it_reports_a_real_current_directory_and_no_log(tmp_path):
    (tmp_path / "current").mkdir()

    found = probe(tmp_path)

    assert (found.current_is_directory, found.current_target) == (True, None)
    assert found.logged_releases is None


def test_it_creates_the_release_only_where_prepare_would_allow_it(tmp_path):
    release = "20260102030405"  # make_ctx's
    (tmp_path / "dir/current").mkdir(parents=True)

    fine = facts.created(probe_lines(tmp_path / "fine"))
    full = facts.created(probe_lines(tmp_path / "full", min_free_mb=10**12))
    real_current = facts.created(probe_lines(tmp_path / "dir"))

    assert (fine, full, real_current) == (True, False, False)
    assert (tmp_path / "fine/releases" / release).is_dir()
    assert not (tmp_path / "full/releases" / release).exists()
