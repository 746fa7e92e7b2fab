from .continuous import *  # noqa: F401,F403
from .discrete import *  # noqa: F401,F403
