from __future__ import annotations

from django.apps import AppConfig


class LoadBalancersConfig(AppConfig):
    name = "loadbalancers"
    verbose_name = "Load balancers"
