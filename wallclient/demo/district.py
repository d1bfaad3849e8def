"""A synthetic but believable district for the reference backend, deterministic by seed.

Pure Python: regions (district · street · area · village · grid, with polygons),
cameras with GB/T 28181 ids, video presets over real scenarios, 349 indicators in
5 categories and 27 items, and incidents from 12345 / 110 / grid / iot / video_ai
that move through their statuses with deadlines.
"""

from __future__ import annotations

import math
import random
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

from wallclient import geo
from wallclient.protocol import JSON, format_time

Box = tuple[float, float, float, float]  # lon0, lat0, lon1, lat1

DISTRICT_CODE = "310114"
DISTRICT_NAME = "嘉定区"

STREETS = [
    "南翔镇", "江桥镇", "安亭镇", "马陆镇", "徐行镇", "华亭镇",
    "外冈镇", "嘉定镇街道", "新成路街道", "真新街道", "菊园新区", "嘉定工业区",
]  # fmt: skip
AREAS_PER_STREET = [5, 5, 5, 4, 4, 4, 4, 5, 4, 4, 4, 5]  # 53 areas
ROADS = [
    "民主街", "沪宜公路", "博园路", "叶城路", "城北路", "胜辛路", "墨玉路", "曹安公路",
    "嘉松北路", "洪德路", "裕民南路", "塔城路", "清河路", "金沙江西路", "丰庄路", "宝安公路",
]  # fmt: skip
SPOTS = ["路口", "东侧", "西侧", "南口", "北口", "地铁站", "学校门口", "菜场", "停车场", "桥下"]
VILLAGE_SUFFIX = ["村", "居委", "社区", "村", "居委"]

SCENARIOS = {
    "防汛防台": True, "大客流": False, "渣土车治理": False, "群租整治": False, "噪音扰民": False,
    "道路交通": False, "危化品运输": True, "重大活动保障": False, "消防安全": True,
    "工地扬尘": False, "河道巡查": False, "校园周边": False, "突发事件处置": True, "夜间巡查": False,
}  # fmt: skip

CATEGORIES = {
    "城市运行": ["供水", "供电", "燃气", "排水", "道路运行", "地下管网"],
    "公共安全": ["治安警情", "消防", "危化品", "人员密集场所", "建筑工地", "特种设备"],
    "生态环境": ["空气质量", "水环境", "噪声", "扬尘", "垃圾分类"],
    "交通出行": ["道路拥堵", "轨道交通", "公交运营", "停车", "渣土运输"],
    "民生服务": ["12345热线", "网格巡查", "医疗资源", "养老服务", "市场供应"],
}  # 5 categories, 27 items
# (metric, unit, direction, base, warn, alarm, decimals)
METRICS: list[tuple[str, str, str, float, float, float, int]] = [
    ("压力", "MPa", "below", 0.32, 0.25, 0.20, 2),
    ("负荷率", "%", "above", 62, 80, 90, 1),
    ("告警数", "个", "above", 3, 8, 15, 0),
    ("在线率", "%", "below", 98.5, 95, 90, 1),
    ("指数", "", "above", 45, 70, 85, 0),
    ("浓度", "μg/m³", "above", 35, 75, 115, 0),
    ("水位", "m", "above", 2.6, 3.2, 3.6, 2),
    ("工单量", "件/时", "above", 40, 80, 120, 0),
    ("处置率", "%", "below", 92, 85, 75, 1),
    ("平均时长", "分钟", "above", 18, 30, 45, 1),
    ("客流", "人次/时", "above", 4200, 7000, 9000, 0),
    ("事件数", "起", "above", 5, 12, 20, 0),
    ("覆盖率", "%", "below", 96, 90, 85, 1),
]
MAJORS = {
    "市容环境": ["占道经营", "乱张贴", "垃圾堆放", "违法广告", "绿化损坏"],
    "城市管理": ["违法搭建", "群租", "违规停车", "共享单车", "门责管理"],
    "公共安全": ["治安隐患", "消防隐患", "危险物品", "人员聚集"],
    "交通运输": ["道路拥堵", "渣土车", "非法营运", "交通设施"],
    "环境保护": ["噪音扰民", "扬尘污染", "水体污染", "油烟污染"],
    "住房保障": ["物业管理", "房屋漏水", "电梯故障"],
    "市政设施": ["道路破损", "窨井盖", "路灯故障", "排水不畅"],
    "应急管理": ["积水内涝", "树木倒伏", "燃气泄漏", "火情"],
    "社会治理": ["矛盾纠纷", "流浪乞讨", "特殊人群"],
    "民生服务": ["供水异常", "停电", "医疗服务"],
    "市场监管": ["食品安全", "价格投诉", "无证经营"],
    "防汛防台": ["河道水位", "泵站运行", "堤防隐患"],
    "消防安全": ["通道堵塞", "电动车充电", "设施损坏"],
}  # fmt: skip
SUBS = ["投诉", "举报", "求助", "隐患", "违规", "损坏", "堵塞", "咨询"]
SOURCES = [("12345", 0.45), ("grid", 0.25), ("110", 0.12), ("iot", 0.1), ("video_ai", 0.08)]
ARRIVE_M = 30.0  # a dispatched unit this close to its incident is on site
STATUS_NEXT = {
    "new": "dispatched",
    "dispatched": "arrived",
    "arrived": "controlled",
    "controlled": "closed",
}
DEADLINE_MIN = {"respond": 5, "arrive": 15, "control": 30, "track": 120}


