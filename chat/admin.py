from django.contrib import admin

from chat.models import Message, Room


@admin.register(Room)
class RoomAdmin(admin.ModelAdmin):
    list_display = ["name", "message_count", "last_message_at", "created"]
    search_fields = ["name"]
    readonly_fields = ["message_count", "last_message_id", "last_message_at"]


@admin.register(Message)
class MessageAdmin(admin.ModelAdmin):
    list_display = ["id", "room", "author", "created", "text"]
    list_filter = ["room"]
    search_fields = ["text"]
    raw_id_fields = ["room", "author"]
