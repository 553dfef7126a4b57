"""ASGI entry point: HTTP through Django behind the body limits, WebSockets through Channels
(exact origin check, session auth)."""

import os

from django.core.asgi import get_asgi_application

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "deploynix.settings")
# Django must be set up before anything imports models (consumers do).
django_asgi_app = get_asgi_application()

from channels.auth import AuthMiddlewareStack  # noqa: E402
from channels.routing import ProtocolTypeRouter, URLRouter  # noqa: E402

from deploynix import daphne_guard  # noqa: E402
from deploynix.bodylimit import BodyLimitMiddleware  # noqa: E402
from deploynix.routing import websocket_urlpatterns  # noqa: E402
from deploynix.ws_origin import OriginValidator  # noqa: E402

# daphne buffers a whole body before calling us: refuse oversized ones inside it too.
daphne_guard.install()

application = ProtocolTypeRouter(
    {
        "http": BodyLimitMiddleware(django_asgi_app),
        "websocket": OriginValidator(
            AuthMiddlewareStack(URLRouter(websocket_urlpatterns))
        ),
    }
)
