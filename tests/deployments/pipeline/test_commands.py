"""Golden tests: each builder emits exactly these argv lists."""

from __future__ import annotations

import pytest

from deployments.pipeline import commands
from deployments.pipeline.actions import Command, Upload
from deployments.pipeline.facts import ServerFacts
from tests.deployments.pipeline.contexts import SHA, make_ctx

R = "/srv/app/releases/20260102030405"


def argvs(actions: list) -> list[tuple[str, ...]]:
    return [action.argv for action in actions]


def test_it_activates_with_ln_s_then_mv_t_never_ln_sfn():
    switch = commands.activate(make_ctx())

    assert switch.argv == (
        "sh", "-c", commands.SWITCH_SCRIPT, "sh",
        "/srv/app/current", "/srv/app/current.tmp.42", "releases/20260102030405",
    )  # fmt: skip
    assert 'ln -s -T -- "$target" "$temp" && mv -T -f -- "$temp" "$current"' in switch.argv[2]
    assert "-sfn" not in switch.argv[2]


def test_it_restores_the_previous_target_or_removes_a_first_current():
    restored = commands.restore_current(make_ctx(), "releases/20250101000000")
    removed = commands.restore_current(make_ctx(), None)

    assert restored.argv[-1] == "releases/20250101000000"
    assert removed.argv == ("rm", "-f", "--", "/srv/app/current")


def test_it_says_why_the_release_was_not_created():
    existing = ServerFacts(releases=("20260102030405",))

    assert "20260102030405 already exists" in commands.not_created(make_ctx(), existing)
    assert commands.not_created(make_ctx(), ServerFacts()) == f"could not create {R}"


def test_it_refuses_a_real_current_directory_and_a_full_disk():
    ctx = make_ctx(min_free_mb=200)

    assert "real directory" in commands.prepare_refusal(ctx, ServerFacts(current_is_directory=True))
    assert "199 MB free" in commands.prepare_refusal(ctx, ServerFacts(free_kb=199 * 1024))
    assert (
        commands.prepare_refusal(ctx, ServerFacts(current_target="releases/x", free_kb=10**9)) == ""
    )


def test_it_links_every_shared_path_in_one_command_dirs_first():
    ctx = make_ctx(shared_dirs=("storage/app",), shared_files=(".env",))

    [link] = commands.link_shared(ctx)

    assert link.argv == (
        "sh", "-c", commands.LINK_SHARED, "sh",
        R, "/srv/app/shared", "d", "storage/app", "f", ".env",
    )  # fmt: skip
    assert commands.link_shared(make_ctx(shared_dirs=(), shared_files=())) == []


def test_it_never_links_the_env_file_of_a_site_with_an_environment():
    ctx = make_ctx(shared_dirs=(), shared_files=(".env", "auth.json"), env_file="A=1\n")

    [link] = commands.link_shared(ctx)

    assert link.argv[-2:] == ("f", "auth.json")


@pytest.mark.parametrize("path", ["../etc", "/etc", "a/../../b", "", ".", ".."])
def test_it_refuses_shared_paths_outside_the_release(path):
    with pytest.raises(ValueError, match="inside the release"):
        commands.link_shared(make_ctx(shared_dirs=(path,)))


def test_it_uploads_the_env_file_into_the_release_byte_exact_0600_under_the_lock():
    env = "A=1\nB='x y'\r\nC=ü=\n"

    assert commands.write_env(make_ctx(env_file=env)) == [
        Upload(f"{R}/.env", env.encode(), 0o600, fence="check")
    ]
    assert commands.write_env(make_ctx()) == []


def test_it_installs_with_composer_reusing_vendor_when_the_lock_is_identical():
    reuse, install = commands.install(make_ctx(), "20250101000000")

    assert reuse.argv == (
        "sh", "-c", commands.REUSE_SCRIPT, "sh",
        "/srv/app/releases/20250101000000/vendor", f"{R}/vendor", "autoload.php", "composer",
    )  # fmt: skip
    assert (
        "cmp",
        "-s",
        "--",
        "/srv/app/releases/20250101000000/composer.lock",
        f"{R}/composer.lock",
    ) in reuse.when
    assert install == Command(
        ("composer", "install", "--no-dev", "--optimize-autoloader", "--no-interaction"),
        cwd=R,
        env={"COMPOSER_ROOT_VERSION": "1.0.0+no-version-set"},
        when=(("test", "-f", f"{R}/composer.json"),),
    )


def test_it_runs_laravel_migrations_and_caches_only_for_laravel():
    assert argvs(commands.migrate(make_ctx())) == [("php", "artisan", "migrate", "--force")]
    assert argvs(commands.optimize(make_ctx()))[-1] == ("php", "artisan", "event:cache")
    assert (
        commands.migrate(make_ctx(run_migrations=False))
        == commands.optimize(make_ctx(preset="php"))
        == []
    )


def test_it_builds_assets_then_each_build_command_as_one_bash_argument():
    built = commands.build_assets(make_ctx(build_commands=("make css; echo $(id)",)), None, True)

    assert argvs(built) == [
        ("npm", "ci", "--no-audit", "--no-fund"),
        ("npm", "run", "build"),
        ("bash", "-eo", "pipefail", "-c", "make css; echo $(id)"),
    ]
    assert built[0].when == (("test", "!", "-e", f"{R}/node_modules"),)


def test_it_detects_a_build_script_in_package_json():
    assert commands.has_build_script(b'{"scripts": {"build": "vite build"}}')
    assert not commands.has_build_script(b'{"scripts": {"dev": "vite"}}')
    assert not commands.has_build_script(b"not json")


def test_it_runs_the_deploy_script_in_the_release_with_its_environment():
    [script] = commands.custom_script(make_ctx(deploy_script="echo $COMMIT", branch="b"), SHA)

    assert script.argv == ("bash", "-eo", "pipefail", "-c", "echo $COMMIT")
    assert script.cwd == R
    assert dict(script.env) == {
        "RELEASE_PATH": R, "RELEASE": "20260102030405", "COMMIT": SHA, "BRANCH": "b",
        "DEPLOY_PATH": "/srv/app", "SHARED_PATH": "/srv/app/shared",
    }  # fmt: skip


def test_it_reloads_by_method():
    fpm = make_ctx(reload_command=("kill", "-USR2", "1"))

    assert argvs(commands.reload(fpm)) == [("kill", "-USR2", "1")]
    assert argvs(commands.reload(make_ctx(reload_method="octane"))) == [
        ("php", "artisan", "octane:reload")
    ]
    assert commands.reload(make_ctx(reload_method="none")) == []


def test_it_restarts_queue_workers_for_laravel():
    assert argvs(commands.restart_workers(make_ctx())) == [("php", "artisan", "queue:restart")]


def test_it_checks_the_rollback_target_exists():
    check = commands.check_release(make_ctx())

    assert check.argv[4:] == (R, "/srv/app/current")
    assert "20260102030405 does not exist" in check.fail_message


def test_it_discards_the_release_temp_link_and_temp_files_in_one_rm():
    discard = commands.discard_release(make_ctx(), ("/srv/app/.deploynix/git.x",))
    not_ours = commands.discard_release(make_ctx(), (), release=False)

    assert discard.argv == (
        "rm", "-rf", "--", "/srv/app/current.tmp.42", R, "/srv/app/.deploynix/git.x",
    )  # fmt: skip
    assert not_ours.argv == ("rm", "-rf", "--", "/srv/app/current.tmp.42")