@dataclass
class StreamUrls:
    """How camera stream URLs are formed: the demo media server's address."""

    host: str = "127.0.0.1"
    http_port: int = 8090
    rtsp_port: int = 8554
    rtsp_share: float = 0.5  # share of cameras whose streams are rtsp://

    def urls(self, cam_id: str, rtsp: bool) -> dict[str, str]:
        if rtsp:
            # Real cameras carry credentials in their URLs; the client must never show them.
            base = f"rtsp://admin:Demo-2026@{self.host}:{self.rtsp_port}/live/{cam_id}"
            return {"main": f"{base}/main", "sub": f"{base}/sub"}
        base = f"http://{self.host}:{self.http_port}/live/{cam_id}"
        return {"main": f"{base}/main.ts", "sub": f"{base}/sub.ts"}






Poly = list[tuple[float, float]]


def _clip(poly: Poly, axis: int, c: float, low: bool) -> Poly:
    """The part of a polygon on one side of the line coord[axis] = c (Sutherland–Hodgman
    against a half-plane: right for concave polygons too, whose parts it joins by
    zero-width seams)."""

    def keep(q: tuple[float, float]) -> bool:
        return q[axis] <= c if low else q[axis] >= c

    out: Poly = []
    for i, cur in enumerate(poly):
        prev = poly[i - 1]
        if keep(cur):
            if not keep(prev):
                out.append(_cross(prev, cur, axis, c))
            out.append(cur)
        elif keep(prev):
            out.append(_cross(prev, cur, axis, c))
    return out


def _cross(a: tuple[float, float], b: tuple[float, float], axis: int, c: float) -> tuple[float, float]:
    t = (c - a[axis]) / ((b[axis] - a[axis]) or 1e-12)
    return (a[0] + (b[0] - a[0]) * t, a[1] + (b[1] - a[1]) * t)


def _area(poly: Poly) -> float:
    return abs(sum(x1 * y2 - x2 * y1 for (x1, y1), (x2, y2) in zip(poly, poly[1:] + poly[:1], strict=True))) / 2


def _bbox_of(poly: Poly) -> Box:
    xs, ys = [q[0] for q in poly], [q[1] for q in poly]
    return min(xs), min(ys), max(xs), max(ys)




