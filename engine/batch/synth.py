"""A deterministic synthetic population (enterprises + events) for tests, benchmarks and the sample.

Realistic mix: all 14 cities (Shenyang and Dalian largest, Fuxin and Tieling well represented), sizes
given or derivable from staff/revenue/assets or missing, a few universities, institutes and state-owned
units, blacklisted entities, events of every type from 2010 to 2024 with some missing amounts. Same seed,
same tables, on any machine (``random.Random`` only).
"""

from __future__ import annotations

import random
from datetime import date, timedelta

import polars as pl

from engine import schema
from engine.cities import CITIES, DISTRICTS
from engine.credit_code import ALPHABET, check_character
from engine.size_class import SECTORS

CITY_WEIGHTS = {"沈阳市": 18, "大连市": 18, "鞍山市": 6, "抚顺市": 4, "本溪市": 3, "丹东市": 4, "锦州市": 5, "营口市": 5,
                "阜新市": 10, "辽阳市": 3, "盘锦市": 4, "铁岭市": 10, "朝阳市": 4, "葫芦岛市": 4}
EVENT_WEIGHTS = {"patent_application": 30, "invention_patent_grant": 20, "intl_trademark_registration": 10,
                 "ip_pledge_loan": 10, "patent_award": 6, "pct_application": 8, "famous_trademark": 5,
                 "well_known_trademark": 3, "invention_transfer": 6, "infringement_penalty": 2}
INDUSTRIES = ["equipment", "chemical", "electronics", "new_materials", "biomedicine", "integrated_circuit", "software",
              "next_gen_it", "new_energy", "energy_saving", "agriculture", "culture"]
_START = date(2010, 1, 1)
_DAYS = (date(2024, 12, 31) - _START).days


def _maybe(rng: random.Random, values: list, missing: float) -> list:
    return [None if rng.random() < missing else v for v in values]


def credit_codes(rng: random.Random, n: int, prefixes: list[str], cities: list[str]) -> list[str]:
    """Well-formed codes with valid check characters, unique by construction (sequence in positions 9–17)."""
    codes = []
    for i in range(n):
        tail = "".join(rng.choice(ALPHABET) for _ in range(2)) + f"{i:07d}"
        body = prefixes[i] + CITIES[cities[i]] + tail
        codes.append(body + check_character(body))
    return codes


def enterprises(n: int, seed: int = 20191231, city_weights: dict[str, int] | None = None) -> pl.DataFrame:
    """``n`` enterprises with English field names and typed values (as a Parquet file would hold them)."""
    rng = random.Random(seed)
    weights = city_weights or CITY_WEIGHTS
    cities = rng.choices(list(weights), weights=list(weights.values()), k=n)
    kinds = rng.choices(["enterprise", "university", "research_institute", "public_institution", "other"],
                        weights=[93, 2, 2, 2, 1], k=n)
    prefixes = ["91" if k in ("enterprise", "other") else "12" for k in kinds]
    sectors = rng.choices(list(SECTORS), weights=[3, 40, 5, 6, 6, 3, 2, 2, 2, 2, 2, 15, 2, 2, 4, 4], k=n)
    employees = [int(rng.lognormvariate(3.5, 1.3)) for _ in range(n)]
    revenue = [round(rng.lognormvariate(7, 1.8), 2) for _ in range(n)]
    assets = [round(rng.lognormvariate(7.5, 1.8), 2) for _ in range(n)]
    sizes_given = rng.choices(["large", "medium", "small", "micro", None], weights=[5, 12, 20, 13, 50], k=n)
    data = {
        "credit_code": credit_codes(rng, n, prefixes, cities),
        "name": [f"{c[:-1]}测试{'科技' if k == 'enterprise' else '研究'}单位{i:07d}" for i, (c, k) in enumerate(zip(cities, kinds))],
        "city": cities,
        "district": [rng.choice(list(DISTRICTS[c])) if c in DISTRICTS and rng.random() < 0.8 else None for c in cities],
        "entity_kind": [None if (k == "enterprise" and rng.random() < 0.5) else k for k in kinds],
        "state_owned": _maybe(rng, [rng.random() < (0.6 if k != "enterprise" else 0.05) for k in kinds], 0.1),
        "size_class": [s if k == "enterprise" else None for s, k in zip(sizes_given, kinds)],
        "sector": _maybe(rng, sectors, 0.1),
        "employees": _maybe(rng, employees, 0.15),
        "revenue_wan": _maybe(rng, revenue, 0.15),
        "assets_wan": _maybe(rng, assets, 0.2),
        "high_tech": _maybe(rng, [rng.random() < 0.2 for _ in range(n)], 0.1),
        "specialized_sme": _maybe(rng, [rng.random() < 0.1 for _ in range(n)], 0.2),
        "owns_ip": _maybe(rng, [rng.random() < 0.7 for _ in range(n)], 0.1),
        "ip_advantage_level": _maybe(rng, rng.choices(["none", "provincial", "national"], weights=[85, 11, 4], k=n), 0.1),
        "ip_demonstration_level": _maybe(rng, rng.choices(["none", "provincial", "national"], weights=[90, 7, 3], k=n), 0.1),
        "gbt29490_certified": _maybe(rng, [rng.random() < 0.15 for _ in range(n)], 0.1),
        "key_industries": [None if rng.random() < 0.4 else "、".join(rng.sample(INDUSTRIES, rng.randint(1, 2))) for _ in range(n)],
        "exporter": _maybe(rng, [rng.random() < 0.2 for _ in range(n)], 0.1),
        "blacklisted": _maybe(rng, [rng.random() < 0.03 for _ in range(n)], 0.05),
        "invention_patents_held": _maybe(rng, [int(rng.expovariate(0.3)) for _ in range(n)], 0.1),
    }
    data["blacklisted_on"] = [_START + timedelta(days=rng.randrange(_DAYS)) if b else None for b in data["blacklisted"]]
    # Any kind of patent: at least the invention patents, or unknown.
    data["patents_held"] = _maybe(rng, [(i or 0) + int(rng.expovariate(0.2)) for i in data["invention_patents_held"]], 0.3)
    types = {spec.name: _dtype(spec) for spec in schema.ENTITY_FIELDS}
    return pl.DataFrame(data, schema={name: types[name] for name in data})


