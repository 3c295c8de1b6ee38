from django import forms
from django.core.validators import RegexValidator

from chat.models import ROOM_NAME_PATTERN


class OpenRoomForm(forms.Form):
    room = forms.CharField(
        label="Room name",
        max_length=50,
        validators=[RegexValidator(rf"^{ROOM_NAME_PATTERN}\Z", "Use 1-50 letters, digits, _ or -.")],
    )
