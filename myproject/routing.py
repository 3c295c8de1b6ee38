"""Every WebSocket URL of the project, gathered from the apps (the WebSocket twin of urls.py)."""

from chat.routing import websocket_urlpatterns as chat_websocket_urlpatterns
from reports.routing import websocket_urlpatterns as reports_websocket_urlpatterns

websocket_urlpatterns = [*chat_websocket_urlpatterns, *reports_websocket_urlpatterns]
