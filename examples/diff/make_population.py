"""Write the worked example's population: ``population.csv`` (enterprises) and ``events.csv`` (their events).

Synthetic but plausible: 240 entities across Liaoning's 14 cities, mostly enterprises, with international
trademark registrations (costs from a few thousand yuan to well over 62,500, where a 50,000 cap starts to
bite), granted invention patents and trademark recognitions, dated 2015-2021. Deterministic (fixed
seed); one row is deliberately broken to show how row errors are reported.

    python examples/diff/make_population.py
"""

from __future__ import annotations

import csv
import random
import sys
from datetime import date, timedelta
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE.parents[1]))

from engine.cities import CITIES  # noqa: E402
from engine.credit_code import check_character  # noqa: E402

ENTITY_HEADERS = ["统一社会信用代码", "名称", "所在城市", "主体类型", "国有", "企业规模", "高新技术企业", "出口企业",
                  "拥有自主知识产权", "重点产业", "列入侵权失信名单"]
EVENT_HEADERS = ["统一社会信用代码", "类型", "日期", "编号", "注册途径", "费用", "实缴申请费", "实缴实质审查费"]
WORDS = ["华", "辽", "盛", "达", "联", "泰", "恒", "信", "瑞", "鑫", "通", "远", "科", "海", "德", "昌"]
TRADES = ["机械", "化工", "电子", "材料", "食品", "软件", "医药", "能源", "装备", "纺织"]
INDUSTRIES = ["装备制造", "化工", "电子信息", "新材料", "生物医药", "软件", "农业", ""]


def code(seed: int, city_code: str) -> str:
    body = f"91{city_code}{seed:09d}"
    return body + check_character(body)


def day(rng: random.Random, start: date, end: date) -> date:
    return start + timedelta(days=rng.randrange((end - start).days + 1))


def build(count: int = 240, seed: int = 2024) -> tuple[list[dict], list[dict]]:
    rng = random.Random(seed)
    entities, events = [], []
    cities = list(CITIES.items())
    for n in range(1, count + 1):
        city, city_code = cities[rng.randrange(len(cities))]
        kind = rng.choices(["企业", "高等学校", "科研院所"], [92, 5, 3])[0]
        credit = code(n, city_code)
        name = city[:-1] + "".join(rng.sample(WORDS, 2)) + rng.choice(TRADES) + (
            "有限公司" if kind == "企业" else "大学" if kind == "高等学校" else "研究院")
        entities.append({
            "统一社会信用代码": credit, "名称": name, "所在城市": city, "主体类型": kind,
            "国有": rng.choice(["是", "否", "否", "否"]),
            "企业规模": rng.choice(["大型", "中型", "小型", "小型", "微型"]) if kind == "企业" else "",
            "高新技术企业": rng.choice(["是", "否"]), "出口企业": rng.choice(["是", "否", "否"]),
            "拥有自主知识产权": rng.choice(["是", "是", "否"]), "重点产业": rng.choice(INDUSTRIES),
            "列入侵权失信名单": "否",
        })
        for _ in range(rng.choices([0, 1, 2, 3], [30, 45, 17, 8])[0]):
            cost = rng.choice([rng.randrange(3_000, 30_000), rng.randrange(30_000, 62_500), rng.randrange(62_500, 160_000)])
            events.append({"统一社会信用代码": credit, "类型": "商标国际注册", "日期": day(rng, date(2015, 1, 1), date(2021, 6, 30)),
                           "编号": f"IR {1_300_000 + len(events)}", "注册途径": rng.choice(["马德里", "马德里", "其他"]),
                           "费用": f"{cost}.{rng.randrange(100):02d}"})
        if rng.random() < 0.35:
            events.append({"统一社会信用代码": credit, "类型": "发明专利授权", "日期": day(rng, date(2015, 1, 1), date(2020, 12, 31)),
                           "编号": f"ZL 2015 1 {rng.randrange(10**7):07d}.X", "实缴申请费": rng.choice(["135", "900"]),
                           "实缴实质审查费": rng.choice(["375", "2500"])})
        if rng.random() < 0.06:
            events.append({"统一社会信用代码": credit, "类型": "省著名商标认定", "日期": day(rng, date(2015, 1, 1), date(2017, 12, 31))})
    entities[17]["所在城市"] = "辽中市"  # a broken row: not a Liaoning city
    return entities, events


def write(folder: Path = HERE) -> None:
    entities, events = build()
    for name, headers, rows in (("population.csv", ENTITY_HEADERS, entities), ("events.csv", EVENT_HEADERS, events)):
        with (folder / name).open("w", encoding="utf-8", newline="") as handle:
            writer = csv.DictWriter(handle, fieldnames=headers)
            writer.writeheader()
            writer.writerows(rows)
        print(f"wrote {folder / name} ({len(rows)} rows)")


if __name__ == "__main__":
    write()
