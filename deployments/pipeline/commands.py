"""Pure builders: context (+ server facts) in, argv commands or uploads out.

No I/O here. Each builder is small enough to read at a glance and is pinned by a
golden test (tests/deployments/pipeline/test_commands.py). A user script is one argv element
(`bash -eo pipefail -c SCRIPT`); quoting happens only in servers.shell.
Git builders live in deployments.pipeline.git.
"""

from __future__ import annotations

import json
import posixpath
from dataclasses import replace

from deployments.pipeline.actions import Argv, Command, Upload
from deployments.pipeline.context import RELEASE_NAME, DeployContext, Hook, Paths
from deployments.pipeline.facts import ServerFacts
from deployments.pipeline.lock import ACQUIRE, CHECK
from deployments.pipeline.scripts import script

COMPOSER_INSTALL: Argv = (
    "composer",
    "install",
    "--no-dev",
    "--optimize-autoloader",
    "--no-interaction",
)
# The root package's version when composer.json names none, as composer would guess it in a
# release (extracted from git, so no VCS to ask). Given, composer skips the guess, which runs
# git, hg, fossil and svn (seven processes, about 0.1 s) on every install.
COMPOSER_ENV = {"COMPOSER_ROOT_VERSION": "1.0.0+no-version-set"}
# The environment file each release gets (write_env); never linked from shared/ when the site
# has an environment, whatever its shared files say (sites from before per-release .env list it).
ENV_FILE = ".env"
LARAVEL_CACHES = ("config:cache", "route:cache", "view:cache", "event:cache")

# The shell of these builders: deployments/pipeline/scripts/*.sh.
SWITCH_SCRIPT = script("switch.sh")
LINK_SHARED = script("link_shared.sh")
CHECK_RELEASE_SCRIPT = script("check_release.sh")
RECORD_AND_PRUNE = script("record_and_prune.sh")
REUSE_SCRIPT = script("reuse.sh")
# What composer rewrites in place in a reused vendor/ (its autoloader: the app's own classes
# change with every release), so these get real copies instead of hard links (reuse.sh).
COMPOSER_OWN = ("autoload.php", "composer")
# Build tools' caches inside node_modules (babel/webpack/eslint's .cache, Vite's .vite) may be
# rewritten in place by the build itself: real copies too.
NODE_OWN = (".cache", ".vite")


def prepare_refusal(ctx: DeployContext, facts: ServerFacts) -> str:
    """Why this server must not be deployed to ("" when it may)."""
    paths = Paths.of(ctx)
    if facts.current_is_directory and facts.current_target is None:
        return f"{paths.current} is a real directory, not a symlink: move it away first"
    if facts.free_kb is not None and facts.free_kb < ctx.min_free_mb * 1024:
        return (
            f"only {facts.free_kb // 1024} MB free under {paths.deploy}, "
            f"{ctx.min_free_mb} MB required"
        )
    return ""


def not_created(ctx: DeployContext, facts: ServerFacts) -> str:
    """Why the probe did not create the release although prepare_refusal allowed it."""
    if ctx.release in facts.releases:
        return f"release {ctx.release} already exists on this server"
    return f"could not create {Paths.of(ctx).release}"


def shared_path(relative: str) -> str:
    """Validate a shared path: relative, normalised, inside the release (ValueError if not)."""
    normal = posixpath.normpath(relative) if relative else ""
    if not normal or normal in (".", "..") or normal.startswith(("/", "../")):
        raise ValueError(f"shared path {relative!r} must stay inside the release")
    return normal


def link_shared(ctx: DeployContext) -> list[Command]:
    """Every shared directory, then every shared file, linked in ONE command (LINK_SHARED).

    Each path is validated here (shared_path) and passed as a positional parameter. `.env` is
    skipped when the site has an environment: write_env puts the release's own file there.
    """
    paths = Paths.of(ctx)
    pairs: list[str] = []
    for path in ctx.shared_dirs:
        pairs += ["d", shared_path(path)]
    for path in ctx.shared_files:
        if not (ctx.env_file is not None and shared_path(path) == ENV_FILE):
            pairs += ["f", shared_path(path)]
    if not pairs:
        return []
    shown = " ".join(pairs[1::2])
    argv = ("sh", "-c", LINK_SHARED, "sh", paths.release, paths.shared, *pairs)
    return [Command(argv, label=f"link shared paths into the release: {shown}", fence=CHECK)]


def write_env(ctx: DeployContext) -> list[Upload]:
    """The release's own .env, byte-exact and 0600, when the site has an environment.

    Never shared/.env: the live release must not see a new environment before it is switched
    away from, and a rollback target keeps the environment it ran with (its own file).
    """
    if ctx.env_file is None:
        return []
    env_path = posixpath.join(Paths.of(ctx).release, ENV_FILE)
    # On the command's stdin rather than SFTP, so the lock is checked in the same command.
    return [Upload(env_path, ctx.env_file.encode(), 0o600, fence=CHECK)]