def _poly_split(poly: Poly, n: int, rng: random.Random) -> list[Poly]:
    """Cut a polygon into n parts of about equal area (each 0.85–1.15 of its share), by
    halving across its longer side again and again: every part lies inside the polygon,
    and the parts together are the polygon."""
    if n <= 1:
        return [poly]
    n1 = n // 2
    share = n1 / n * rng.uniform(0.85, 1.15)
    lon0, lat0, lon1, lat1 = _bbox_of(poly)
    wide = (lon1 - lon0) * 0.85 >= (lat1 - lat0)  # ~cos(31°): metres, not degrees
    axis, lo, hi = (0, lon0, lon1) if wide else (1, lat0, lat1)
    total = _area(poly) or 1e-12
    for _ in range(22):  # bisection on where to cut
        mid = (lo + hi) / 2
        if _area(_clip(poly, axis, mid, True)) / total < share:
            lo = mid
        else:
            hi = mid
    cut = (lo + hi) / 2
    first, second = _clip(poly, axis, cut, True), _clip(poly, axis, cut, False)
    if axis == 1:  # north first: reading order on a map
        first, second = second, first
    return _poly_split(first, n1, rng) + _poly_split(second, n - n1, rng)


def _polygon(poly: Poly) -> JSON:
    ring = [[round(x, 6), round(y, 6)] for x, y in poly]
    return {"type": "Polygon", "coordinates": [ring + ring[:1]]}




# seed → the regions cut for it, with the random state after: cutting takes ~1 s, and
# tests and benches build the same district many times in one process
_REGIONS: dict[int, tuple[Any, ...]] = {}


