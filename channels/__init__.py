"""Channel adapters: one module per platform, all behind the interface in `channels.base`."""
