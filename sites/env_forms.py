"""The environment editor's and the hooks page's forms: key/value rows with a secret toggle, a
pasted .env, and one script + timeout per hook point. Bounds come from sites.validators."""

from __future__ import annotations

from django import forms
from django.core.exceptions import ValidationError

from sites import validators as v
from sites.environment import MAX_DOTENV_CHARS, parse_dotenv
from sites.models import Site, SiteHook
from sites.secrets import env_entries

# Empty rows under the variables, for new ones (more after a save or an import).
EXTRA_ROWS = 3


class EnvRowForm(forms.Form):
    """One variable; an empty row is ignored, a row marked Remove is dropped."""

    name = forms.CharField(max_length=v.MAX_ENV_NAME, required=False,
                           widget=forms.TextInput(attrs={"class": "mono", "autocomplete": "off",
                                                         "spellcheck": "false"}))
    value = forms.CharField(max_length=v.MAX_ENV_VALUE, required=False, strip=False,
                            widget=forms.TextInput(attrs={"class": "mono", "autocomplete": "off",
                                                          "spellcheck": "false"}))
    secret = forms.BooleanField(required=False)
    remove = forms.BooleanField(required=False)


class BaseEnvRows(forms.BaseFormSet):
    def clean(self) -> None:
        if any(self.errors):
            return
        names = [row["name"].strip() for row in self.kept_rows()]
        duplicate = next((name for name in names if names.count(name) > 1), None)
        if duplicate:
            raise ValidationError(f"{duplicate} is set twice.")

    def kept_rows(self) -> list[dict]:
        return [row for row in self.cleaned_data
                if row and not row.get("remove") and (row.get("name") or row.get("value"))]

    def environment(self) -> tuple[dict[str, str], list[str]]:
        """(env, secret names) as the service takes them; a value without a name is refused."""
        env, secret = {}, []
        for row in self.kept_rows():
            name = row["name"].strip()
            if not name:
                raise ValidationError("A value has no name: give it one or clear the row.")
            env[name] = row["value"]
            if row["secret"]:
                secret.append(name)
        return env, secret


EnvRows = forms.formset_factory(
    EnvRowForm, formset=BaseEnvRows, extra=EXTRA_ROWS, max_num=v.MAX_ENV_VARIABLES,
    validate_max=True, absolute_max=v.MAX_ENV_VARIABLES + EXTRA_ROWS,
)


def env_rows_for(site: Site, env: dict[str, str] | None = None,
                 secret: list[str] | None = None, data=None) -> BaseEnvRows:
    """The rows of `env` (default: the site's), secret values masked (******** keeps them)."""
    marked = site.secret_env_names if secret is None else secret
    if env is None:
        entries = env_entries(site.env, marked, show_plain=True)
        initial = [{"name": e.name, "value": e.value, "secret": e.secret} for e in entries]
    else:
        initial = [{"name": name, "value": value, "secret": name in marked}
                   for name, value in env.items()]
    return EnvRows(data, initial=initial, prefix="env")


class DotenvImportForm(forms.Form):
    """A pasted .env file: merged into the rows for review, saved only with Save."""

    dotenv = forms.CharField(
        label="Paste a .env", max_length=MAX_DOTENV_CHARS, strip=False,
        widget=forms.Textarea(attrs={"rows": 6, "class": "mono", "spellcheck": "false"}),
        help_text="NAME=value lines; quotes, export and # comments are understood. "
        "Pasted variables replace rows of the same name.",
    )

    def clean_dotenv(self) -> dict[str, str]:
        return parse_dotenv(self.cleaned_data["dotenv"])


class HooksForm(forms.Form):
    """One script and timeout per hook point (an empty script: no hook)."""

    def __init__(self, *args, site: Site, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        existing = {hook.point: hook for hook in site.hooks.all()}
        for point in SiteHook.Point.values:
            hook = existing.get(point)
            self.fields[f"{point}_script"] = forms.CharField(
                label="Script", required=False, max_length=v.MAX_DEPLOY_SCRIPT, strip=False,
                initial=hook.script if hook else "",
                widget=forms.Textarea(attrs={"rows": 3, "class": "mono", "spellcheck": "false"}),
                help_text=HOOK_HELP[point],
            )
            self.fields[f"{point}_timeout"] = forms.IntegerField(
                label="Timeout (seconds)", min_value=1, max_value=v.MAX_HOOK_TIMEOUT,
                initial=hook.timeout if hook else v.DEFAULT_HOOK_TIMEOUT,
            )

    def sections(self) -> list[tuple]:
        """(point label, script field, timeout field) per point, for the template."""
        return [(label, self[f"{point}_script"], self[f"{point}_timeout"])
                for point, label in SiteHook.Point.choices]

    def hooks(self) -> dict[str, tuple[str, int]]:
        return {point: (self.cleaned_data[f"{point}_script"],
                        self.cleaned_data[f"{point}_timeout"])
                for point in SiteHook.Point.values}


HOOK_HELP = {
    "after_fetch": "Right after the code is extracted into the new release (before shared "
    "paths, .env and the build). A failure stops the deploy; nothing live changes.",
    "before_switch": "The release is built and checked, not yet live. A failure stops the "
    "deploy; nothing live changes.",
    "after_switch": "The release is live on every server. A failure switches back.",
    "after_cleanup": "The deploy is done and old releases are pruned. A failure is reported; "
    "the release stays live.",
    "on_failure": "Runs in the deploy path when a deploy fails or is cancelled (best effort).",
}
