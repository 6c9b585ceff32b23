"""HTTP mechanics shared by the services: middleware, health, dependencies."""
