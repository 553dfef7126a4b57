"""The release diff's pure parsers: destructive migrations, lock files, areas (no I/O)."""

from __future__ import annotations

import json

import pytest

from deployments.pipeline import release_diff as rd

UP_DOWN = """<?php
return new class extends Migration {
    public function up(): void
    {
        %s
    }

    public function down(): void
    {
        Schema::dropIfExists('posts');
    }
};
"""


@pytest.mark.parametrize("body,expected", [
    ("Schema::create('posts', function (Blueprint $t) { $t->id(); });", []),
    ("Schema::table('posts', fn ($t) => $t->dropColumn('title'));", ["dropColumn"]),
    ("Schema::table('posts', fn ($t) => $t->dropTimestamps());", ["dropColumn"]),
    ("Schema::table('p', fn ($t) => $t->renameColumn('a', 'b'));", ["renameColumn"]),
    ("Schema::drop('posts');", ["drop table"]),
    ("Schema::connection('x')->dropIfExists('posts');", ["drop table"]),
    ("Schema::rename('posts', 'articles');", ["rename table"]),
    ("Schema::table('p', fn ($t) => $t->string('a', 50)->change());", ["change column type"]),
    ("// $table->dropColumn('title');\n/* Schema::drop('x'); */", []),
])
def test_it_flags_destructive_operations_in_up_only(body, expected):
    assert rd.destructive_operations(UP_DOWN % body) == expected


def test_it_reads_npm_lock_files_of_every_version():
    v1 = {"lockfileVersion": 1, "dependencies": {"vite": {"version": "4.0.0"}}}
    v3 = {"lockfileVersion": 3, "packages": {"": {}, "node_modules/vite": {"version": "5.0.0"},
                                             "node_modules/a/node_modules/b": {"version": "1"}}}
    assert rd.locked_packages("package-lock.json", json.dumps(v1)) == {"vite": "4.0.0"}
    assert rd.locked_packages("package-lock.json", json.dumps(v3)) == {"vite": "5.0.0"}
    assert rd.locked_packages("composer.lock", "not json") == {}


def test_it_lists_only_new_top_level_migrations_in_run_order():
    changed = [("A", "database/migrations/2024_02_b.php"), ("M", "database/migrations/old.php"),
               ("A", "database/migrations/2024_01_a.php"), ("A", "database/migrations/x/y.php"),
               ("A", "app/Models/Post.php")]
    assert rd.new_migrations(changed) == ["database/migrations/2024_01_a.php",
                                          "database/migrations/2024_02_b.php"]
    assert list(rd.by_area(changed)) == ["app", "database"]


def test_every_query_is_a_read_only_git_argv_with_the_safety_options():
    argv = rd.log_between("/srv/site/repo", "a" * 40, "b" * 40)
    assert argv[:3] == ("git", "-C", "/srv/site/repo")
    assert "core.hooksPath=/dev/null" in argv and f"{'a' * 40}..{'b' * 40}" in argv
