"""What every Gradio event handler shares: who sent the event.

Gradio resolves the user of every event through the app's auth_dependency (session cookie or HTTP Basic,
see ``ui.server``) and hands it over as ``request.username``; each handler looks the user up again, so an
admin action sent by a staff user (hidden tab or not) is refused on the server.
"""

from __future__ import annotations

import gradio as gr
from civicrag.ui.auth import User, Users


def user_of(users: Users, request: gr.Request | None) -> User:
    """The user who sent the event; a "login required" error without one."""
    user = users.user(request.username) if request is not None and request.username else None
    if user is None:
        raise gr.Error("login required")
    return user


def admin_of(users: Users, request: gr.Request | None) -> User:
    """The user who sent the event, if an admin; an error for anyone else."""
    user = user_of(users, request)
    if not user.is_admin:
        raise gr.Error("admin role required / 관리자 권한이 필요합니다")
    return user
