"""Where things are: great-circle distance, the nearest cameras to a point, camera
clusters for the map, and the wall's scope in the region tree.

``CameraGrid`` buckets cameras into cells of a fixed size in degrees. A query walks
rings of cells outward from the point and stops as soon as nothing outside the
rings can be nearer than the n-th camera found (a lower bound on the distance to
the rings' edge), so the nearest three of 77,000 cost a few dozen distance
computations, not 77,000. Cells also add up into clusters, level by level (a level-k
cluster is 2^k × 2^k cells), which is what the map draws when zoomed out.

Pure Python: the panels and the composition root feed it from the WallState.
"""

from __future__ import annotations

import math
import time
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

EARTH_RADIUS_M = 6_371_008.8  # mean radius (IUGG)
PRECOMPUTED_LEVELS = 24  # cluster levels a re-index computes ahead (fewer once one cluster is left)


def distance_m(lon1: float, lat1: float, lon2: float, lat2: float) -> float:
    """Great-circle distance in metres (haversine; within 0.5 % of the ellipsoid)."""
    p1, p2 = math.radians(lat1), math.radians(lat2)
    dp = p2 - p1
    dl = math.radians(lon2 - lon1)
    a = math.sin(dp / 2) ** 2 + math.cos(p1) * math.cos(p2) * math.sin(dl / 2) ** 2
    return 2 * EARTH_RADIUS_M * math.asin(min(1.0, math.sqrt(a)))


def _to_meridian_m(lat: float, dlon: float) -> float:
    """Shortest distance from a point to a meridian ``dlon`` degrees away (≤ 90°)."""
    if dlon >= 90:
        return math.pi / 2 * EARTH_RADIUS_M
    return EARTH_RADIUS_M * math.asin(
        min(1.0, abs(math.cos(math.radians(lat)) * math.sin(math.radians(dlon))))
    )


def inside(ring: Sequence[Sequence[float]], lon: float, lat: float) -> bool:
    """Is the point inside the polygon ``ring`` ([lon, lat] vertices; even–odd rule)?"""
    hit = False
    n = len(ring)
    for i in range(n):
        x1, y1 = ring[i - 1][0], ring[i - 1][1]
        x2, y2 = ring[i][0], ring[i][1]
        if (y1 > lat) != (y2 > lat) and lon < x1 + (lat - y1) * (x2 - x1) / (y2 - y1):
            hit = not hit
    return hit


def location(item: Mapping[str, Any]) -> tuple[float, float] | None:
    """``(lon, lat)`` of a camera or incident, or None when it has no usable one."""
    loc = item.get("location")
    if not isinstance(loc, Mapping):
        return None
    lon, lat = loc.get("lon"), loc.get("lat")
    if not isinstance(lon, int | float) or not isinstance(lat, int | float):
        return None
    if not (-180 <= lon <= 180 and -90 <= lat <= 90) or math.isnan(lon) or math.isnan(lat):
        return None
    return float(lon), float(lat)


@dataclass(frozen=True, slots=True)
class Cluster:
    """Cameras of one cluster cell: how many, and their centroid."""

    lon: float
    lat: float
    count: int
    camera: str | None  # the camera's id when the cluster is a single camera


