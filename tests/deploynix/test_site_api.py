"""A site's API representation is composed in the shell (deploynix/site_api.py): it works in
any process, with nothing registered first by importing the API's URLconf."""

from __future__ import annotations

import json
import subprocess
import sys

import pytest

from deploynix.site_api import SiteDetailSerializer
from tests.deployments.workers import BASE_DIR, worker_env

# A fresh interpreter: Django set up, the URLconf never imported before serializing.
SERIALIZE = """
import json, sys, django
django.setup()
from deploynix.site_api import SiteDetailSerializer
from sites.models import Site
urls_loaded = "deploynix.api_urls" in sys.modules
data = SiteDetailSerializer(Site.objects.get(pk={pk})).data
print(json.dumps({{"urls_loaded_first": urls_loaded, "fields": sorted(data),
                  "hooks": sorted(data["webhook_urls"]), "truth": sorted(data["truth"])}}))
"""


@pytest.mark.django_db(transaction=True)
def test_a_site_serializes_in_a_fresh_process(site):
    done = subprocess.run(
        [sys.executable, "-c", SERIALIZE.format(pk=site.pk)], env=worker_env(), cwd=BASE_DIR,
        capture_output=True, text=True, timeout=120,
    )
    assert done.returncode == 0, done.stderr
    found = json.loads(done.stdout.splitlines()[-1])
    assert found["urls_loaded_first"] is False
    assert {"webhook_urls", "truth", "env_names"} <= set(found["fields"])
    assert "github" in found["hooks"] and "live_everywhere" in found["truth"]


def test_the_api_sends_that_representation(api_as, site):
    body = api_as("viewer").get(f"/api/v1/sites/{site.pk}/").json()
    assert body == json.loads(json.dumps(SiteDetailSerializer(site).data, default=str))
