from django import template
from django.utils.safestring import SafeString

from fanwen.seo.structured import ld_json_script

register = template.Library()


@register.filter
def ld_json(data: object) -> SafeString:
    """{{ data|ld_json }}: a JSON-LD script block, safe whatever the titles hold."""
    return ld_json_script(data)
