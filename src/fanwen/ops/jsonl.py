"""Django's JSON-lines serializer, with datetimes to the microsecond.

DjangoJSONEncoder cuts datetimes to milliseconds; a restored order would then not be the
order that was backed up (paid_at, created_at and the like would differ). Registered as the
"fwjsonl" format by fanwen.ops.backup; read back by Django's own JSON-lines deserializer.
"""

from __future__ import annotations

import datetime

from django.core.serializers import jsonl
from django.core.serializers.json import DjangoJSONEncoder


class ExactEncoder(DjangoJSONEncoder):
    def default(self, o):
        if isinstance(o, datetime.datetime):
            text = o.isoformat()
            return text[:-6] + "Z" if text.endswith("+00:00") else text
        if isinstance(o, datetime.time):
            return o.isoformat()
        return super().default(o)


class Serializer(jsonl.Serializer):
    def _init_options(self) -> None:
        self.options["cls"] = ExactEncoder
        super()._init_options()


Deserializer = jsonl.Deserializer
