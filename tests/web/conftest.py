from tests.web.fixtures import *  # noqa: F401,F403 - shared fixtures (pytest finds them by name)
