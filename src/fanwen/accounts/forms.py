"""Sign-up, login and restore forms: an account is an email or a mainland phone number plus a password."""

from __future__ import annotations

import re

from django import forms
from django.contrib.auth import get_user_model
from django.contrib.auth.forms import (
    AuthenticationForm,
    PasswordResetForm,
    SetPasswordForm,
    UserCreationForm,
)
from django.core.validators import validate_email

PHONE = re.compile(r"1[3-9][0-9]{9}")
IDENTIFIER_LABEL = "邮箱或手机号"


def normalize_identifier(value: str) -> str:
    """The username an email or phone is stored under: emails lower-cased, phones digits only."""
    value = (value or "").strip()
    if "@" in value:
        return value.lower()
    digits = re.sub(r"[\s-]", "", value)
    # A pasted +86 prefix is the same phone.
    if digits.startswith("+86"):
        digits = digits[3:]
    return digits


def clean_identifier(value: str) -> str:
    identifier = normalize_identifier(value)
    if "@" in identifier:
        try:
            validate_email(identifier)
        except forms.ValidationError:
            raise forms.ValidationError("邮箱格式不正确。") from None
        return identifier
    if not PHONE.fullmatch(identifier):
        raise forms.ValidationError("请输入有效的邮箱或 11 位手机号。")
    return identifier


class SignupForm(UserCreationForm):
    class Meta(UserCreationForm.Meta):
        model = get_user_model()
        fields = ("username",)
        labels = {"username": IDENTIFIER_LABEL}
        help_texts = {"username": "用于登录，也可以用来找回购买记录。"}

    def __init__(self, *args, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        self.fields["username"].widget.attrs.update(
            {"autocomplete": "username", "inputmode": "email", "autofocus": True}
        )
        self.fields["password1"].label = "密码"
        self.fields["password1"].help_text = "至少 8 位，不要用太常见的密码。"
        self.fields["password2"].label = "再次输入密码"
        self.fields["password2"].help_text = ""

    def clean_username(self) -> str:
        identifier = clean_identifier(self.cleaned_data.get("username", ""))
        if get_user_model().objects.filter(username__iexact=identifier).exists():
            raise forms.ValidationError("这个邮箱或手机号已经注册，请直接登录。")
        return identifier

    def save(self, commit: bool = True):
        user = super().save(commit=False)
        if "@" in user.username:
            user.email = user.username
        if commit:
            user.save()
        return user


class LoginForm(AuthenticationForm):
    error_messages = {
        "invalid_login": "邮箱/手机号或密码不正确。",
        "inactive": "该账户已停用，请联系客服。",
    }

    def __init__(self, request=None, *args, **kwargs) -> None:
        super().__init__(request, *args, **kwargs)
        self.fields["username"].label = IDENTIFIER_LABEL
        self.fields["password"].label = "密码"

    def clean(self):
        if "username" in self.cleaned_data:
            self.cleaned_data["username"] = normalize_identifier(self.cleaned_data["username"])
        return super().clean()


class RestoreForm(forms.Form):
    number = forms.CharField(
        label="订单号或交易单号",
        max_length=64,
        help_text="订单号见支付页面；微信/支付宝交易单号见支付账单详情。",
        widget=forms.TextInput(
            attrs={
                "autocomplete": "off",
                "spellcheck": "false",
                "placeholder": "例如 20260101ABCD…",
            }
        ),
    )

    def clean_number(self) -> str:
        # Copied from a bill, the number often carries spaces.
        return re.sub(r"\s+", "", self.cleaned_data["number"])


class ResetRequestForm(PasswordResetForm):
    """The email an account was registered with; a link to set a new password goes there."""

    def __init__(self, *args, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        field = self.fields["email"]
        field.label = "注册邮箱"
        field.help_text = "用手机号注册的账户无法通过邮件找回，请联系客服。"
        field.widget.attrs.update({"autofocus": True, "inputmode": "email"})

    def clean_email(self) -> str:
        return normalize_identifier(self.cleaned_data.get("email", ""))


class NewPasswordForm(SetPasswordForm):
    def __init__(self, *args, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        self.fields["new_password1"].label = "新密码"
        self.fields["new_password1"].help_text = "至少 8 位，不要用太常见的密码。"
        self.fields["new_password2"].label = "再次输入新密码"
        self.fields["new_password2"].help_text = ""
