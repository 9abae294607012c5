"""Generate the sample batch input: examples/batch/sample.xlsx (sheets 企业, 事件) and the same as CSV.

    python examples/batch/make_sample.py

Deterministic (fixed seed, fixed workbook date): re-running gives byte-identical files. About 300
enterprises across all 14 cities (Fuxin and Tieling well represented) with about 900 events, written the
way real spreadsheets are: Chinese headers, Excel date cells and serial numbers, "2016/5/1",
"2016年5月1日", "10,000元", "1.5万元", full-width digits, stray spaces. Then ~15 deliberately bad rows of
different kinds (listed in BAD_ROWS), so `huiqi batch` shows its errors table and exits 5.
"""

from __future__ import annotations

import csv
import random
from datetime import date, datetime
from pathlib import Path

import xlsxwriter

from engine import schema
from engine.batch import synth
from engine.credit_code import check_character
from engine.textnorm import date_to_excel_serial
from engine.vocabulary import ENUMS, enum_label

HERE = Path(__file__).resolve().parent
SEED = 20191231
N = 300
CITY_WEIGHTS = {**synth.CITY_WEIGHTS, "阜新市": 22, "铁岭市": 20}
FIXED_TIME = datetime(2000, 1, 1)

# Event columns of the 事件 sheet: credit code, name (for reading only), then type, date, ref and fields.
EVENT_FIELDS = [f for f in schema.ALL_EVENT_FIELDS if f.name not in ("type", "date", "ref")]

BAD_ROWS = [
    "信用代码位数不对（17位）/ credit code with 17 characters",
    "信用代码含字母 O / credit code with the letter O",
    "城市不是辽宁省地级市（北京市）/ city outside Liaoning",
    "名称为空 / missing name",
    "两行信用代码相同 / two rows share a credit code",
    "从业人员写成“很多” / employees 'many'",
    "高新技术企业写成“也许” / yes/no 'maybe'",
    "企业规模“超大型” / unknown size class",
    "营业收入“1,5”（欧式小数点）/ revenue with a decimal comma",
    "事件费用为负数 / negative cost",
    "事件日期 2019-02-30 不存在 / impossible date",
    "事件日期只写了年份 / a bare year as date",
    "事件所属企业不在名单中 / event for an unknown enterprise",
    "未知事件类型“商标转让” / unknown event type",
    "专利申请事件填写了费用（该类事件没有此字段）/ a field the event type does not have",
]


def _code(rng: random.Random, city: str, i: int) -> str:
    from engine.cities import CITIES

    body = "91" + CITIES[city] + "".join(rng.choice("0123456789ABCDEFGH") for _ in range(2)) + f"{900000 + i:07d}"
    return body + check_character(body)


def _bool(value, rng: random.Random):
    if value is None:
        return None
    return rng.choice(["是", "是", "√", "Y"]) if value else rng.choice(["否", "否", "×", "N"])


def _number(value, rng: random.Random):
    if value is None:
        return None
    style = rng.randrange(4)
    if style == 0:
        return value
    if style == 1:
        return str(value).translate(str.maketrans("0123456789.", "０１２３４５６７８９．"))
    if style == 2:
        return f"{value:,}"
    return f" {value} "


def _money(value, rng: random.Random):
    """A money cell as clerks type it (the xlsx keeps numbers as numbers some of the time)."""
    if value is None:
        return None
    whole = round(value, 2)
    style = rng.randrange(6)
    if style == 0:
        return whole  # a number cell
    if style == 1:
        return f"{whole:,.2f}元"
    if style == 2 and whole >= 10000 and (whole / 10000) == round(whole / 10000, 2):
        return f"{whole / 10000:g}万元"
    if style == 3:
        return str(whole).translate(str.maketrans("0123456789.", "０１２３４５６７８９．"))
    if style == 4:
        return f" {whole} "
    return f"{whole:.2f}"


