"""The map: soundings coloured by XCO2, the draggable window, peaks, sources and wind.

Every sounding set is drawn as *one* GeoJSON layer of a few ``MultiPoint``
features (one per colour bin) on a canvas renderer, so ~10⁴ soundings cost one
widget and one message, not thousands of markers.
"""

from __future__ import annotations

import json
import logging
from collections.abc import Callable
from functools import cache, lru_cache
from importlib import resources

import ipyleaflet as L
import ipywidgets as W
import numpy as np
import pandas as pd

from ..geo import destination

log = logging.getLogger(__name__)

#: Viridis colour map (matplotlib, CC0), sampled at ten levels, low to high.
PALETTE = (
    "#440154",
    "#482878",
    "#3e4989",
    "#31688e",
    "#26828e",
    "#1f9e89",
    "#35b779",
    "#6ece58",
    "#b5de2b",
    "#fde725",
)
#: Length of the drawn wind arrow per m/s of wind, km (5 m/s -> 50 km).
WIND_ARROW_KM_PER_M_PER_S = 10.0
#: Coordinates are sent rounded to 1e-4 degrees (~10 m), far below the footprint size.
COORD_DECIMALS = 4


@lru_cache(maxsize=1)
def coastlines() -> dict:
    """Packaged Natural Earth 1:110m country outlines (GeoJSON, see ``static/README.md``)."""
    text = resources.files(__package__).joinpath("static/ne_110m_countries.geojson").read_text()
    return json.loads(text)


def colour_limits(values: np.ndarray, low: float = 2.0, high: float = 98.0) -> tuple[float, float]:
    """Robust colour range: the ``low``-th and ``high``-th percentiles of finite values."""
    finite = np.asarray(values, dtype=float)
    finite = finite[np.isfinite(finite)]
    if finite.size == 0:
        return 0.0, 1.0
    vmin, vmax = np.percentile(finite, [low, high])
    return float(vmin), float(vmax if vmax > vmin else vmin + 1.0)


def colour_index(values: np.ndarray, vmin: float, vmax: float, n: int = len(PALETTE)) -> np.ndarray:
    """Bin of each value in ``n`` equal bins over [vmin, vmax] (clipped at both ends)."""
    scaled = (np.asarray(values, dtype=float) - vmin) / (vmax - vmin)
    return np.clip(np.nan_to_num(scaled * n, nan=0.0).astype(int), 0, n - 1)


def binned_points(
    lat: np.ndarray,
    lon: np.ndarray,
    values: np.ndarray,
    vmin: float,
    vmax: float,
    radius: float | np.ndarray = 3.0,
) -> dict:
    """GeoJSON of points coloured by ``values``: one ``MultiPoint`` feature per colour bin.

    ``radius`` (pixels) may be one number or one per point; per-point radii are
    binned to whole pixels and become one feature per (colour, radius) pair.
    """
    bins = colour_index(values, vmin, vmax)
    radii = np.broadcast_to(np.rint(np.asarray(radius, dtype=float)), bins.shape)
    coords = np.column_stack([np.round(lon, COORD_DECIMALS), np.round(lat, COORD_DECIMALS)])
    features = []
    keys = pd.DataFrame({"bin": bins, "radius": radii})
    for (b, r), idx in keys.groupby(["bin", "radius"], sort=True).indices.items():
        features.append(
            {
                "type": "Feature",
                "properties": {
                    "style": {
                        "radius": float(r),
                        "color": PALETTE[b],
                        "fillColor": PALETTE[b],
                        "fillOpacity": 0.85,
                        "weight": 0,
                    }
                },
                "geometry": {"type": "MultiPoint", "coordinates": coords[idx].tolist()},
            }
        )
    return {"type": "FeatureCollection", "features": features}


def point_features(df: pd.DataFrame, style: Callable[[pd.Series], dict], props: list[str]) -> dict:
    """GeoJSON with one ``Point`` feature per row (for clickable peaks and sources)."""
    features = []
    for _, row in df.iterrows():
        properties = {k: _jsonable(row[k]) for k in props if k in row}
        properties["style"] = style(row)
        features.append(
            {
                "type": "Feature",
                "properties": properties,
                "geometry": {
                    "type": "Point",
                    "coordinates": [
                        round(float(row["longitude"]), COORD_DECIMALS),
                        round(float(row["latitude"]), COORD_DECIMALS),
                    ],
                },
            }
        )
    return {"type": "FeatureCollection", "features": features}


