"""The upload form of /staff/import/: files, where they go, when they are published."""

from __future__ import annotations

from pathlib import PurePosixPath

from django import forms
from django.conf import settings
from django.utils import timezone

from fanwen.library.models import Category
from fanwen.staff.models import ImportBatch

FROM_FOLDER = "folder"
UPLOAD_SUFFIXES = (".docx", ".txt", ".md", ".html", ".htm", ".zip")


class MultipleFileInput(forms.ClearableFileInput):
    allow_multiple_selected = True


class MultipleFileField(forms.FileField):
    widget = MultipleFileInput

    def clean(self, data, initial=None):
        files = data if isinstance(data, list | tuple) else [data] if data else []
        if not files:
            raise forms.ValidationError("请选择要导入的文件", code="required")
        return [super(MultipleFileField, self).clean(one, initial) for one in files]


def category_choices() -> list[tuple[str, str]]:
    """按文件所在文件夹 first, then every category as a tree, children indented under parents."""
    children: dict[int | None, list[Category]] = {}
    for category in Category.objects.order_by("position", "id"):
        children.setdefault(category.parent_id, []).append(category)
    choices = [(FROM_FOLDER, "按文件所在文件夹")]

    def walk(parent_id: int | None, depth: int) -> None:
        for category in children.get(parent_id, []):
            # Ideographic spaces: a <select> collapses ordinary ones.
            choices.append((str(category.pk), "\u3000" * depth + category.name))
            if depth < 10:
                walk(category.pk, depth + 1)

    walk(None, 0)
    return choices


def _mb(n: int) -> str:
    return f"{n / 1048576:g} MB"


class ImportForm(forms.Form):
    files = MultipleFileField(
        label="文件",
        # An empty file is refused as its own item (文件是空的), not the whole upload.
        allow_empty_file=True,
        help_text="可多选：.docx .txt .md .html，或装着它们的 .zip（压缩包里的文件夹可作为分类）",
        widget=MultipleFileInput(attrs={"accept": ",".join(UPLOAD_SUFFIXES)}),
    )
    category = forms.ChoiceField(
        label="分类",
        choices=(),
        help_text="按文件所在文件夹：压缩包里的文件夹名即分类；不在文件夹里的，用网页面包屑的分类，"
        "都没有时归入“未分类”",
    )
    publish_mode = forms.ChoiceField(
        label="发布",
        choices=ImportBatch.PublishMode.choices,
        initial=ImportBatch.PublishMode.DRAFT,
        widget=forms.RadioSelect,
    )
    publish_at = forms.DateTimeField(
        label="定时发布时间",
        required=False,
        input_formats=["%Y-%m-%dT%H:%M", "%Y-%m-%dT%H:%M:%S", "%Y-%m-%d %H:%M"],
        widget=forms.DateTimeInput(attrs={"type": "datetime-local"}, format="%Y-%m-%dT%H:%M"),
        help_text="北京时间",
    )

    def __init__(self, *args, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        self.fields["category"].choices = category_choices()

    def clean_files(self):
        files = self.cleaned_data["files"]
        limit = settings.FANWEN_UPLOAD_MAX_FILE_BYTES
        too_big = [f.name for f in files if f.size > limit]
        if too_big:
            raise forms.ValidationError(
                f"单个文件不能超过 {_mb(limit)}：{'、'.join(too_big[:5])}"
                + (f" 等 {len(too_big)} 个" if len(too_big) > 5 else "")
            )
        wrong = [
            f.name for f in files if PurePosixPath(f.name).suffix.lower() not in UPLOAD_SUFFIXES
        ]
        if wrong:
            raise forms.ValidationError(
                f"只能上传 {' '.join(UPLOAD_SUFFIXES)} 文件：{'、'.join(wrong[:5])}"
                + (f" 等 {len(wrong)} 个" if len(wrong) > 5 else "")
            )
        return files

    def clean_category(self) -> Category | None:
        value = self.cleaned_data["category"]
        if value == FROM_FOLDER:
            return None
        return Category.objects.get(pk=int(value))

    def clean(self):
        cleaned = super().clean()
        if cleaned.get("publish_mode") == ImportBatch.PublishMode.AT:
            when = cleaned.get("publish_at")
            if when is None:
                self.add_error("publish_at", "定时发布请填写发布时间")
            elif when <= timezone.now():
                self.add_error("publish_at", "定时发布的时间要晚于现在（立即发布请选“立即发布”）")
        return cleaned
