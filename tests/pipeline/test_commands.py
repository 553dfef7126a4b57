"""Golden tests: each builder emits exactly these argv lists."""

from __future__ import annotations

import pytest

from deployments.pipeline import commands
from deployments.pipeline.actions import Command, Upload
from deployments.pipeline.facts import ServerFacts
from tests.pipeline.contexts import SHA, make_ctx

R = "/srv/app/releases/20260102030405"


def argvs(actions: list) -> list[tuple[str, ...]]:
    return [action.argv for action in actions]


def test_it_activates_with_ln_s_then_mv_t_never_ln_sfn():
    assert argvs(commands.activate(make_ctx())) == [
        ("rm", "-f", "--", "/srv/app/current.tmp.42"),
        ("ln", "-s", "-T", "--", "releases/20260102030405", "/srv/app/current.tmp.42"),
        ("mv", "-T", "-f", "--", "/srv/app/current.tmp.42", "/srv/app/current"),
    ]


def test_it_restores_the_previous_target_or_removes_a_first_current():
    restored = commands.restore_current(make_ctx(), "releases/20250101000000")
    removed = commands.restore_current(make_ctx(), None)

    assert restored[1].argv[4] == "releases/20250101000000"
    assert argvs(removed) == [("rm", "-f", "--", "/srv/app/current")]


def test_it_prepares_directories_and_refuses_an_existing_release():
    prepared = commands.prepare_dirs(make_ctx())
    [create] = commands.create_release(make_ctx())

    assert prepared[0].argv == (
        "mkdir", "-p", "--", "/srv/app/releases", "/srv/app/shared", "/srv/app/.deploynix",
    )  # fmt: skip
    assert create.argv == ("mkdir", "--", R)
    assert "already exists" in create.fail_message


def test_it_refuses_a_real_current_directory_and_a_full_disk():
    ctx = make_ctx(min_free_mb=200)

    assert "real directory" in commands.prepare_refusal(ctx, ServerFacts(current_is_directory=True))
    assert "199 MB free" in commands.prepare_refusal(ctx, ServerFacts(free_kb=199 * 1024))
    assert (
        commands.prepare_refusal(ctx, ServerFacts(current_target="releases/x", free_kb=10**9)) == ""
    )


def test_it_links_a_shared_dir_without_following_committed_symlinks():
    link = commands.link_shared_path(make_ctx(), "storage/app", is_dir=True)

    assert link[0] == Command(
        ("test", "!", "-L", f"{R}/storage"), fail_message=link[0].fail_message
    )
    assert argvs(link)[-3:] == [
        ("rm", "-rf", "--", f"{R}/storage/app"),
        ("mkdir", "-p", "--", f"{R}/storage"),
        ("ln", "-s", "--", "/srv/app/shared/storage/app", f"{R}/storage/app"),
    ]


def test_it_seeds_shared_files_only_when_missing():
    link = commands.link_shared_path(make_ctx(), ".env", is_dir=False)
    [touch] = [c for c in link if c.argv[0] == "touch"]

    assert touch.argv == ("touch", "--", "/srv/app/shared/.env")
    assert touch.when == (("test", "!", "-e", "/srv/app/shared/.env"),)


@pytest.mark.parametrize("path", ["../etc", "/etc", "a/../../b", "", ".", ".."])
def test_it_refuses_shared_paths_outside_the_release(path):
    with pytest.raises(ValueError, match="inside the release"):
        commands.link_shared_path(make_ctx(), path, is_dir=True)


def test_it_uploads_the_env_file_byte_exact_0600():
    env = "A=1\nB='x y'\r\nC=ü=\n"

    assert commands.write_env(make_ctx(env_file=env)) == [
        Upload("/srv/app/shared/.env", env.encode(), 0o600)
    ]
    assert commands.write_env(make_ctx()) == []


def test_it_installs_with_composer_reusing_vendor_when_the_lock_is_identical():
    reuse, install = commands.install(make_ctx(), "20250101000000")

    assert reuse.argv == (
        "cp",
        "-a",
        "--",
        "/srv/app/releases/20250101000000/vendor",
        f"{R}/vendor",
    )
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
    [check] = commands.check_release(make_ctx())

    assert check.argv == ("test", "-d", R)
    assert "20260102030405 does not exist" in check.fail_message


def test_it_discards_the_release_temp_link_and_temp_files():
    discard = commands.discard_release(make_ctx(), ("/srv/app/.deploynix/git.x",))
    not_ours = commands.discard_release(make_ctx(), (), release=False)

    assert argvs(discard) == [
        ("rm", "-f", "--", "/srv/app/current.tmp.42"),
        ("rm", "-rf", "--", R, "/srv/app/.deploynix/git.x"),
    ]
    assert argvs(not_ours) == [("rm", "-f", "--", "/srv/app/current.tmp.42")]


def test_it_records_successful_releases_as_json_lines():
    [record] = commands.record_release(make_ctx(), SHA)

    assert record.argv[:3] == ("sh", "-c", 'printf "%s\\n" "$1" >> "$2"')
    assert record.argv[4:] == (
        f'{{"release": "20260102030405", "commit": "{SHA}", "deployment": 42}}',
        "/srv/app/.deploynix/releases.log",
    )
