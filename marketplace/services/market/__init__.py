"""The Marketplace application's use cases, one mixin per area (composed in services.marketplace)."""
