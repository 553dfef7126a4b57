"""Real git repositories of the test/demo PHP apps (testbed/apps/<template>/).

`AppRepo.create` copies a template into a work tree, commits it and pushes to a
bare repository, which the test sshd serves as `ssh://user@host:port/abs/path.git`.
Every git call is an argv list with an isolated configuration: no system or
global config is read and none is changed.
"""

from __future__ import annotations

import argparse
import os
import shutil
import subprocess
import sys
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from email.utils import parseaddr
from pathlib import Path

APPS_DIR = Path(__file__).resolve().parent / "apps"
DEFAULT_AUTHOR = "Ada <ada@example.test>"


def template_dir(template: str) -> Path:
    """Directory of an app template (`laravelish`, `demo`); raises if unknown."""
    path = APPS_DIR / template
    if not path.is_dir() or path.parent != APPS_DIR:
        raise ValueError(f"unknown app template {template!r}")
    return path


def copy_template(template: str, destination: Path) -> Path:
    """Copy an app template into `destination` (created; modes such as +x on artisan kept)."""
    shutil.copytree(template_dir(template), destination, dirs_exist_ok=True, symlinks=True)
    return destination


def git_env() -> dict[str, str]:
    """Environment for git: ignore the machine's system and global config, never prompt."""
    env = dict(os.environ)
    env.update(
        GIT_CONFIG_NOSYSTEM="1", GIT_CONFIG_GLOBAL=os.devnull, GIT_TERMINAL_PROMPT="0", LC_ALL="C"
    )
    return env


def git(*args: str, cwd: Path | None = None, author: str = DEFAULT_AUTHOR) -> str:
    """Run `git <args>` with an isolated config and identity; return stripped stdout."""
    name, email = parseaddr(author)
    argv = [
        "git",
        "-c",
        f"user.name={name}",
        "-c",
        f"user.email={email}",
        "-c",
        "init.defaultBranch=main",
        "-c",
        "commit.gpgSign=false",
        *args,
    ]
    result = subprocess.run(
        argv, cwd=cwd, env=git_env(), capture_output=True, text=True, check=False
    )
    if result.returncode != 0:
        raise subprocess.CalledProcessError(result.returncode, argv, result.stdout, result.stderr)
    return result.stdout.strip()


@dataclass
class AppRepo:
    """A bare repository of a test app plus the work tree commits are made from."""

    path: Path
    work_tree: Path
    branch: str = "main"

    @classmethod
    def create(cls, base: Path, template: str = "laravelish", *, branch: str = "main") -> AppRepo:
        """Create `<base>/<template>.git` (bare) holding the template as its first commit."""
        base = Path(base).resolve()
        bare, work = base / f"{template}.git", base / f"{template}-work"
        git("init", "--quiet", "--bare", f"--initial-branch={branch}", str(bare))
        git("init", "--quiet", f"--initial-branch={branch}", str(work))
        git("remote", "add", "origin", str(bare), cwd=work)
        repo = cls(path=bare, work_tree=work, branch=branch)
        copy_template(template, work)
        # The whole work tree, minus what the template's .gitignore excludes (vendor/, ...).
        repo._commit_paths(["."], f"Add the {template} app", force=False)
        return repo

    def commit(
        self, files: Mapping[str, str | bytes | None], message: str, author: str = DEFAULT_AUTHOR
    ) -> str:
        """Write (None deletes) `files` in the work tree, commit, push; return the new sha."""
        for name, content in files.items():
            target = self._inside_work_tree(name)
            if content is None:
                target.unlink(missing_ok=True)
            else:
                target.parent.mkdir(parents=True, exist_ok=True)
                data = content.encode() if isinstance(content, str) else content
                target.write_bytes(data)
        # Forced: a test that names a file (even an ignored one like .env) wants it committed.
        return self._commit_paths(list(files), message, author, force=True)

    def head(self, branch: str | None = None) -> str:
        """The sha the bare repository's `branch` (default: self.branch) points at."""
        return git("rev-parse", f"refs/heads/{branch or self.branch}", cwd=self.path)

    def ssh_url(self, user: str, host: str, port: int) -> str:
        """URL to clone this repository through an sshd on the same machine."""
        return f"ssh://{user}@{host}:{port}{self.path}"

    def _commit_paths(
        self, paths: Sequence[str], message: str, author: str = DEFAULT_AUTHOR, *, force: bool
    ) -> str:
        # --all per named path stages deletions too, and nothing outside `paths`.
        flags = ["--all", "--force"] if force else ["--all"]
        git("add", *flags, "--", *paths, cwd=self.work_tree)
        git(
            "commit",
            "--quiet",
            "--allow-empty",
            "-m",
            message,
            f"--author={author}",
            cwd=self.work_tree,
            author=author,
        )
        git("push", "--quiet", "origin", f"HEAD:refs/heads/{self.branch}", cwd=self.work_tree)
        return git("rev-parse", "HEAD", cwd=self.work_tree)

    def _inside_work_tree(self, name: str) -> Path:
        target = (self.work_tree / name).resolve()
        if self.work_tree.resolve() not in target.parents:
            raise ValueError(f"{name!r} is outside the work tree")
        return target


def main(argv: Sequence[str] | None = None) -> int:
    """`python -m testbed.gitrepo create --dir D [--template demo]`: print the bare repo's path."""
    parser = argparse.ArgumentParser(prog="python -m testbed.gitrepo")
    commands = parser.add_subparsers(dest="command", required=True)
    create = commands.add_parser("create", help="create a bare repository of an app template")
    create.add_argument("--dir", required=True, type=Path)
    create.add_argument("--template", default="demo", choices=["demo", "laravelish"])
    create.add_argument("--branch", default="main")
    args = parser.parse_args(argv)
    repo = AppRepo.create(args.dir, args.template, branch=args.branch)
    print(repo.path)
    return 0


if __name__ == "__main__":
    sys.exit(main())
