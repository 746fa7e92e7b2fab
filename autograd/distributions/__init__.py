from .continuous import *  # noqa: F401,F403