def install(ctx: DeployContext, previous: str | None) -> list[Command]:
    """Composer install, reusing the previous release's vendor/ when composer.lock is identical."""
    release = Paths.of(ctx).release
    has_composer = ("test", "-f", posixpath.join(release, "composer.json"))
    reuse = _reuse_from_previous(ctx, previous, "vendor", "composer.lock", COMPOSER_OWN)
    return [*reuse, Command(COMPOSER_INSTALL, cwd=release, env=COMPOSER_ENV, when=(has_composer,))]


# The deploy log's warning (the site page finds the last one by this prefix).
MISSING_EXTENSIONS = "warning: composer.json requires PHP extensions this server lacks: "


MISSING_EXTENSIONS_PHP = script("missing_extensions.php").removeprefix("<?php\n")


def missing_extensions_check(composer_json: str) -> Argv:
    """`php -r SCRIPT composer.json`: prints the required `ext-*` names this PHP lacks."""
    return ("php", "-r", MISSING_EXTENSIONS_PHP, composer_json)


def migrate(ctx: DeployContext) -> list[Command]:
    """`php artisan migrate --force` for Laravel sites that run migrations."""
    if not (ctx.is_laravel and ctx.run_migrations):
        return []
    return [Command(("php", "artisan", "migrate", "--force"), cwd=Paths.of(ctx).release)]


def has_build_script(package_json: str | bytes) -> bool:
    """Whether package.json declares a `build` script (unparseable JSON: no)."""
    try:
        scripts = json.loads(package_json).get("scripts") or {}
    except (ValueError, AttributeError):
        return False
    return isinstance(scripts, dict) and isinstance(scripts.get("build"), str)


def build_assets(ctx: DeployContext, previous: str | None, has_build: bool) -> list[Command]:
    """npm ci (unless node_modules was reused) + npm run build, then ctx.build_commands."""
    release = Paths.of(ctx).release
    commands = []
    if has_build:
        no_modules = ("test", "!", "-e", posixpath.join(release, "node_modules"))
        commands += _reuse_from_previous(
            ctx, previous, "node_modules", "package-lock.json", NODE_OWN
        )
        commands.append(
            Command(("npm", "ci", "--no-audit", "--no-fund"), cwd=release, when=(no_modules,))
        )
        commands.append(Command(("npm", "run", "build"), cwd=release))
    commands += [Command(_bash(snippet), cwd=release) for snippet in ctx.build_commands]
    return commands


def optimize(ctx: DeployContext) -> list[Command]:
    """Laravel's config/route/view/event caches, built inside the new release."""
    if not ctx.is_laravel:
        return []
    return [_artisan(ctx, name) for name in LARAVEL_CACHES]


def custom_script(ctx: DeployContext, sha: str) -> list[Command]:
    """The site's deploy script, run in the release with facts about it in the environment."""
    if not ctx.deploy_script.strip():
        return []
    paths = Paths.of(ctx)
    env = {
        "RELEASE_PATH": paths.release, "RELEASE": ctx.release, "COMMIT": sha,
        "BRANCH": ctx.branch, "DEPLOY_PATH": paths.deploy, "SHARED_PATH": paths.shared,
    }  # fmt: skip
    return [Command(_bash(ctx.deploy_script), cwd=paths.release, env=env)]


def hook(ctx: DeployContext, hook: Hook, sha: str, *, in_release: bool = True) -> Command:
    """A hook script, like the deploy script: in the release (on_failure: in the deploy path,
    the release may be half-built or gone) with HOOK naming its point."""
    paths = Paths.of(ctx)
    env = {
        "HOOK": hook.point, "RELEASE_PATH": paths.release, "RELEASE": ctx.release,
        "COMMIT": sha, "BRANCH": ctx.branch, "DEPLOY_PATH": paths.deploy,
        "SHARED_PATH": paths.shared,
    }  # fmt: skip
    cwd = paths.release if in_release else paths.deploy
    return Command(_bash(hook.script), cwd=cwd, env=env)


def activate(ctx: DeployContext) -> Command:
    """Print where `current` points, then point it at the release atomically (rename(2)).

    Never `ln -sfn current`: that unlinks then creates, and requests in between get 404s.
    """
    paths = Paths.of(ctx)
    return _switch(paths, posixpath.join("releases", ctx.release))


def restore_current(ctx: DeployContext, previous_target: str | None) -> Command:
    """Undo activate: re-point `current` at what it pointed to before (or remove it if new)."""
    paths = Paths.of(ctx)
    if previous_target is None:
        # never -r: a real directory is not ours
        return Command(("rm", "-f", "--", paths.current), fence=CHECK, retry=True)
    return _switch(paths, previous_target)


