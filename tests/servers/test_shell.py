from __future__ import annotations

import shlex
import subprocess

import pytest
from hypothesis import given
from hypothesis import strategies as st

from servers.shell import command_line, join

# Shell arguments can hold any text except NUL.
shell_text = st.text(st.characters(blacklist_characters="\0", blacklist_categories=("Cs",)))


@given(st.lists(shell_text, min_size=1))
def test_it_round_trips_arbitrary_text_through_shlex(argv):
    assert shlex.split(join(argv)) == argv


@pytest.mark.parametrize("bad", [["ls", 1], ["ls", b"x"], ["a\0b"], [], "ls"])
def test_it_refuses_non_text_nul_and_empty_argv(bad):
    with pytest.raises(ValueError):
        join(bad)


def test_it_renders_cwd_and_env_in_front_of_the_command():
    text = command_line(["git", "fetch"], cwd="/srv/x y", env={"A": "1", "B": "2 3"})
    assert text == "cd -- '/srv/x y' && env -- A=1 'B=2 3' git fetch"


@pytest.mark.parametrize("name", ["1A", "A-B", "A B", "", "A=B", "$(id)"])
def test_it_refuses_invalid_env_names(name):
    with pytest.raises(ValueError):
        command_line(["true"], env={name: "x"})


def test_it_refuses_nul_in_env_values():
    with pytest.raises(ValueError):
        command_line(["true"], env={"A": "x\0y"})


def test_it_passes_hostile_values_literally_to_a_real_shell(tmp_path):
    hostile = "$(id) `id` 'q\" ; echo pwned\nline2 \\ *"
    text = command_line(
        ["printf", "%s|%s|%s", hostile, "$HOSTILE", "x"],
        cwd=str(tmp_path),
        env={"HOSTILE": hostile},
    )
    out = subprocess.run(["sh", "-c", text], capture_output=True, text=True, check=True).stdout
    assert out == f"{hostile}|$HOSTILE|x"


def test_it_stops_when_cwd_does_not_exist(tmp_path):
    text = command_line(["touch", str(tmp_path / "marker")], cwd=str(tmp_path / "missing"))
    result = subprocess.run(["sh", "-c", text], capture_output=True)
    assert result.returncode != 0
    assert not (tmp_path / "marker").exists()


def test_it_keeps_private_keys_out_of_the_ssh_target_repr():
    from servers.ssh import SSHTarget

    target = SSHTarget(host="h", port=22, username="u", client_keys=("-----BEGIN CANARY-----",))
    assert "CANARY" not in repr(target)
