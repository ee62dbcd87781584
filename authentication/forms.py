"""The forms of the server-rendered pages (their form only; rules live in services)."""

from django import forms


class ConfirmEmailForm(forms.Form):
    token = forms.CharField(max_length=1024, widget=forms.HiddenInput)
    password = forms.CharField(
        max_length=128,
        strip=False,
        label="Password",
        widget=forms.PasswordInput(attrs={"autocomplete": "current-password"}),
    )


class EmailForm(forms.Form):
    email = forms.EmailField(
        max_length=254,
        label="Email address",
        widget=forms.EmailInput(attrs={"autocomplete": "email"}),
    )


class NewPasswordForm(forms.Form):
    token = forms.CharField(max_length=1024, widget=forms.HiddenInput)
    password = forms.CharField(
        max_length=128,
        strip=False,
        label="New password",
        widget=forms.PasswordInput(attrs={"autocomplete": "new-password"}),
    )
    password_again = forms.CharField(
        max_length=128,
        strip=False,
        label="New password, again",
        widget=forms.PasswordInput(attrs={"autocomplete": "new-password"}),
    )

    def clean(self) -> dict:
        data = super().clean()
        if data.get("password") != data.get("password_again"):
            self.add_error("password_again", "The two passwords are not the same.")
        return data
