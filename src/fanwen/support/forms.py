from __future__ import annotations

from django import forms

from fanwen.support.models import CONTACT_MAX_CHARS, MESSAGE_MAX_CHARS, Ticket


class TicketForm(forms.ModelForm):
    class Meta:
        model = Ticket
        fields = [
            "kind",
            "order_number",
            "contact",
            "message",
            "invoice_title",
            "invoice_tax_id",
            "invoice_email",
        ]
        labels = {"order_number": "订单号（选填）"}
        help_texts = {
            "order_number": "我的购买里的订单号，或微信/支付宝账单里的交易单号",
            "contact": "邮箱、手机号、QQ 或微信号，客服回复会同时显示在「我的购买」",
        }
        widgets = {
            "kind": forms.RadioSelect,
            "message": forms.Textarea(
                attrs={
                    "rows": 5,
                    "maxlength": MESSAGE_MAX_CHARS,
                    "placeholder": "付款时间、金额、遇到的问题",
                }
            ),
            "contact": forms.TextInput(attrs={"maxlength": CONTACT_MAX_CHARS}),
            "order_number": forms.TextInput(attrs={"maxlength": 64, "autocomplete": "off"}),
        }

    def clean_message(self) -> str:
        message = self.cleaned_data["message"].strip()
        if len(message) < 4:
            raise forms.ValidationError("请把问题写得具体一些")
        return message

    def clean_order_number(self) -> str:
        # Spaces and dashes slip in when numbers are copied from a bill.
        return "".join(self.cleaned_data["order_number"].split()).replace("-", "")

    def clean(self) -> dict:
        data = super().clean()
        if data.get("kind") == Ticket.Kind.INVOICE:
            for field, message in (
                ("order_number", "开发票请填写订单号"),
                ("invoice_title", "请填写发票抬头（个人或单位名称）"),
                ("invoice_email", "请填写接收电子发票的邮箱"),
            ):
                if not data.get(field):
                    self.add_error(field, message)
        else:
            for field in ("invoice_title", "invoice_tax_id", "invoice_email"):
                data[field] = ""
        return data


class ReplyForm(forms.Form):
    body = forms.CharField(
        label="回复",
        max_length=MESSAGE_MAX_CHARS,
        widget=forms.Textarea(attrs={"rows": 4, "maxlength": MESSAGE_MAX_CHARS}),
    )
