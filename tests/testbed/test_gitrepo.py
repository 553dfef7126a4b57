"""AppRepo makes real commits in a bare repository that git clients can see."""

from __future__ import annotations

import subprocess

from testbed.gitrepo import AppRepo, git, main


def _ls_remote(repo: AppRepo) -> str:
    return git("ls-remote", str(repo.path))


def test_it_starts_with_the_template_on_main(app_repo):
    files = git("ls-tree", "-r", "--name-only", app_repo.head(), cwd=app_repo.path).split()

    assert app_repo.branch == "main"
    assert {"artisan", "composer.lock", "public/index.php", "VERSION"} <= set(files)
    assert f"{app_repo.head()}\trefs/heads/main" in _ls_remote(app_repo)


def test_it_commits_and_pushes_so_ls_remote_sees_it(app_repo):
    before = app_repo.head()

    sha = app_repo.commit({"VERSION": "2.0.0\n"}, "Release 2.0.0")

    assert sha != before and app_repo.head() == sha
    assert f"{sha}\trefs/heads/main" in _ls_remote(app_repo)
    assert git("show", f"{sha}:VERSION", cwd=app_repo.path) == "2.0.0"


def test_it_deletes_files_given_none(app_repo):
    sha = app_repo.commit({"public/slow.php": None}, "Drop the slow page")

    files = git("ls-tree", "-r", "--name-only", sha, cwd=app_repo.path).split()

    assert "public/slow.php" not in files and "public/index.php" in files


def test_it_records_the_author(app_repo):
    sha = app_repo.commit({"NOTES": b"hi\n"}, "Add notes", author="Grace <grace@example.test>")

    assert git("log", "-1", "--format=%an <%ae>", sha, cwd=app_repo.path) == (
        "Grace <grace@example.test>"
    )


def test_it_keeps_artisan_executable(app_repo):
    entry = git("ls-tree", app_repo.head(), "artisan", cwd=app_repo.path)

    assert entry.startswith("100755 ")


def test_it_archives_the_exact_commit(app_repo, tmp_path):
    sha = app_repo.commit({"VERSION": "3.0.0\n"}, "Release 3.0.0")
    archive = subprocess.run(["git", "archive", sha], cwd=app_repo.path, capture_output=True)
    (tmp_path / "out").mkdir()
    subprocess.run(["tar", "-x"], input=archive.stdout, cwd=tmp_path / "out", check=True)

    assert (tmp_path / "out/VERSION").read_text() == "3.0.0\n"


def test_it_uses_a_branch_of_your_choice(tmp_path):
    repo = AppRepo.create(tmp_path, "demo", branch="production")

    assert f"{repo.head()}\trefs/heads/production" in _ls_remote(repo)
    assert repo.ssh_url("root", "127.0.0.1", 2222) == f"ssh://root@127.0.0.1:2222{repo.path}"


def test_it_creates_a_repo_from_the_command_line(tmp_path, capsys):
    assert main(["create", "--dir", str(tmp_path), "--template", "demo"]) == 0

    path = capsys.readouterr().out.strip()

    assert path == str(tmp_path.resolve() / "demo.git")
    assert "refs/heads/main" in git("ls-remote", path)
