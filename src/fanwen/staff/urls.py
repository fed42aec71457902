from django.urls import path

from fanwen.staff import views, views_articles, views_import, views_orders, views_tickets
from fanwen.staff.views_dashboard import dashboard_csv, dashboard_page
from fanwen.staff.views_worker import worker

app_name = "staff"

# Every view here is wrapped in fanwen.staff.access.staff_required (tests/test_access.py walks
# this list, so a page added without it fails).
urlpatterns = [
    path("", views.index, name="index"),
    path("import/", views_import.import_page, name="import"),
    path("import/<int:batch_id>/", views_import.import_batch, name="import_batch"),
    path("import/<int:batch_id>/status.json", views_import.import_status, name="import_status"),
    path("articles/", views_articles.articles, name="articles"),
    path("articles/<int:article_id>/", views_articles.article, name="article"),
    path(
        "articles/<int:article_id>/pieces/<int:position>/",
        views_articles.piece_edit,
        name="piece_edit",
    ),
    path("dashboard/", dashboard_page, name="dashboard"),
    path("dashboard/<slug:chart>.csv", dashboard_csv, name="dashboard_csv"),
    path("orders/", views_orders.orders, name="orders"),
    path("orders/<int:order_id>/", views_orders.order, name="order"),
    path("orders/<int:order_id>/recheck/", views_orders.order_recheck, name="order_recheck"),
    path("orders/<int:order_id>/grant/", views_orders.order_grant, name="order_grant"),
    path("orders/<int:order_id>/refund/", views_orders.order_refund, name="order_refund"),
    path("tickets/", views_tickets.tickets, name="tickets"),
    path("tickets/<int:ticket_id>/", views_tickets.ticket, name="ticket"),
    path("tickets/<int:ticket_id>/reply/", views_tickets.ticket_reply, name="ticket_reply"),
    path("tickets/<int:ticket_id>/status/", views_tickets.ticket_status, name="ticket_status"),
    path("worker/", worker, name="worker"),
]
