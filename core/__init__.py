"""Infrastructure every floor shares: configuration, Redis, logging, the dev runner."""
