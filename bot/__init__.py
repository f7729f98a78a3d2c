"""pressbot: press releases in, approved posts out, each exactly once."""

__version__ = "0.1.0"
