"""Account pages (mounted at /account/) and the log-in, sign-up and password-reset pages."""

from __future__ import annotations

from django.urls import path

from tenancy.views import account, auth, email, password, two_factor

account_patterns = [
    path("", account.account_security, name="account"),
    path("password/", account.account_password, name="account-password"),
    path("sessions/<int:session_id>/revoke/", account.account_session_revoke,
         name="account-session-revoke"),
    path("sessions/revoke-others/", account.account_sessions_revoke_others,
         name="account-sessions-revoke-others"),
    path("two-factor/", two_factor.two_factor, name="account-two-factor"),
    path("two-factor/disable/", two_factor.two_factor_off, name="account-two-factor-disable"),
    path("two-factor/recovery-codes/", two_factor.two_factor_codes,
         name="account-recovery-codes"),
]

auth_patterns = [
    path("login/", auth.LoginView.as_view(), name="login"),
    path("login/code/", auth.login_code, name="login-code"),
    path("logout/", auth.logout, name="logout"),
    path("signup/", auth.signup, name="signup"),
    path("signup/done/", auth.signup_done, name="signup-done"),
    path("signup/verify/resend/", email.signup_verify_resend, name="signup-verify-resend"),
    path("signup/verify/<str:token>/", email.signup_verify, name="signup-verify"),
    path("password-reset/", password.PasswordResetView.as_view(), name="password-reset"),
    path("password-reset/sent/", password.PasswordResetDoneView.as_view(),
         name="password-reset-done"),
    path("password-reset/<uidb64>/<token>/", password.PasswordResetConfirmView.as_view(),
         name="password-reset-confirm"),
    path("password-reset/complete/", password.PasswordResetCompleteView.as_view(),
         name="password-reset-complete"),
]