def _jsonable(value: object) -> object:
    if isinstance(value, np.generic):
        return value.item()
    if isinstance(value, pd.Timestamp):
        return value.isoformat()
    return value


def source_radius(emission_t_per_yr: np.ndarray) -> np.ndarray:
    """Marker radius (pixels) growing with the square root of the emission (area ∝ emission)."""
    mt = np.asarray(emission_t_per_yr, dtype=float) / 1e6
    return np.clip(2.0 + 2.0 * np.sqrt(np.nan_to_num(mt)), 2.0, 14.0)


def colour_bar(title: str, vmin: float, vmax: float) -> str:
    """HTML legend: a gradient over :data:`PALETTE` with its limits."""
    stops = ", ".join(PALETTE)
    return (
        f"<div class='oco2-colourbar'><b>{title}</b><br>"
        f"<div style='width:150px;height:10px;background:linear-gradient(to right, {stops})'>"
        f"</div><span>{vmin:.1f}</span><span style='float:right'>{vmax:.1f}</span></div>"
    )


#: Inventory emissions shown in the source-size scale of the legends, Mt CO2/yr.
LEGEND_SOURCE_MT = (1.0, 5.0, 20.0)


def _dot(radius: float, fill: str, stroke: str = "#202020", opacity: float = 0.9) -> str:
    size = 2 * radius + 2
    return (
        f"<svg width='{size:.0f}' height='{size:.0f}' style='vertical-align:middle'>"
        f"<circle cx='{size / 2:.1f}' cy='{size / 2:.1f}' r='{radius:.1f}' fill='{fill}' "
        f"fill-opacity='{opacity}' stroke='{stroke}' stroke-width='1'/></svg>"
    )


def source_scale() -> str:
    """HTML: source circles sized as on the map for :data:`LEGEND_SOURCE_MT`."""
    radii = source_radius(np.array(LEGEND_SOURCE_MT) * 1e6)
    return " ".join(
        f"{_dot(r, '#ffffff', opacity=0.7)}{mt:g}"
        for r, mt in zip(radii, LEGEND_SOURCE_MT, strict=True)
    )


def map_legend(vmin: float, vmax: float) -> str:
    """HTML legend of the orbit map: XCO2 colours, peaks, sources by size, wind, window."""
    line = "<svg width='26' height='10' style='vertical-align:middle'>{}</svg>"
    window = line.format(
        "<line x1='0' y1='5' x2='26' y2='5' stroke='#ff2d55' stroke-width='8' opacity='0.35'/>"
    )
    wind = line.format(
        "<line x1='0' y1='5' x2='24' y2='5' stroke='#0d47a1' stroke-width='2'/>"
        "<polyline points='18,1 24,5 18,9' fill='none' stroke='#0d47a1' stroke-width='2'/>"
    )
    return (
        "<div class='oco2-legend'>"
        f"{colour_bar('XCO2 (ppm)', vmin, vmax)}"
        f"{_dot(6, '#e53935', '#000000')} peak passed &nbsp;"
        f"{_dot(6, '#9e9e9e', '#000000')} rejected<br>"
        f"sources (Mt CO₂/yr): {source_scale()}<br>"
        f"{wind} wind ({WIND_ARROW_KM_PER_M_PER_S:g} km per m/s) &nbsp;{window} fit window"
        "</div>"
    )


def view_of(
    lat: np.ndarray,
    lon: np.ndarray,
    width_px: int = 640,
    height_px: int = 460,
    min_span_deg: float = 0.5,
) -> tuple[tuple[float, float], int]:
    """Centre (lat, lon) and Web-Mercator zoom level that show all the points.

    The view spans at least ``min_span_deg`` degrees around them.

    Computed here rather than with ``Map.fit_bounds``, which needs a connected
    browser and is lost when the page is rendered from a preheated kernel.
    """
    lat = np.asarray(lat, dtype=float)
    lon = np.asarray(lon, dtype=float)
    south, north = float(np.min(lat)), float(np.max(lat))
    west, east = float(np.min(lon)), float(np.max(lon))

    def mercator(phi: float) -> float:
        return float(np.degrees(np.log(np.tan(np.pi / 4 + np.radians(np.clip(phi, -85, 85)) / 2))))

    span_x = max(east - west, min_span_deg)
    span_y = max(mercator(north) - mercator(south), min_span_deg)
    # A 256-pixel tile spans 360 degrees at zoom 0.
    zoom = min(np.log2(width_px * 360 / (256 * span_x)), np.log2(height_px * 360 / (256 * span_y)))
    centre = (0.5 * (south + north), 0.5 * (west + east))
    return centre, int(np.clip(np.floor(zoom), 1, 12))


