from . import constraints, transforms  # noqa: F401
from .constraint_registry import biject_to, transform_to  # noqa: F401
from .continuous import *  # noqa: F401,F403
from .discrete import *  # noqa: F401,F403
from .distribution import Distribution, ExponentialFamily  # noqa: F401
from .extra import *  # noqa: F401,F403
from .kl import kl_divergence, register_kl  # noqa: F401
from .multivariate import *  # noqa: F401,F403
from .transformed import *  # noqa: F401,F403
from .transforms import *  # noqa: F401,F403
from .von_mises import VonMises  # noqa: F401
from .wishart import Wishart  # noqa: F401
