import re

import pytest
from django.test import Client

from chat.models import Room
from chat.services import message_post

pytestmark = pytest.mark.django_db


def test_lobby_lists_rooms_with_their_message_counts(client, alice):
    for _ in range(3):
        message_post("busy", alice.pk, "alice", "hi", None)
    message_post("quiet", alice.pk, "alice", "hi", None)

    page = client.get("/chat/").content.decode()

    rows = re.findall(r'<a href="/chat/([^/]+)/">[^<]+</a></td>\s*<td class="num">(\d+)<', page)
    assert sorted(rows) == [("busy", "3"), ("quiet", "1")]


def test_lobby_groups_message_counts_by_thousands(client, alice):
    message_post("busy", alice.pk, "alice", "hi", None)
    Room.objects.filter(name="busy").update(message_count=1124)

    page = client.get("/chat/").content.decode()

    assert '<td class="num">1,124</td>' in page


def test_lobby_without_rooms_invites_to_open_one(client):
    response = client.get("/chat/")

    assert response.status_code == 200
    assert b'data-testid="no-rooms"' in response.content


def test_lobby_opens_a_room_by_name(client):
    response = client.get("/chat/", {"room": "new_room-1"})

    assert response.status_code == 302
    assert response["Location"] == "/chat/new_room-1/"


@pytest.mark.parametrize("name", ["", "has space", "x" * 51, "émile", "../admin", "a/b"])
def test_lobby_refuses_a_room_name_outside_the_contract(client, name):
    response = client.get("/chat/", {"room": name})

    assert response.status_code == 400
    assert b'data-testid="room-error"' in response.content


def test_room_page_names_its_socket(client):
    response = client.get("/chat/lobby/")

    assert response.status_code == 200
    assert b'data-socket-path="/ws/chat/lobby/"' in response.content


@pytest.mark.parametrize("path", ["/chat/has%20space/", "/chat/" + "x" * 51 + "/", "/chat/a.b/"])
def test_room_page_for_a_name_outside_the_contract_is_not_found(client, path):
    assert client.get(path).status_code == 404


def test_room_page_has_no_inline_script(client):
    page = client.get("/chat/lobby/").content.decode()

    scripts = re.findall(r"<script([^>]*)>(.*?)</script>", page, re.S)
    assert scripts
    assert all('src="' in attributes and not body.strip() for attributes, body in scripts)


def test_anonymous_visitors_get_no_send_form(client):
    page = client.get("/chat/lobby/").content

    assert b'data-testid="send-form"' not in page
    assert b'data-testid="read-only"' in page


def test_signed_in_users_get_the_send_form(alice):
    client = Client()
    client.force_login(alice)

    assert b'data-testid="send-form"' in client.get("/chat/lobby/").content


def test_a_page_served_over_wsgi_says_where_its_socket_must_go(client, settings):
    settings.ASGI_STACK_PORT = None

    assert b'data-testid="wsgi-notice"' in client.get("/chat/lobby/").content


def test_a_configured_socket_port_is_given_to_the_page(client, settings):
    settings.ASGI_STACK_PORT = 8002

    page = client.get("/chat/lobby/").content

    assert b'data-socket-port="8002"' in page
    assert b'data-testid="wsgi-notice"' not in page


async def test_a_page_served_over_asgi_opens_its_socket_on_its_own_host(async_client, settings):
    settings.ASGI_STACK_PORT = None

    page = (await async_client.get("/chat/lobby/")).content

    assert b'data-socket-port=""' in page
    assert b'data-testid="wsgi-notice"' not in page