def points_layer(name: str) -> L.GeoJSON:
    """An empty GeoJSON layer drawing points as circles styled per feature.

    It starts as an empty FeatureCollection, not ``{}``: Leaflet rejects ``{}``, and
    a layer view created before its first data arrive would fail.
    """
    return L.GeoJSON(
        data={"type": "FeatureCollection", "features": []}, point_style={"radius": 3}, name=name
    )


def base_map(basemap: bool = True, **kwargs: object) -> L.Map:
    """A canvas-rendered map with the packaged outlines, plus OpenStreetMap tiles if asked.

    Without internet the tiles fail fast and the outlines remain; with internet the
    usual basemap shows beneath them.
    """
    layers: tuple = (L.basemap_to_tiles(L.basemaps.OpenStreetMap.Mapnik),) if basemap else ()
    m = L.Map(
        layers=layers,
        center=(0.0, 0.0),
        zoom=3,
        prefer_canvas=True,
        scroll_wheel_zoom=True,
        layout=W.Layout(height="460px", width="100%"),
        **kwargs,
    )
    m.add(coastlines_layer())
    m.attribution_control = True
    return m


@cache
def coastlines_layer() -> L.GeoJSON:
    """The outlines' layer, one widget shared by every map of the process (kernel).

    Each map draws its own view of it, and its 170 kB of GeoJSON go to the page once,
    not once per map (the orbit, catalogue and sources maps sent 510 kB of the page's
    900 kB).
    """
    return L.GeoJSON(
        data=coastlines(),
        style={"color": "#555555", "weight": 1, "opacity": 0.8, "fill": False},
        name="coastlines and borders (Natural Earth)",
    )


