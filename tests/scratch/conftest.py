import zlib

import numpy as np
import pytest


@pytest.fixture(autouse=True)
def _module_generator_restarts_for_each_test(request):
    """A test module's generator ``rng`` restarts, for every test, from a seed its name derives:
    the numbers a test draws do not depend on which tests ran before it in the same process."""
    rng = getattr(request.module, "rng", None)
    if isinstance(rng, np.random.Generator):
        seed = zlib.crc32(request.node.nodeid.split("[")[0].encode())
        rng.bit_generator.state = np.random.default_rng(seed).bit_generator.state
