"""``ember.ops``: the keras.ops functions, computed by the Rust core."""
from ember.ops import image  # noqa: F401
from ember.ops.core import *  # noqa: F401,F403
from ember.ops.elementwise import *  # noqa: F401,F403
from ember.ops.nn import *  # noqa: F401,F403
from ember.ops.reductions import *  # noqa: F401,F403
from ember.ops.shape import *  # noqa: F401,F403