class CameraGrid:
    """A spatial index of cameras: nearest-n queries and clusters by level."""

    def __init__(self, cell_deg: float = 0.0025) -> None:
        self.cell = cell_deg  # ~250 m north–south: a handful of cameras per cell in a city
        self._cells: dict[tuple[int, int], dict[str, tuple[float, float]]] = {}
        self._where: dict[str, tuple[int, int]] = {}
        self._extent: tuple[int, int, int, int] | None = None  # min/max cell x, y ever used
        self._clusters: dict[int, dict[tuple[int, int], list[Any]]] = {}
        self.version = 0  # bumped on every change; the map keys its camera layer on it

    def __len__(self) -> int:
        return len(self._where)

    def _key(self, lon: float, lat: float) -> tuple[int, int]:
        inv = 1 / self.cell  # the same arithmetic as rebuild: a point lands in one cell
        return math.floor(lon * inv), math.floor(lat * inv)

    def rebuild(self, cameras: Mapping[str, Mapping[str, Any]]) -> None:
        for _ in self.rebuilding(cameras.items()):
            pass

    def rebuilding(
        self,
        items: Iterable[tuple[str, Mapping[str, Any] | None]],
        every: int = 500,
        retire: Callable[..., None] | None = None,
    ) -> Iterator[int]:
        """``rebuild`` in steps: yields after every ``every`` cameras (how many so far), so
        a caller can spread 77,000 over several turns of its loop. The grid answers from
        its old index until the last step, then takes the new one at once, handing the
        old one to ``retire`` if given (freeing it takes ~30 ms for 77,000)."""
        cells: dict[tuple[int, int], dict[str, tuple[float, float]]] = {}
        where: dict[str, tuple[int, int]] = {}
        inv = 1 / self.cell
        floor = math.floor
        n = 0
        for cid, cam in items:
            n += 1
            if n % every == 0:
                yield n
            try:  # the common case inline (a full catalogue is 77,000 of these)
                lon = cam["location"]["lon"]  # type: ignore[index]
                lat = cam["location"]["lat"]  # type: ignore[index]
                if not (-180 <= lon <= 180 and -90 <= lat <= 90):
                    continue
                key = (floor(lon * inv), floor(lat * inv))
            except (KeyError, TypeError):
                continue
            cell = cells.get(key)
            if cell is None:
                cell = cells[key] = {}
            cell[cid] = (float(lon), float(lat))
            where[cid] = key
        # the clusters the map draws, level by level, before the new index is taken: a
        # first map paint would otherwise group the whole catalogue in one go
        base: dict[tuple[int, int], list[Any]] = {}
        x0 = y0 = math.inf
        x1 = y1 = -math.inf
        for m, (key, cell) in enumerate(cells.items(), 1):
            if m % every == 0:
                yield n
            x0, y0, x1, y1 = min(x0, key[0]), min(y0, key[1]), max(x1, key[0]), max(y1, key[1])
            base[key] = _cluster_of(cell)
        tables = {0: base}
        while len(tables[len(tables) - 1]) > 1 and len(tables) < PRECOMPUTED_LEVELS:
            yield n
            tables[len(tables)] = _coarser(tables[len(tables) - 1])
        old = (self._cells, self._where, self._clusters)
        self._cells, self._where = cells, where
        self._extent = (int(x0), int(y0), int(x1), int(y1)) if cells else None
        self._clusters = tables
        self.version += 1
        if retire is not None:  # the old index let go of elsewhere, in slices
            retire(*old)

    def update(self, cameras: Mapping[str, Mapping[str, Any]], ids: Iterable[str]) -> None:
        """Re-index ``ids`` from ``cameras`` (moved, added or removed)."""
        moved = False
        for cid in ids:
            cam = cameras.get(cid)
            loc = location(cam) if cam is not None else None
            key = self._where.get(cid)
            if key is not None and loc is not None and self._cells[key].get(cid) == loc:
                continue  # a status change: the index and the clusters stay as they are
            self._drop(cid)
            self._put(cid, loc)
            moved = True
        if moved:
            self._changed()

    def _changed(self) -> None:
        self._clusters.clear()
        self.version += 1

    def _put(self, cid: str, loc: tuple[float, float] | None) -> None:
        if loc is None:
            return
        key = self._key(*loc)
        self._cells.setdefault(key, {})[cid] = loc
        self._where[cid] = key
        if self._extent is None:
            self._extent = (key[0], key[1], key[0], key[1])
        else:
            x0, y0, x1, y1 = self._extent
            self._extent = (min(x0, key[0]), min(y0, key[1]), max(x1, key[0]), max(y1, key[1]))

    def _drop(self, cid: str) -> None:
        key = self._where.pop(cid, None)
        if key is not None:
            cell = self._cells[key]
            del cell[cid]
            if not cell:
                del self._cells[key]

    def bounds(self) -> tuple[float, float, float, float] | None:
        """(lon0, lat0, lon1, lat1) of the cells in use, or None when empty."""
        if self._extent is None:
            return None
        c = self.cell
        x0, y0, x1, y1 = self._extent
        return x0 * c, y0 * c, (x1 + 1) * c, (y1 + 1) * c

    def cameras_in(
        self, box: tuple[float, float, float, float]
    ) -> list[tuple[str, tuple[float, float]]]:
        """Every camera in the cells overlapping ``box``: ``[(id, (lon, lat))]``."""
        x0, y0 = self._key(box[0], box[1])
        x1, y1 = self._key(box[2], box[3])
        out: list[tuple[str, tuple[float, float]]] = []
        if (x1 - x0 + 1) * (y1 - y0 + 1) < len(self._cells):
            for kx in range(x0, x1 + 1):
                for ky in range(y0, y1 + 1):
                    cell = self._cells.get((kx, ky))
                    if cell:
                        out.extend(cell.items())
        else:
            for (kx, ky), cell in self._cells.items():
                if x0 <= kx <= x1 and y0 <= ky <= y1:
                    out.extend(cell.items())
        return out

    # --- nearest ------------------------------------------------------------------

    def nearest(
        self,
        lon: float,
        lat: float,
        n: int = 3,
        accept: Callable[[str], bool] | None = None,
        max_m: float | None = None,
    ) -> list[tuple[float, str]]:
        """The ``n`` nearest cameras that ``accept`` (e.g. online ones): ``[(metres, id)]``,
        nearest first, ties by id; fewer when the catalogue (or ``max_m``) runs out."""
        if n <= 0 or self._extent is None:
            return []
        cx, cy = self._key(lon, lat)
        x0, y0, x1, y1 = self._extent
        best: list[tuple[float, str]] = []
        worst = math.inf  # the n-th best distance so far
        ring = 0
        reach = max(cx - x0, x1 - cx, cy - y0, y1 - cy)  # beyond this ring no cell is used
        while ring <= reach:
            for key in _ring(cx, cy, ring, self._extent):
                cell = self._cells.get(key)
                if not cell:
                    continue
                for cid, (clon, clat) in cell.items():
                    if accept is not None and not accept(cid):
                        continue
                    d = distance_m(lon, lat, clon, clat)
                    if len(best) < n or (d, cid) < best[-1]:
                        best.append((d, cid))
                        best.sort()
                        del best[n:]
                        if len(best) == n:
                            worst = best[-1][0]
            # everything not yet looked at lies outside the box of rings 0..ring
            edge = self._outside_m(lon, lat, cx, cy, ring)
            if max_m is not None and edge > max_m:
                break
            if len(best) == n and edge > worst:
                break
            ring += 1
        if max_m is not None:
            best = [b for b in best if b[0] <= max_m]
        return best

    def _outside_m(self, lon: float, lat: float, cx: int, cy: int, ring: int) -> float:
        """A lower bound on the distance from (lon, lat) to any point outside the box."""
        c = self.cell
        west, east = (cx - ring) * c, (cx + ring + 1) * c
        south, north = (cy - ring) * c, (cy + ring + 1) * c
        k = math.pi / 180 * EARTH_RADIUS_M
        return min(
            (north - lat) * k,  # the shortest way to a parallel runs along the meridian
            (lat - south) * k,
            _to_meridian_m(lat, east - lon),
            _to_meridian_m(lat, lon - west),
        )

    # --- clusters -----------------------------------------------------------------

    def clusters(
        self, level: int, box: tuple[float, float, float, float] | None = None
    ) -> list[Cluster]:
        """Cameras grouped in cells of 2^level × 2^level grid cells, within ``box``
        ``(lon0, lat0, lon1, lat1)`` if given. Computed once per level and change."""
        table = self._clusters.get(level)
        if table is None:
            table = self._clusters[level] = self._group(level)
        span = self.cell * (1 << level)
        out = []
        if box is not None:
            kx0, ky0 = math.floor(box[0] / span), math.floor(box[1] / span)
            kx1, ky1 = math.floor(box[2] / span), math.floor(box[3] / span)
            if (kx1 - kx0 + 1) * (ky1 - ky0 + 1) < len(table):  # a view smaller than the index
                for kx in range(kx0, kx1 + 1):
                    for ky in range(ky0, ky1 + 1):
                        got = table.get((kx, ky))
                        if got is not None:
                            out.append(Cluster(got[1] / got[0], got[2] / got[0], got[0], got[3]))
                return out
        for (kx, ky), (count, slon, slat, one) in table.items():
            if box is not None and not (kx0 <= kx <= kx1 and ky0 <= ky <= ky1):
                continue
            out.append(Cluster(slon / count, slat / count, count, one))
        return out

    def _group(self, level: int) -> dict[Any, list[Any]]:
        if level > 0:
            finer = self._clusters.get(level - 1)
            if finer is None:
                finer = self._clusters[level - 1] = self._group(level - 1)
            return _coarser(finer)
        return {key: _cluster_of(cell) for key, cell in self._cells.items()}


