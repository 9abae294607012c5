"""Test-wide settings: property tests judge behaviour, never speed (CI machines are shared and vary)."""

from hypothesis import HealthCheck, settings

settings.register_profile("huiqi", deadline=None, suppress_health_check=[HealthCheck.too_slow])
settings.load_profile("huiqi")
