"""Settings for the daphne the browser tests start: the real ones plus a test-only page.

The page (tests/browser/urls.py) shows a deployment's live log with the same template tags the
app's pages use, so the live log is tested before (and independently of) the deployment pages.
"""

from deploynix.settings import *  # noqa: F403
from deploynix.settings import BASE_DIR, TEMPLATES

ROOT_URLCONF = "tests.browser.urls"
TEMPLATES[0]["DIRS"] = [*TEMPLATES[0]["DIRS"], BASE_DIR / "tests" / "browser" / "templates"]
