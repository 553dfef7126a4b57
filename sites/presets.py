"""What each preset means for a new site: a sentence for the form and the defaults it fills in.

Pure data, read by the site form (sites/forms.py); the pipeline reads only `Site.preset`
(deployments/pipeline/context.py). Defaults fill a NEW site's form; an existing site keeps its
values when its preset changes.
"""

from __future__ import annotations

from dataclasses import dataclass, field


@dataclass(frozen=True)
class Preset:
    label: str
    summary: str
    defaults: dict = field(default_factory=dict)


PRESETS = {
    "laravel": Preset(
        "Laravel",
        "composer install and npm run build when the repository has them, php artisan migrate "
        "--force (when on), the config/route/view caches; storage/ and .env shared between "
        "releases; public/ served.",
        {"web_dir": "public", "shared_dirs": "storage", "shared_files": ".env",
         "run_migrations": True, "reload_method": "php-fpm"},
    ),
    "php": Preset(
        "Plain PHP",
        "composer install and npm run build when the repository has them, no artisan steps; "
        ".env shared; public/ served. Share what else your app writes.",
        {"web_dir": "public", "shared_dirs": "", "shared_files": ".env",
         "run_migrations": False, "reload_method": "php-fpm"},
    ),
    "none": Preset(
        "Custom",
        "composer and npm as the repository has them, then your build commands and deploy "
        "script; nothing shared unless you add it; the release itself served.",
        {"web_dir": "", "shared_dirs": "", "shared_files": "", "run_migrations": False,
         "reload_method": "none"},
    ),
}
DEFAULT_PRESET = "laravel"


def preset_or_default(name: str | None) -> str:
    """`name` if it is a preset, else the default one (a query parameter is untrusted)."""
    return name if name in PRESETS else DEFAULT_PRESET
