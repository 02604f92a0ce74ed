"""evhub: operations platform for shared electric mobility hubs."""

__version__ = "0.1.0"