def _cluster_of(cell: Mapping[str, tuple[float, float]]) -> list[Any]:
    """One grid cell as a level-0 cluster: [count, sum of lon, sum of lat, its only id]."""
    slon = sum(p[0] for p in cell.values())
    slat = sum(p[1] for p in cell.values())
    return [len(cell), slon, slat, next(iter(cell)) if len(cell) == 1 else None]


def _coarser(finer: Mapping[tuple[int, int], list[Any]]) -> dict[tuple[int, int], list[Any]]:
    """The clusters of the next level up: 2 × 2 of ``finer``'s added up."""
    out: dict[tuple[int, int], list[Any]] = {}
    for (kx, ky), (count, slon, slat, one) in finer.items():
        acc = out.get((kx >> 1, ky >> 1))
        if acc is None:
            out[(kx >> 1, ky >> 1)] = [count, slon, slat, one]
        else:
            acc[0] += count
            acc[1] += slon
            acc[2] += slat
            acc[3] = None
    return out


def _ring(cx: int, cy: int, r: int, extent: tuple[int, int, int, int]) -> Iterable[tuple[int, int]]:
    """The cells at Chebyshev distance ``r`` from (cx, cy) that lie within ``extent``."""
    x0, y0, x1, y1 = extent
    if r == 0:
        yield cx, cy
        return
    xs = range(max(cx - r, x0), min(cx + r, x1) + 1)
    for y in (cy - r, cy + r):
        if y0 <= y <= y1:
            for x in xs:
                yield x, y
    ys = range(max(cy - r + 1, y0), min(cy + r - 1, y1) + 1)
    for x in (cx - r, cx + r):
        if x0 <= x <= x1:
            for y in ys:
                yield x, y