def reload(ctx: DeployContext) -> list[Command]:
    """Make PHP pick up the new code: the site's reload command, octane:reload, or nothing."""
    if ctx.reload_method == "php-fpm":
        return [Command(tuple(ctx.reload_command), retry=True, as_server_user=True)]
    if ctx.reload_method == "octane":
        return [replace(_artisan(ctx, "octane:reload"), retry=True)]
    return []


def restart_workers(ctx: DeployContext) -> list[Command]:
    """Tell Laravel queue workers to restart after their current job."""
    return [replace(_artisan(ctx, "queue:restart"), retry=True)] if ctx.is_laravel else []


def check_release(ctx: DeployContext) -> Command:
    """Rollback: refuse a missing target; print "revision <sha>" and "current <target>"."""
    paths = Paths.of(ctx)
    message = f"release {ctx.release} does not exist on this server ({paths.release})"
    argv = ("sh", "-c", CHECK_RELEASE_SCRIPT, "sh", paths.release, paths.current)
    return Command(argv, fail_message=message, label=f"test -d {paths.release}",
                   fence=ACQUIRE, retry=True)


def releases_to_remove(ctx: DeployContext, facts: ServerFacts) -> list[str]:
    """Old releases beyond `releases_to_keep`, plus unlogged (failed) leftovers.

    Kept always: the live release (ctx.release), the previous one, anything not named like a
    release, and anything Deploynix did not create here (neither in .deploynix/created nor in
    releases.log): a directory someone else put in releases/ is not ours to delete. Without a
    releases.log every directory counts as good.
    """
    names = set(facts.releases) | {ctx.release}
    logged = set(names if facts.logged_releases is None else facts.logged_releases)
    ours = set(facts.created_releases) | set(facts.logged_releases or ()) | {ctx.release}
    good = sorted((names & logged) | {ctx.release}, reverse=True)
    keep = set(good[: max(ctx.releases_to_keep, 1)]) | {ctx.release}
    keep |= {facts.current_release} if facts.current_release else set()
    return sorted(name for name in (names & ours) - keep if RELEASE_NAME.match(name))


def cleanup(ctx: DeployContext, facts: ServerFacts, sha: str) -> Command:
    """Log the release as successful (JSON line), then remove what releases_to_remove picked.

    One command: the removal runs only once the release is logged.
    """
    paths = Paths.of(ctx)
    entry = json.dumps({"release": ctx.release, "commit": sha, "deployment": ctx.deployment_id})
    doomed = tuple(paths.release_dir(name) for name in releases_to_remove(ctx, facts))
    argv = ("sh", "-c", RECORD_AND_PRUNE, "sh", entry, paths.releases_log, *doomed)
    names = " ".join(posixpath.basename(path) for path in doomed) or "none"
    return Command(argv, label=f"log release {ctx.release} as good; remove old releases: {names}",
                   fence=CHECK, retry=True)


def discard_release(
    ctx: DeployContext, temp_dirs: tuple[str, ...] = (), *, release: bool = True
) -> Command:
    """After a failure: remove the half-built release (if ours), the temp symlink, temp files.

    `rm -rf` on the temp symlink removes the link itself, never what it points to.
    """
    paths = Paths.of(ctx)
    doomed = (paths.temp_link,) + ((paths.release,) if release else ()) + tuple(temp_dirs)
    return Command(("rm", "-rf", "--", *doomed), fence=CHECK, retry=True)


def _switch(paths: Paths, target: str) -> Command:
    argv = ("sh", "-c", SWITCH_SCRIPT, "sh", paths.current, paths.temp_link, target)
    shown = f"ln -s -T {target} {paths.temp_link} && mv -T {paths.temp_link} {paths.current}"
    return Command(argv, label=shown, fence=CHECK, retry=True)


def _reuse_from_previous(
    ctx: DeployContext, previous: str | None, directory: str, lock: str, own: tuple[str, ...]
) -> list[Command]:
    """Reuse previous/<directory> in the release when both have a byte-identical <lock>: hard
    links, with real copies of the `own` paths the installer rewrites in place (reuse.sh)."""
    if previous is None:
        return []
    old, new = Paths.of(ctx).release_dir(previous), Paths.of(ctx).release
    source, target = posixpath.join(old, directory), posixpath.join(new, directory)
    same_lock = ("cmp", "-s", "--", posixpath.join(old, lock), posixpath.join(new, lock))
    when = (("test", "-d", source), _not_link(source), same_lock, ("test", "!", "-e", target))
    argv = ("sh", "-c", REUSE_SCRIPT, "sh", source, target, *own)
    label = f"reuse {source} as hard links in {target} ({lock} unchanged)"
    return [Command(argv, when=when, label=label)]


def _not_link(path: str) -> Argv:
    return ("test", "!", "-L", path)


def _artisan(ctx: DeployContext, command: str) -> Command:
    return Command(("php", "artisan", command), cwd=Paths.of(ctx).release)


def _bash(script: str) -> Argv:
    return ("bash", "-eo", "pipefail", "-c", script)
