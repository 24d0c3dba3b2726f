"""glassnet: deep ReLU networks as exact, inspectable local linear models."""

from glassnet.network import ReluNetwork
from glassnet.regions import Regions, unwrap

__version__ = "0.1.0"

__all__ = ["ReluNetwork", "Regions", "unwrap", "__version__"]