class OrbitMap:
    """Map of one orbit: soundings, window handle and stretch, peaks, sources, wind.

    Parameters
    ----------
    on_release : callable(lat, lon)
        Called with the handle's position (degrees) when a drag ends.
    on_peak_click : callable(peak_id)
        Called when a peak marker is clicked.
    basemap : bool
        Add OpenStreetMap tiles beneath the packaged outlines.
    """

    def __init__(
        self,
        on_release: Callable[[float, float], None],
        on_peak_click: Callable[[str], None],
        basemap: bool = True,
    ) -> None:
        self._on_release = on_release
        self._moving = False
        self.map = base_map(basemap)
        self.map.add_class("oco2-map")
        self.soundings = points_layer("XCO2 soundings")
        self.sources = points_layer("known sources")
        self.peaks = points_layer("detected peaks")
        self.stretch = L.Polyline(
            locations=[], color="#ff2d55", weight=16, opacity=0.35, fill=False, name="window"
        )
        self.wind = L.Polyline(
            locations=[], color="#0d47a1", weight=3, opacity=0.9, fill=False, name="wind"
        )
        self.chosen = L.CircleMarker(
            location=(0.0, 0.0), radius=14, color="#ff9500", weight=4, opacity=0.0, fill=False
        )
        self.handle = L.Marker(location=(0.0, 0.0), draggable=True, title="fit window: drag me")
        for layer in (
            self.sources,
            self.soundings,
            self.stretch,
            self.peaks,
            self.wind,
            self.chosen,
            self.handle,
        ):
            self.map.add(layer)
        self.legend = W.HTML()
        self.legend.add_class("oco2-map-legend")
        self.map.add(L.WidgetControl(widget=self.legend, position="bottomleft"))
        self.map.add(L.LayersControl(position="topright"))
        self.truth = points_layer("true plumes (simulated)")
        self.map.add(self.truth)
        self.handle.observe(self._handle_moved, "location")
        self.peaks.on_click(lambda properties=None, **_: on_peak_click(properties["peak_id"]))

    def _handle_moved(self, change: dict) -> None:
        if not self._moving:
            lat, lon = change["new"]
            self._on_release(float(lat), float(lon))

    def show_soundings(self, orbit: pd.DataFrame) -> None:
        """Draw the orbit's soundings coloured by XCO2 and zoom to them."""
        vmin, vmax = colour_limits(orbit["xco2"].to_numpy())
        self.soundings.data = binned_points(
            orbit["latitude"].to_numpy(),
            orbit["longitude"].to_numpy(),
            orbit["xco2"].to_numpy(),
            vmin,
            vmax,
        )
        self.legend.value = map_legend(vmin, vmax)

    def zoom_to(
        self, lat: np.ndarray, lon: np.ndarray, centre: tuple[float, float] | None = None
    ) -> None:
        """Show all the given points (degrees), centred on ``centre`` (lat, lon) if given.

        Centring on the window's handle keeps it in the middle of the map, on screen.
        """
        if len(lat):
            middle, zoom = view_of(lat, lon)
            self.map.center, self.map.zoom = centre or middle, zoom

    def show_window(
        self,
        centre: tuple[float, float],
        stretch: np.ndarray,
        wind_m_per_s: tuple[float, float] | None,
    ) -> None:
        """Move the handle, highlight the window's track and draw the wind arrow.

        Parameters
        ----------
        centre : (lat, lon)
            The sounding at the window centre, degrees (the handle goes there).
        stretch : ndarray (n, 2)
            Ordered (lat, lon) points of the track inside the window, degrees.
        wind_m_per_s : (u, v) or None
            Eastward and northward wind at the centre, m/s.
        """
        self._moving = True
        try:
            self.handle.location = (float(centre[0]), float(centre[1]))
        finally:
            self._moving = False
        self.stretch.locations = np.round(stretch, COORD_DECIMALS).tolist()
        self.wind.locations = wind_arrow(centre, wind_m_per_s)

    def show_peaks(self, peaks: pd.DataFrame) -> None:
        """Draw the orbit's detected peaks (red: passed, grey: rejected)."""
        self.peaks.data = point_features(
            peaks,
            lambda row: {
                "radius": 7,
                "color": "#000000",
                "weight": 1,
                "fillColor": "#e53935" if row["passed"] else "#9e9e9e",
                "fillOpacity": 0.9,
            },
            ["peak_id", "delta_ppm", "passed"],
        )

    def show_sources(self, sources: pd.DataFrame) -> None:
        """Draw known sources as white circles sized by emission."""
        radius = source_radius(sources["emission_t_per_yr"].to_numpy())
        styled = sources.assign(_radius=radius)
        self.sources.data = point_features(
            styled,
            lambda row: {
                "radius": float(row["_radius"]),
                "color": "#202020",
                "weight": 1,
                "fillColor": "#ffffff",
                "fillOpacity": 0.7,
            },
            ["source_id", "emission_t_per_yr"],
        )

    def show_truth(self, truth: pd.DataFrame) -> None:
        """Mark the true plumes of a simulated orbit (green diamonds); empty hides them."""
        crossings = truth.rename(
            columns={"crossing_latitude": "latitude", "crossing_longitude": "longitude"}
        )
        self.truth.data = point_features(
            crossings,
            lambda _row: {
                "radius": 9,
                "color": "#00c853",
                "weight": 3,
                "fill": False,
            },
            ["source_id", "delta_ppm"],
        )

    def highlight(self, lat: float | None, lon: float | None) -> None:
        """Ring one chosen source (``None`` hides the ring)."""
        if lat is None or lon is None:
            self.chosen.opacity = 0.0
            return
        self.chosen.location = (float(lat), float(lon))
        self.chosen.opacity = 1.0


def wind_arrow(
    centre: tuple[float, float], wind_m_per_s: tuple[float, float] | None
) -> list[list[list[float]]]:
    """Polyline (shaft + two barbs) pointing where the wind blows to, from the centre."""
    if wind_m_per_s is None or not np.all(np.isfinite(wind_m_per_s)):
        return []
    u, v = (float(w) for w in wind_m_per_s)
    speed = float(np.hypot(u, v))
    if speed == 0.0:
        return []
    heading = float(np.degrees(np.arctan2(u, v)) % 360.0)
    length_km = WIND_ARROW_KM_PER_M_PER_S * speed
    lat0, lon0 = centre
    tip = destination(lat0, lon0, heading, length_km)
    barbs = [destination(tip[0], tip[1], heading + 180.0 + a, 0.3 * length_km) for a in (-25, 25)]
    tip_pt = [float(tip[0]), float(tip[1])]
    return [
        [[float(lat0), float(lon0)], tip_pt],
        [tip_pt, [float(barbs[0][0]), float(barbs[0][1])]],
        [tip_pt, [float(barbs[1][0]), float(barbs[1][1])]],
    ]