@dataclass
class District:
    """All the state of one synthetic district, and the events that change it."""

    seed: int = 7
    cameras_n: int = 360
    presets_n: int = 40
    incidents_n: int = 180
    live_cap: int = 10_000  # above this many live incidents, fewer new ones: a steady state
    streams: StreamUrls = field(default_factory=StreamUrls)
    wall_ids: tuple[str, ...] = ("wall-1",)
    regions: dict[str, JSON] = field(default_factory=dict)
    cameras: dict[str, JSON] = field(default_factory=dict)
    presets: dict[str, JSON] = field(default_factory=dict)
    indicators: dict[str, JSON] = field(default_factory=dict)
    incidents: dict[str, JSON] = field(default_factory=dict)
    layers: dict[str, JSON] = field(default_factory=dict)
    walls: dict[str, JSON] = field(default_factory=dict)
    units_n: int = 60
    pictures_base: str = ""  # where the picture server answers (wallclient.demo.pictures)
    units: dict[str, JSON] = field(default_factory=dict)

    def __post_init__(self) -> None:
        self.rng = random.Random(self.seed)
        self._boxes: dict[str, Box] = {}
        self._polys: dict[str, Poly] = {}
        self._villages: list[str] = []
        self._incident_no = 0
        self._live_ids: list[str] = []
        self._live_pos: dict[str, int] = {}
        self._make_regions()
        self._make_cameras()
        self._make_presets()
        self._make_indicators()
        self._make_layers()
        self._make_units()

    # --- construction -------------------------------------------------------------------

    def _region(self, code: str, name: str, level: str, parent: str | None, poly: Poly) -> None:
        self._boxes[code] = _bbox_of(poly)
        self._polys[code] = poly
        self.regions[code] = {
            "code": code, "name": name, "level": level, "parent": parent, "geometry": _polygon(poly),
        }  # fmt: skip

    def _make_regions(self) -> None:
        """嘉定区's real outline (wallclient.demo.ground), cut into its streets, areas,
        villages and grids by area (the parts follow the outline; they are not the real
        towns' borders)."""
        cached = _REGIONS.get(self.seed)
        if cached is not None:  # the same seed cuts the same way: done once per process
            regions, boxes, polys, villages, state = cached
            self.regions.update(regions)
            self._boxes.update(boxes)
            self._polys.update(polys)
            self._villages.extend(villages)
            self.rng.setstate(state)
            return
        self._cut_regions()
        _REGIONS[self.seed] = (dict(self.regions), dict(self._boxes), dict(self._polys),
                               list(self._villages), self.rng.getstate())  # fmt: skip

    def _cut_regions(self) -> None:
        from wallclient.demo.ground import outline

        rng = self.rng
        whole = outline()
        self._region(DISTRICT_CODE, DISTRICT_NAME, "district", None, whole)
        streets = _poly_split(whole, len(STREETS), rng)
        area_no = 0
        village_counts = self._village_counts()
        for s, (sname, sbox) in enumerate(zip(STREETS, streets, strict=True)):
            scode = f"{DISTRICT_CODE}{s + 101:03d}"
            self._region(scode, sname, "street", DISTRICT_CODE, sbox)
            for a, abox in enumerate(_poly_split(sbox, AREAS_PER_STREET[s], rng)):
                acode = f"{scode}{a + 1:02d}"
                self._region(acode, f"{sname}第{a + 1}片区", "area", scode, abox)
                nv = village_counts[area_no]
                area_no += 1
                for v, vbox in enumerate(_poly_split(abox, nv, rng)):
                    vcode = f"{acode}{v + 1:03d}"
                    road = ROADS[(s * 7 + a * 3 + v) % len(ROADS)]
                    vname = f"{road[:2]}{VILLAGE_SUFFIX[v % len(VILLAGE_SUFFIX)]}"
                    self._region(vcode, f"{sname}{vname}", "village", acode, vbox)
                    self._villages.append(vcode)
                    for g, gbox in enumerate(_poly_split(vbox, 2 + (v % 3), rng)):
                        self._region(
                            f"{vcode}{g + 1:02d}", f"{vname}第{g + 1}网格", "grid", vcode, gbox
                        )

    def _village_counts(self) -> list[int]:
        # 355 villages over 53 areas: 6 or 7 each, deterministic.
        counts = [6] * 53
        for i in range(355 - 6 * 53):
            counts[(i * 7) % 53] += 1
        return counts

    def _point_in(self, code: str) -> JSON:
        """A point inside a region (its polygon, not only its box)."""
        lon0, lat0, lon1, lat1 = self._boxes[code]
        poly = self._polys.get(code)
        r = self.rng
        for _ in range(30):
            lon = round(r.uniform(lon0 + (lon1 - lon0) * 0.05, lon1 - (lon1 - lon0) * 0.05), 6)
            lat = round(r.uniform(lat0 + (lat1 - lat0) * 0.05, lat1 - (lat1 - lat0) * 0.05), 6)
            if poly is None or geo.inside(poly, lon, lat):
                break
        return {"lon": lon, "lat": lat}

    def _street_of(self, code: str) -> str:
        return code[:9]

    def _make_cameras(self) -> None:
        rng = self.rng
        tags_pool = [
            "路口",
            "防汛",
            "大客流",
            "渣土车",
            "学校",
            "河道",
            "工地",
            "消防通道",
            "高空瞭望",
            "菜场",
        ]
        for n in range(self.cameras_n):
            village = self._villages[
                (n * 37 + rng.randrange(len(self._villages))) % len(self._villages)
            ]
            street = self.regions[self._street_of(village)]["name"]
            road = ROADS[rng.randrange(len(ROADS))]
            cam_id = (
                f"{DISTRICT_CODE}00001320{n + 1:06d}"  # 6+2+3+1+... = 20 digits, GB/T 28181 style
            )
            assert len(cam_id) == 20
            rtsp = rng.random() < self.streams.rtsp_share
            self.cameras[cam_id] = {
                "id": cam_id,
                "name": f"{street}{road}{SPOTS[n % len(SPOTS)]}{n % 97 + 1:02d}",
                "region": village,
                "location": self._point_in(village),
                "tags": rng.sample(tags_pool, 2),
                "streams": self.streams.urls(cam_id, rtsp),
                "ptz": rng.random() < 0.3 and n % 3 == 0,  # ~1 in 10: live panoramas cost
                "status": "offline" if rng.random() < 0.03 else "online",
            }
            self.cameras[cam_id].update(self._mounting(cam_id, bool(self.cameras[cam_id]["ptz"])))

    @staticmethod
    def _mounting(cam_id: str, ptz: bool) -> JSON:
        """Where a camera hangs and looks (its own random stream: the district's draws stay
        as they were): PTZ cameras' presets and position (wallclient.demo.ptz)."""
        r = random.Random(f"mount-{cam_id}")
        out: JSON = {"height_m": round(r.uniform(6, 25), 1)}
        if ptz:
            out["ptz_presets"] = [{"id": str(k + 1), "name": name}
                                  for k, name in enumerate(("全景", "路口", "河道", "入口"))]  # fmt: skip
            out["ptz_state"] = {"pan_deg": round(r.uniform(0, 360), 1), "tilt_deg": -8.0,
                                "zoom": 1.0, "fov_deg": 60.0}  # fmt: skip
        else:
            out["bearing_deg"] = round(r.uniform(0, 360), 1)
            out["fov_deg"] = round(r.uniform(55, 90), 1)
        return out

    def _make_presets(self) -> None:
        rng = self.rng
        cams = sorted(self.cameras)
        names = list(SCENARIOS)
        hotkeys = [f"F{i}" for i in range(1, 13)] + [str(i) for i in range(1, 10)]
        for n in range(self.presets_n):
            scenario = names[n % len(names)]
            emergency = SCENARIOS[scenario] and n % 2 == 0
            size = rng.choice([4, 6, 9, 9, 9, 12, 18, 24])
            street = STREETS[n % len(STREETS)]
            pid = f"P{n + 1:04d}"
            self.presets[pid] = {
                "id": pid,
                "name": f"{scenario}·{street}" + ("（应急）" if emergency else ""),
                "scenario": scenario,
                "emergency": emergency,
                "cameras": rng.sample(cams, min(size, len(cams))),
                "dwell_s": 15,
                "hotkey": hotkeys[n] if n < len(hotkeys) else None,
            }
        first = next(iter(self.presets))
        # the wall's first preset opens on a PTZ camera: the demo shows steering at once
        domes = [c for c in cams if self.cameras[c]["ptz"] and self.cameras[c]["status"] == "online"]
        shown = self.presets[first]["cameras"]
        if domes and not self.cameras[shown[0]]["ptz"]:
            dome = next((c for c in shown if c in domes), domes[0])
            if dome in shown:
                shown.remove(dome)
                shown.insert(0, dome)
            else:
                shown[0] = dome
        for wall in self.wall_ids:
            self.walls[wall] = {
                "wall": wall, "mode": "normal", "preset": first,
                "changed_by": "system", "changed_at": format_time(datetime.now().astimezone()),
            }  # fmt: skip

    def _make_indicators(self) -> None:
        rng = self.rng
        items = [(c, i) for c, its in CATEGORIES.items() for i in its]
        assert len(items) == 27
        t = format_time(datetime.now().astimezone())
        for k in range(349):
            cat, item = items[k % 27]
            metric = METRICS[(k // 27 + k) % len(METRICS)]
            name_, unit, direction, base, warn, alarm, decimals = metric
            street = STREETS[(k // 27) % len(STREETS)]
            iid = f"I{k + 1:03d}"
            value = base * rng.uniform(0.9, 1.1)
            self.indicators[iid] = {
                "id": iid,
                "name": f"{street}{item}{name_}",
                "category": cat,
                "item": item,
                "unit": unit,
                "direction": direction,
                "warn": warn,
                "alarm": alarm,
                "decimals": decimals,
                "value": round(value, decimals),
                "t": t,
                "region": f"{DISTRICT_CODE}{(k // 27) % len(STREETS) + 101:03d}",
            }
        self._base = {k: v["value"] for k, v in self.indicators.items()}

    def _make_layers(self) -> None:
        rng = self.rng
        feats = []
        for i in range(12):
            v = self._villages[rng.randrange(len(self._villages))]
            feats.append({
                "type": "Feature",
                "geometry": {"type": "Point", "coordinates": list(self._point_in(v).values())},
                "properties": {"name": f"防汛泵站{i + 1:02d}"},
            })  # fmt: skip
        self.layers["L-pumps"] = {
            "id": "L-pumps", "name": "防汛泵站", "kind": "facility",
            "features": {"type": "FeatureCollection", "features": feats},
        }  # fmt: skip
        # 蕴藻浜 across the district, west to east, meandering: the part inside the outline
        lon0, lat0, lon1, lat1 = self._boxes[DISTRICT_CODE]
        whole = self._polys[DISTRICT_CODE]
        river: list[list[float]] = []
        for i in range(81):
            lon = lon0 + (lon1 - lon0) * i / 80
            lat = lat0 + (lat1 - lat0) * (0.42 + 0.035 * math.sin(i / 6.0) + 0.015 * math.sin(i / 2.3))
            if geo.inside(whole, lon, lat):
                river.append([round(lon, 6), round(lat, 6)])
            elif len(river) > 1:
                break  # the first stretch inside
            else:
                river = []
        self.layers["L-rivers"] = {
            "id": "L-rivers", "name": "主要河道", "kind": "water",
            "features": {"type": "FeatureCollection", "features": [{
                "type": "Feature", "geometry": {"type": "LineString", "coordinates": river},
                "properties": {"name": "蕴藻浜"}}]},
        }  # fmt: skip

    # --- incidents ------------------------------------------------------------------------

    def _category(self) -> list[str]:
        rng = self.rng
        major = rng.choice(list(MAJORS))
        minor = rng.choice(MAJORS[major])
        return [major, minor, f"{minor}{rng.choice(SUBS)}"]

    def new_incident(self, at: datetime, priority: int | None = None) -> JSON:
        """A fresh incident reported ``at``, somewhere in the district."""
        rng = self.rng
        self._incident_no += 1
        r = rng.random()
        acc = 0.0
        source = SOURCES[-1][0]
        for name, share in SOURCES:
            acc += share
            if r < acc:
                source = name
                break
        village = self._villages[rng.randrange(len(self._villages))]
        street = self.regions[self._street_of(village)]["name"]
        road = ROADS[rng.randrange(len(ROADS))]
        cat = self._category()
        prio = priority or rng.choices([1, 2, 3, 4], weights=[0.05, 0.2, 0.45, 0.3])[0]
        reported = at - timedelta(seconds=rng.randrange(0, 600))
        inc: JSON = {
            "id": f"W{at:%Y%m%d}{self._incident_no:06d}",
            "source": source,
            "category": cat,
            "title": f"{street}{road}{cat[2]}",
            "detail": f"{source} 报告：{street}{road}{rng.randrange(1, 999)}号附近{cat[1]}，请尽快处置。",
            "priority": prio,
            "status": "new",
            "region": village,
            "location": self._point_in(village),
            "address": f"上海市{DISTRICT_NAME}{street}{road}{rng.randrange(1, 999)}号",
            "reported_at": format_time(reported),
            "deadlines": {
                k: format_time(reported + timedelta(minutes=m)) for k, m in DEADLINE_MIN.items()
            },
            "updated_at": format_time(at),
            "history": [{"t": format_time(reported), "by": source, "status": "new"}],
            "units": [],
        }
        if source in ("video_ai", "iot") and self.pictures_base:
            inc["media"] = [self._picture_of(inc, reported)]
        self.incidents[inc["id"]] = inc
        self._live_add(inc["id"])
        return inc

    def _picture_of(self, inc: JSON, at: datetime) -> JSON:
        """What raised a video-AI or IoT alarm: the nearest camera's picture (rendered by
        the backend's picture server from that camera's scene) and a box over something."""
        loc = inc["location"]
        near = geo.nearest_brute(self.cameras, loc["lon"], loc["lat"], 1) if self.cameras else []
        r = random.Random(inc["id"])  # its own stream: the district stays as it was
        w, h = round(r.uniform(0.12, 0.3), 3), round(r.uniform(0.15, 0.35), 3)
        box = {"x": round(r.uniform(0.05, 0.9 - w), 3), "y": round(r.uniform(0.1, 0.85 - h), 3),
               "w": w, "h": h, "label": inc["category"][2][:6], "score": round(r.uniform(0.72, 0.98), 2)}  # fmt: skip
        out: JSON = {"kind": "image", "url": f"{self.pictures_base}/media/{inc['id']}.jpg",
                     "t": format_time(at), "boxes": [box]}  # fmt: skip
        if near:
            out["camera"] = near[0][1]
        return out

    # Live incident ids in a list with positions, so picking and dropping a random one
    # is O(1): the backend's event loop must not slow down as incidents pile up.
    def _live_add(self, iid: str) -> None:
        if iid not in self._live_pos:
            self._live_pos[iid] = len(self._live_ids)
            self._live_ids.append(iid)

    def _live_drop(self, iid: str) -> None:
        pos = self._live_pos.pop(iid, None)
        if pos is None:
            return
        last = self._live_ids.pop()
        if last != iid:
            self._live_ids[pos] = last
            self._live_pos[last] = pos

    def _live_sync(self) -> None:
        """Rebuild the index after ``incidents`` was replaced wholesale (a restore)."""
        self._live_ids = list(self.incidents)
        self._live_pos = {iid: n for n, iid in enumerate(self._live_ids)}

    def seed_incidents(self, at: datetime) -> None:
        """The incidents already open when the backend starts."""
        for _ in range(self.incidents_n):
            inc = self.new_incident(at)
            for _ in range(self.rng.randrange(0, 4)):
                inc["status"] = STATUS_NEXT.get(inc["status"], inc["status"])

    # --- the living city: each call returns (type, data) state messages ------------------

    def incident_event(self, at: datetime) -> list[tuple[str, JSON]]:
        """One incident event: a new one, a status step, or an archive."""
        rng = self.rng
        r = rng.random()
        live = self._live_ids
        if len(live) != len(self.incidents):
            self._live_sync()
            live = self._live_ids
        # Below the cap 40 % of events are new incidents and the city gets busier; above it
        # 10 %: each incident takes five steps to be archived, so the live count settles
        # around the cap instead of growing for ever (a soak needs a steady state).
        if r < (0.4 if len(live) < self.live_cap else 0.1) or len(live) < 20:
            return [("incident.upsert", dict(self.new_incident(at)))]
        inc = self.incidents[live[rng.randrange(len(live))]]
        if inc["status"] == "closed":
            del self.incidents[inc["id"]]
            self._live_drop(inc["id"])
            return [("incident.remove", {"id": inc["id"]})]
        inc["status"] = STATUS_NEXT[inc["status"]]
        inc["updated_at"] = format_time(at)
        return [("incident.upsert", dict(inc))]

    def indicator_batch(self, at: datetime) -> tuple[str, JSON]:
        """Readings of every indicator: a drift around its base, crossing thresholds now and then."""
        rng = self.rng
        values = []
        for iid, ind in self.indicators.items():
            base = self._base[iid]
            old = ind["value"] if ind["value"] is not None else base
            new = old + (base - old) * 0.1 + base * rng.gauss(0, 0.03)
            if rng.random() < 0.004:  # a spike past the alarm line
                new = ind["alarm"] * (1.05 if ind["direction"] == "above" else 0.95)
            value = None if rng.random() < 0.002 else round(new, ind["decimals"])
            ind["value"] = value
            ind["t"] = format_time(at)
            values.append({"id": iid, "value": value})
        return "indicator.values", {"t": format_time(at), "values": values}

    def camera_flip(self) -> tuple[str, JSON]:
        cam_id = list(self.cameras)[self.rng.randrange(len(self.cameras))]
        cam = self.cameras[cam_id]
        cam["status"] = "offline" if cam["status"] == "online" else "online"
        return "camera.status", {"id": cam_id, "status": cam["status"]}

    # --- applying commands (the backend's side of protocol.md, Commands) ------------------

    def size_first_preset(self, size: int) -> None:
        """The walls' first preset with ``size`` cameras (the demo: its node's tiles), its
        own first, then online cameras in id order: no draw from the random stream, so the
        rest of the district is the one its seed makes."""
        first = self.presets[next(iter(self.presets))]
        shown = first["cameras"][:size]
        for cam in sorted(self.cameras):
            if len(shown) >= size:
                break
            if cam not in shown and self.cameras[cam]["status"] == "online":
                shown.append(cam)
        first["cameras"] = shown

    def set_wall(self, wall: str, by: str, at: datetime, **changes: Any) -> JSON:
        state = dict(self.walls.get(wall) or {"wall": wall, "mode": "normal", "preset": None})
        state.update(changes)
        state["changed_by"] = by
        state["changed_at"] = format_time(at)
        self.walls[wall] = state
        return state

    def tables(self, units: bool = True) -> dict[str, list[JSON]]:
        """Everything, by snapshot kind (units only for clients that know them)."""
        out = {
            "regions": list(self.regions.values()),
            "cameras": list(self.cameras.values()),
            "presets": list(self.presets.values()),
            "indicators": list(self.indicators.values()),
            "incidents": list(self.incidents.values()),
            "layers": list(self.layers.values()),
        }
        if units:
            out["units"] = list(self.units.values())
        return out

    # --- units on the move ---------------------------------------------------------------

    def _make_units(self) -> None:
        """Body cameras and drones (with live streams), patrol cars, grid workers and pump
        trucks, spread over the villages, each with a heading it keeps for a while."""
        rng = random.Random(self.seed * 31 + 5)  # its own stream: the district stays as it was
        mix = [("grid_worker", "网格员", 0.35), ("patrol_car", "巡逻车", 0.2), ("body_cam", "单兵", 0.2),
               ("drone", "无人机", 0.1), ("pump_truck", "泵车", 0.15)]  # fmt: skip
        cams = list(self.cameras.values())
        for n in range(self.units_n):
            r, acc = rng.random(), 0.0
            kind, label = mix[-1][0], mix[-1][1]
            for k, lbl, share in mix:
                acc += share
                if r < acc:
                    kind, label = k, lbl
                    break
            village = self._villages[rng.randrange(len(self._villages))]
            street = self.regions[self._street_of(village)]["name"]
            uid = f"U{n + 1:04d}"
            loc = self._point_in_with(village, rng)
            unit: JSON = {"id": uid, "name": f"{street}{label}{n + 1:02d}", "kind": kind, "status": "idle",
                          "location": {**loc, "heading": round(rng.uniform(0, 360), 1), "speed": 0.0,
                                       "t": format_time(datetime.now().astimezone())}}  # fmt: skip
            if kind in ("body_cam", "drone") and cams:  # a unit's own camera: a real stream
                unit["stream"] = cams[n % len(cams)]["streams"].get("sub")
            self.units[uid] = unit

    def _point_in_with(self, code: str, rng: random.Random) -> JSON:
        state = self.rng.getstate()
        self.rng.seed(rng.random())
        try:
            return self._point_in(code)
        finally:
            self.rng.setstate(state)

    def unit_positions(self, at: datetime, dt: float) -> tuple[str, JSON]:
        """Every unit ``dt`` seconds further along: a batch of positions (``unit.positions``)."""
        from wallclient.demo.district_moves import head_for, step_unit

        whole = self._polys[DISTRICT_CODE]
        t = format_time(at)
        out = []
        for unit in self.units.values():
            if unit["status"] == "offline" or not unit.get("location"):
                continue
            target = self.incidents.get(unit.get("incident") or "") if unit["status"] == "enroute" else None
            if unit["status"] == "onsite":
                unit["location"]["speed"] = 0.0  # it stays where it works
            elif target is not None and target.get("location"):
                head_for(unit, dt, target["location"])
            else:
                step_unit(unit, dt, whole, self.rng)
            loc = unit["location"]
            loc["t"] = t
            out.append({"id": unit["id"], "lon": loc["lon"], "lat": loc["lat"],
                        "heading": loc["heading"], "speed": loc["speed"]})  # fmt: skip
        return "unit.positions", {"t": t, "positions": out}


    def arrived(self) -> list[tuple[JSON, JSON]]:
        """Units en route that are within reach of their incident: (unit, incident)."""
        out = []
        for unit in self.units.values():
            inc = self.incidents.get(unit.get("incident") or "")
            if unit["status"] != "enroute" or inc is None or not inc.get("location"):
                continue
            loc, to = unit["location"], inc["location"]
            if geo.distance_m(loc["lon"], loc["lat"], to["lon"], to["lat"]) <= ARRIVE_M:
                out.append((unit, inc))
        return out


SCALES: dict[str, Callable[[], dict[str, int]]] = {
    "default": lambda: {"cameras_n": 360, "presets_n": 40, "incidents_n": 180},
    "district-max": lambda: {"cameras_n": 77_000, "presets_n": 1_000, "incidents_n": 2_000},
}
