"""URLs of the load-balancer pages, mounted under /o/<org>/load-balancers/ ("loadbalancers")."""

from __future__ import annotations

from django.urls import path

from loadbalancers import views

app_name = "loadbalancers"
urlpatterns = [
    path("", views.balancer_list, name="list"),
    path("new/", views.balancer_create, name="create"),
    path("<int:pk>/", views.balancer_detail, name="detail"),
    path("<int:pk>/edit/", views.balancer_edit, name="edit"),
    path("<int:pk>/delete/", views.balancer_delete, name="delete"),
    path("<int:pk>/apply/", views.balancer_apply, name="apply"),
    path("<int:pk>/check/", views.balancer_check, name="check"),
    path("<int:pk>/sites/<int:site_id>/", views.balanced_site_edit, name="site"),
    path("<int:pk>/sites/<int:site_id>/remove/", views.balanced_site_remove, name="site-remove"),
]