def _date(value: date, rng: random.Random):
    """A date cell in one of the spellings real sheets hold; ("serial", n) is an Excel serial number."""
    style = rng.randrange(5)
    if style == 0:
        return value  # an Excel date cell
    if style == 1:
        return ("serial", date_to_excel_serial(value))
    if style == 2:
        return f"{value.year}/{value.month}/{value.day}"
    if style == 3:
        return f"{value.year}年{value.month}月{value.day}日"
    return value.isoformat()


def _label(spec: schema.FieldSpec, value):
    if value is None:
        return None
    if spec.kind == schema.ENUM:
        return enum_label(spec.enum, value) if value in ENUMS[spec.enum] else value
    return value


def build() -> tuple[list[str], list[list], list[str], list[list]]:
    rng = random.Random(SEED)
    ents = synth.enterprises(N, SEED, CITY_WEIGHTS)
    codes = ents.get_column("credit_code").to_list()
    evs = synth.events(codes, 3.0, SEED)
    entity_headers = [spec.zh for spec in schema.ENTITY_FIELDS]
    rows: list[list] = []
    for record in ents.iter_rows(named=True):
        row = []
        for spec in schema.ENTITY_FIELDS:
            value = record[spec.name]
            if spec.kind == schema.BOOL:
                value = _bool(value, rng)
            elif spec.kind in (schema.NUMBER, schema.INT):
                value = _number(value, rng)
            elif spec.kind == schema.ENUM_LIST and value:
                value = "、".join(enum_label("industry", v) for v in value.split("、"))
            elif spec.kind == schema.DATE and value is not None:
                value = _date(value, rng)
            elif spec.kind == schema.CITY and rng.random() < 0.3:
                value = rng.choice([value[:-1], f" {value} ", "辽宁省" + value])
            else:
                value = _label(spec, value)
            row.append(value)
        rows.append(row)
    # A few Fuxin institutes transferring inventions into Fuxin (the 70% inventor-share requirement).
    extra_events = []
    for k in range(4):
        i = len(rows)
        code = _code(rng, "阜新市", i)
        row = [None] * len(entity_headers)
        values = {"credit_code": code, "name": f"阜新市测试研究院{k + 1}", "city": "阜新市", "entity_kind": "科研院所", "state_owned": "是"}
        for j, spec in enumerate(schema.ENTITY_FIELDS):
            row[j] = values.get(spec.name)
        rows.append(row)
        income = 200000 + 50000 * k
        extra_events.append({"credit_code": code, "type": "职务成果转化", "date": date(2018, 3 + k, 10), "mode": "转让",
                             "implementing_city": "阜新市", "net_income": income, "inventor_reward": income * (60 + 5 * k) // 100})
    event_headers = ["统一社会信用代码", "名称", "类型", "日期", "编号"] + [f.zh for f in EVENT_FIELDS]
    names = dict(zip(codes, ents.get_column("name").to_list()))
    type_zh = {e.code: e.zh for e in schema.EVENT_TYPES}
    event_rows: list[list] = []
    for record in evs.iter_rows(named=True):
        row = [record["credit_code"], names.get(record["credit_code"]), type_zh[record["type"]], _date(record["date"], rng), record["ref"]]
        for spec in EVENT_FIELDS:
            value = record[spec.name]
            row.append(_money(value, rng) if spec.kind == schema.MONEY else _label(spec, value))
        event_rows.append(row)
    for item in extra_events:
        row = [item["credit_code"], None, item["type"], item["date"], None]
        row += [item.get(f.name) for f in EVENT_FIELDS]
        event_rows.append(row)
    _spoil(rng, entity_headers, rows, event_headers, event_rows)
    return entity_headers, rows, event_headers, event_rows


def _spoil(rng: random.Random, eh: list[str], rows: list[list], vh: list[str], event_rows: list[list]) -> None:
    """The deliberately bad rows of BAD_ROWS, at fixed positions."""
    col = {h: i for i, h in enumerate(eh)}
    vcol = {h: i for i, h in enumerate(vh)}
    rows[5][col["统一社会信用代码"]] = rows[5][col["统一社会信用代码"]][:17]
    code = list(rows[11][col["统一社会信用代码"]])
    code[10] = "O"
    rows[11][col["统一社会信用代码"]] = "".join(code)
    rows[17][col["所在城市"]] = "北京市"
    rows[23][col["名称"]] = None
    rows[41][col["统一社会信用代码"]] = rows[40][col["统一社会信用代码"]]
    rows[53][col["从业人员"]] = "很多"
    rows[61][col["高新技术企业"]] = "也许"
    rows[67][col["企业规模"]] = "超大型"
    rows[71][col["营业收入（万元）"]] = "1,5"

    def first(type_zh: str, start: int = 0) -> int:
        return next(i for i, r in enumerate(event_rows) if r[vcol["类型"]] == type_zh and i >= start)

    event_rows[first("商标国际注册", 10)][vcol["费用"]] = "-500"
    event_rows[first("专利申请", 20)][vcol["日期"]] = "2019-02-30"
    event_rows[first("发明专利授权", 30)][vcol["日期"]] = "2016"
    unknown = "91211200MA0000000" + check_character("91211200MA0000000")
    event_rows.append([unknown, "名单外企业", "PCT国际专利申请", "2018-06-01", "PCT/CN2018/000001"] + [None] * len(EVENT_FIELDS))
    event_rows[first("专利申请", 60)][vcol["类型"]] = "商标转让"
    event_rows[first("专利申请", 90)][vcol["费用"]] = "1,000元"


def _cell_text(value) -> str:
    if value is None:
        return ""
    if isinstance(value, tuple):
        return str(value[1])
    if isinstance(value, date):
        return value.isoformat()
    if isinstance(value, float):
        return f"{value:.2f}".rstrip("0").rstrip(".")
    return str(value)


def write_xlsx(path: Path, sheets: list[tuple[str, list[str], list[list]]]) -> None:
    workbook = xlsxwriter.Workbook(str(path), {"strings_to_numbers": False})
    workbook.set_properties({"title": "惠企批量评估示例 / Huiqi batch sample", "author": "huiqi", "created": FIXED_TIME})
    day = workbook.add_format({"num_format": "yyyy-mm-dd"})
    bold = workbook.add_format({"bold": True})
    for name, headers, rows in sheets:
        sheet = workbook.add_worksheet(name)
        sheet.write_row(0, 0, headers, bold)
        for i, row in enumerate(rows, start=1):
            for j, value in enumerate(row):
                if value is None:
                    continue
                if isinstance(value, tuple):
                    sheet.write_number(i, j, value[1])
                elif isinstance(value, date):
                    sheet.write_datetime(i, j, datetime(value.year, value.month, value.day), day)
                elif isinstance(value, (int, float)) and not isinstance(value, bool):
                    sheet.write_number(i, j, value)
                else:
                    sheet.write_string(i, j, str(value))
    workbook.close()


def write_csv(path: Path, headers: list[str], rows: list[list]) -> None:
    with path.open("w", encoding="utf-8-sig", newline="") as handle:
        writer = csv.writer(handle, lineterminator="\n")
        writer.writerow(headers)
        for row in rows:
            writer.writerow([_cell_text(v) for v in row])


def main() -> None:
    eh, rows, vh, event_rows = build()
    write_xlsx(HERE / "sample.xlsx", [("企业", eh, rows), ("事件", vh, event_rows)])
    write_csv(HERE / "sample_enterprises.csv", eh, rows)
    write_csv(HERE / "sample_events.csv", vh, event_rows)
    print(f"{len(rows)} enterprises, {len(event_rows)} events, {len(BAD_ROWS)} kinds of bad rows → {HERE}")


if __name__ == "__main__":
    main()
