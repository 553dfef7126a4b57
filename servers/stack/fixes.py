"""Which provisioning step (a name in servers/provision/steps.py, which reads this package, so
only the name here) writes the recommended setting of each stack-check finding: "apply the
recommended setting" re-runs that step, after showing its diff."""

from __future__ import annotations

FIX_STEPS: dict[str, str] = {
    "nginx_site_missing": "nginx_site",
    "root_not_current": "nginx_site",
    "realpath_script_filename": "nginx_site",
    "realpath_document_root": "nginx_site",
    "fpm_process_control_timeout": "php_fpm",
    "fpm_unknown": "php_fpm",
    "opcache_stale": "php_fpm",
}


def fix_step(code: str) -> str | None:
    """The step that applies the recommended setting for `code` (None: nothing to apply)."""
    return FIX_STEPS.get(code)
