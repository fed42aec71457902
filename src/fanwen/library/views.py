from django.http import HttpResponse


def home(request):
    return HttpResponse("fanwen")


def category(request, slug):
    return HttpResponse(slug)


def article(request, article_id):
    return HttpResponse(str(article_id))


def page_not_found(request, exception=None):
    return HttpResponse("页面不存在", status=404)
