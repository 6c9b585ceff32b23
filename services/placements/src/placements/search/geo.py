"""Great-circle distance for the search, split so that SQL needs only sin and cos.

The haversine formula is ``d = 2R·asin(√h)`` with
``h = sin²(Δφ/2) + cos φ₀ · cos φ · sin²(Δλ/2)``. ``d`` grows with ``h``, so the
database filters and sorts on ``h`` (no asin or sqrt in SQL, and no domain error when
rounding pushes ``h`` a hair above 1) and Python turns the ``h`` of each returned row into
kilometres. A radius becomes ``h ≤ hav(r/R)``, the exact haversine test.

A latitude/longitude bounding box around the circle comes first, so an index can narrow
the rows before any trigonometry runs (method of J. P. Matuschek, "Finding points within
a distance of a latitude/longitude using bounding coordinates").
"""

from __future__ import annotations

import math
from dataclasses import dataclass

#: Mean Earth radius (IUGG), km. Uppsala-Stockholm comes out at about 64 km.
EARTH_RADIUS_KM = 6371.0088
_MAX_LATITUDE_RAD = math.pi / 2


@dataclass(frozen=True, slots=True)
class Circle:
    """Everything SQL needs to find points within ``radius_km`` of (``lat``, ``lon``).

    Attributes:
        lat: Latitude of the centre, degrees.
        lon: Longitude of the centre, degrees.
        radius_km: Radius, km.
        h_max: The haversine term of the radius: a row is inside when its ``h ≤ h_max``.
        cos_lat: cos of the centre's latitude (a constant of ``h``).
        min_lat: Southern edge of the bounding box, degrees.
        max_lat: Northern edge, degrees.
        min_lon: Western edge, degrees; None when the box spans every longitude (a pole
            inside the circle, or the circle crosses the antimeridian).
        max_lon: Eastern edge, degrees; None together with ``min_lon``.
    """

    lat: float
    lon: float
    radius_km: float
    h_max: float
    cos_lat: float
    min_lat: float
    max_lat: float
    min_lon: float | None
    max_lon: float | None


def circle(lat: float, lon: float, radius_km: float) -> Circle:
    """The search circle around a point, with its bounding box and haversine bound."""
    angular = radius_km / EARTH_RADIUS_KM
    lat_rad = math.radians(lat)
    min_lat_rad = lat_rad - angular
    max_lat_rad = lat_rad + angular
    min_lon: float | None = None
    max_lon: float | None = None
    if min_lat_rad > -_MAX_LATITUDE_RAD and max_lat_rad < _MAX_LATITUDE_RAD:
        delta_lon = math.degrees(math.asin(min(1.0, math.sin(angular) / math.cos(lat_rad))))
        if lon - delta_lon >= -180.0 and lon + delta_lon <= 180.0:
            min_lon, max_lon = lon - delta_lon, lon + delta_lon
    return Circle(
        lat=lat,
        lon=lon,
        radius_km=radius_km,
        h_max=math.sin(angular / 2) ** 2,
        cos_lat=math.cos(lat_rad),
        # A hair of slack: the box only pre-filters, the haversine test decides.
        min_lat=math.degrees(max(min_lat_rad, -_MAX_LATITUDE_RAD)) - 1e-9,
        max_lat=math.degrees(min(max_lat_rad, _MAX_LATITUDE_RAD)) + 1e-9,
        min_lon=None if min_lon is None else min_lon - 1e-9,
        max_lon=None if max_lon is None else max_lon + 1e-9,
    )


def km_from_haversine(h: float) -> float:
    """The great-circle distance, km, of a haversine term computed by the database."""
    return 2 * EARTH_RADIUS_KM * math.asin(math.sqrt(min(1.0, max(0.0, h))))


def haversine_km(lat1: float, lon1: float, lat2: float, lon2: float) -> float:
    """The great-circle distance between two points, km (the same formula, all in Python)."""
    phi1, phi2 = math.radians(lat1), math.radians(lat2)
    h = (
        math.sin((phi2 - phi1) / 2) ** 2
        + math.cos(phi1) * math.cos(phi2) * math.sin(math.radians(lon2 - lon1) / 2) ** 2
    )
    return km_from_haversine(h)