def nearest_brute(
    cameras: Mapping[str, Mapping[str, Any]],
    lon: float,
    lat: float,
    n: int = 3,
    accept: Callable[[str], bool] | None = None,
) -> list[tuple[float, str]]:
    """The same answer as ``CameraGrid.nearest`` by looking at every camera (tests, bench)."""
    found = []
    for cid, cam in cameras.items():
        loc = location(cam)
        if loc is None or (accept is not None and not accept(cid)):
            continue
        found.append((distance_m(lon, lat, *loc), cid))
    found.sort()
    return found[:n]


# --- scope ------------------------------------------------------------------------


class Scope:
    """The regions a wall (or a drill-down) covers: a region code and everything under it.

    An empty code is the whole backend (no filter). Region membership follows the
    ``parent`` links of the region tree, so codes need not share prefixes."""

    def __init__(self, code: str, regions: Mapping[str, Mapping[str, Any]]) -> None:
        self.code = code
        self._inside: set[str] | None = None
        if code:
            children: dict[str, list[str]] = {}
            for rc, r in regions.items():
                parent = r.get("parent")
                if isinstance(parent, str):
                    children.setdefault(parent, []).append(rc)
            inside = {code}
            todo = [code]
            while todo:
                for child in children.get(todo.pop(), ()):
                    if child not in inside:
                        inside.add(child)
                        todo.append(child)
            self._inside = inside

    @property
    def everything(self) -> bool:
        return self._inside is None

    def covers(self, region: object) -> bool:
        """Whether an item tagged with ``region`` belongs to the scope (an untagged one
        does only when there is no scope)."""
        if self._inside is None:
            return True
        return isinstance(region, str) and region in self._inside

    def regions(self) -> set[str] | None:
        return None if self._inside is None else set(self._inside)


# --- the live catalogue -----------------------------------------------------------


