"""The REST API as routers, one module per concern; ``create_app`` (``ui.server``) includes them.

Each route takes what it needs through the dependencies of ``ui.api.deps`` (the app context, the service,
the user, the admin role) and calls ``RagService``, ``AdminOps`` or the stores: no route reads the index
itself, and no router knows of another. This package imports none of its modules, so importing one of them
never pulls in the rest.
"""