def events(codes: list[str], per_enterprise: float = 3.0, seed: int = 20191231) -> pl.DataFrame:
    """About ``per_enterprise`` events per code, in a shuffled-but-deterministic order, English headers."""
    rng = random.Random(seed + 1)
    owners: list[str] = []
    for code in codes:
        owners.extend([code] * min(int(rng.expovariate(1 / per_enterprise)), 40))
    rng.shuffle(owners)
    m = len(owners)
    types = rng.choices(list(EVENT_WEIGHTS), weights=list(EVENT_WEIGHTS.values()), k=m)
    columns: dict[str, list] = {"credit_code": owners, "type": types,
                                "date": [_START + timedelta(days=rng.randrange(_DAYS)) for _ in range(m)],
                                "ref": [f"ZL{2010 + i % 15}1{i:07d}" for i in range(m)]}
    fields = {f.name: f for e in schema.EVENT_TYPES for f in e.fields}
    for name in fields:
        columns[name] = [None] * m
    cities = list(CITIES) + ["省外"]
    for i, kind in enumerate(types):
        if kind == "patent_award":
            columns["award_level"][i] = rng.choice(["china", "provincial"])
            columns["award_grade"][i] = rng.choices(["gold", "silver", "excellence", None], weights=[2, 3, 5, 1])[0]
        elif kind == "intl_trademark_registration":
            columns["route"][i] = rng.choices(["madrid", "other", None], weights=[6, 3, 1])[0]
            columns["cost"][i] = None if rng.random() < 0.1 else round(rng.uniform(2000, 80000), 2)
        elif kind == "invention_patent_grant":
            columns["application_fee_paid"][i] = None if rng.random() < 0.1 else rng.choice([135.0, 270.0, 900.0])
            columns["examination_fee_paid"][i] = None if rng.random() < 0.1 else rng.choice([375.0, 750.0, 2500.0])
        elif kind == "patent_application":
            columns["patent_type"][i] = rng.choices(["invention", "utility", "design", None], weights=[5, 4, 2, 1])[0]
        elif kind == "invention_transfer":
            columns["mode"][i] = rng.choice(["transfer", "licence", "equity", "self_implementation"])
            columns["implementing_city"][i] = rng.choice(cities)
            income = round(rng.uniform(10_000, 2_000_000), 2)
            columns["net_income"][i] = None if rng.random() < 0.1 else income
            columns["inventor_reward"][i] = None if rng.random() < 0.1 else round(income * rng.uniform(0.4, 0.9), 2)
        elif kind == "ip_pledge_loan":
            columns["loan_amount"][i] = None if rng.random() < 0.1 else float(rng.randrange(100, 50_000) * 1000)
        elif kind == "infringement_penalty":
            columns["infringement_kind"][i] = rng.choice(["repeated", "intentional", "other"])
    specs = {f.name: f for f in schema.ALL_EVENT_FIELDS}
    dtypes = {name: (pl.String if name == "credit_code" else _dtype(specs[name])) for name in columns}
    return pl.DataFrame(columns, schema=dtypes)


def _dtype(spec: schema.FieldSpec) -> pl.DataType:
    kind = spec.kind
    if kind == schema.BOOL:
        return pl.Boolean()
    if kind == schema.INT:
        return pl.Int64()
    if kind in (schema.NUMBER, schema.MONEY):
        return pl.Float64()
    if kind == schema.DATE:
        return pl.Date()
    return pl.String()


def population(n: int, per_enterprise: float = 3.0, seed: int = 20191231) -> tuple[pl.DataFrame, pl.DataFrame]:
    """(enterprises, events) with about ``per_enterprise`` events each."""
    ents = enterprises(n, seed)
    return ents, events(ents.get_column("credit_code").to_list(), per_enterprise, seed)