class CameraLocator:
    """The camera index kept in step with a WallState: moved, added or removed cameras
    are re-indexed as they change. A snapshot re-indexes everything: in steps of a few
    milliseconds (``step``, which the wall's hub calls each tick: 77,000 cameras take
    200–300 ms to index, far too long for one turn of a GUI thread), answering from the
    old index meanwhile; at once where there is no old index to answer from."""

    def __init__(
        self, state: Any, scope: Callable[[], Scope] | None = None
    ) -> None:  # a WallState (kept loose: no import cycle)
        self.state = state
        self.scope = scope  # the wall's scope: cameras of other regions are not indexed
        self._grid = CameraGrid()
        self._full = True  # a re-index of everything is due
        self._build: Iterator[int] | None = None  # ... and under way
        self._pending: set[str] = set()  # cameras changed since (kept through a re-index)
        self.retire: Callable[..., None] | None = None  # where an old index goes (Release)
        self._unsubscribe = state.subscribe(self._changed)

    def _changed(self, changes: list[Any]) -> None:
        for ch in changes:
            if ch.kind != "cameras":
                continue
            if ch.ids is None:
                self._full, self._build = True, None  # a re-index under way starts over
                self._pending.clear()
            else:
                self._pending.update(ch.ids)

    def _catalogue(self) -> Iterator[tuple[str, Any]]:
        """Every camera, each read as it is when the re-index reaches it (the ids are
        taken at the start; changes meanwhile are in ``_pending``); one out of scope as
        ``None``, which the index skips — still counted, so a step's clock is looked at
        as often in a street's wall as in the district's."""
        scope = self.scope() if self.scope is not None else None
        covers = None if scope is None or scope.everything else scope.covers
        ids = list(self.state.cameras)
        for cid in ids:
            cam = self.state.cameras.get(cid)
            if cam is not None and covers is not None and not covers(cam.get("region")):
                cam = None
            yield cid, cam

    @property
    def indexing(self) -> bool:
        """A re-index is due or under way."""
        return self._full or self._build is not None

    def step(self, budget_s: float) -> bool:
        """Work on a due re-index for about ``budget_s``; True when none is left."""
        if self._full:
            self._full = False
            self._build = self._grid.rebuilding(self._catalogue(), retire=self.retire)
        if self._build is None:
            return True
        deadline = time.perf_counter() + budget_s
        for _ in self._build:
            if time.perf_counter() >= deadline:
                return False
        self._build = None
        return True

    @property
    def grid(self) -> CameraGrid:
        """The index to ask (nearest cameras): the old one while a re-index is under way,
        unless that is empty — then the re-index is finished now, to answer at all."""
        if self.indexing and not len(self._grid):
            self.step(math.inf)
        return self.shown

    @property
    def shown(self) -> CameraGrid:
        """The index to draw (the map): as it is, never waiting for a re-index — the map
        shows the cameras a few ticks later rather than stall the wall to show them now."""
        if not self.indexing and self._pending:
            cams = self.state.cameras
            if self.scope is not None:
                scope = self.scope()
                if not scope.everything:
                    cams = _Filtered(cams, scope.covers)
            self._grid.update(cams, self._pending)
            self._pending.clear()
        return self._grid

    def online(self, cid: str) -> bool:
        cam = self.state.cameras.get(cid)
        return cam is not None and cam.get("status") == "online"

    def nearest_online(self, lon: float, lat: float, n: int = 3) -> list[str]:
        return [cid for _, cid in self.grid.nearest(lon, lat, n, accept=self.online)]

    def close(self) -> None:
        self._unsubscribe()


class _Filtered(Mapping[str, Any]):
    """The cameras whose region is in scope (a view, not a copy)."""

    def __init__(self, cameras: Mapping[str, Any], covers: Callable[[object], bool]) -> None:
        self._cams, self._covers = cameras, covers

    def __getitem__(self, cid: str) -> Any:
        cam = self._cams[cid]
        if not self._covers(cam.get("region")):
            raise KeyError(cid)
        return cam

    def get(self, cid: str, default: Any = None) -> Any:
        try:
            return self[cid]
        except KeyError:
            return default

    def __iter__(self) -> Any:
        return (cid for cid, cam in self._cams.items() if self._covers(cam.get("region")))

    def __len__(self) -> int:
        return sum(1 for _ in self)

    def items(self) -> Any:
        return ((cid, cam) for cid, cam in self._cams.items() if self._covers(cam.get("region")))
