"""Forms of the team pages.

Role fields accept every role value and only *display* the ones the member may grant: a forged
higher role must reach the service, which refuses it with 403 and audits the attempt, instead of
being waved off as a typo.
"""

from __future__ import annotations

from collections.abc import Sequence

from django import forms

from tenancy.models import Membership, Organization
from tenancy.roles import Role


def _role_field() -> forms.TypedChoiceField:
    return forms.TypedChoiceField(choices=Role.choices, coerce=int)


def _offer(field: forms.Field, roles: Sequence[Role]) -> None:
    field.widget.choices = [(int(r), r.label) for r in roles]


class InviteForm(forms.Form):
    email = forms.EmailField(label="E-mail")
    role = _role_field()

    def __init__(self, *args, assignable: Sequence[Role] = (), **kwargs) -> None:
        super().__init__(*args, **kwargs)
        _offer(self.fields["role"], assignable)
        if assignable:
            self.fields["role"].initial = int(assignable[-1])  # least privilege first

    def clean_email(self) -> str:
        return self.cleaned_data["email"].strip().lower()


class RoleForm(forms.Form):
    role = _role_field()

    def __init__(self, *args, assignable: Sequence[Role] = (), **kwargs) -> None:
        super().__init__(*args, **kwargs)
        _offer(self.fields["role"], assignable)


class TransferForm(forms.Form):
    member = forms.ModelChoiceField(
        queryset=Membership.objects.none(),
        label="New Owner",
        empty_label=None,
        help_text="Only Admins can become Owner. You will become an Admin.",
    )

    def __init__(self, *args, organization: Organization, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        field = self.fields["member"]
        field.queryset = Membership.objects.filter(
            organization=organization, role=Role.ADMIN
        ).select_related("user")
        field.label_from_instance = lambda m: m.user.email
