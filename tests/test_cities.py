import pytest

from engine.cities import CITIES, CITY_EN, DISTRICTS, PROVINCE, normalise_city
from engine.textnorm import ParseError


def test_fourteen_cities_with_codes() -> None:
    assert PROVINCE == "辽宁省"
    assert len(CITIES) == 14
    assert CITIES["沈阳市"] == "210100"
    assert CITIES["阜新市"] == "210900"
    assert CITIES["铁岭市"] == "211200"
    assert CITIES["葫芦岛市"] == "211400"
    assert sorted(CITIES.values()) == [f"21{n:02d}00" for n in range(1, 15)]
    assert all(name.endswith("市") for name in CITIES)


def test_english_names() -> None:
    assert set(CITY_EN) == set(CITIES)
    assert CITY_EN["沈阳市"] == "Shenyang"
    assert CITY_EN["阜新市"] == "Fuxin"
    assert CITY_EN["铁岭市"] == "Tieling"
    assert CITY_EN["葫芦岛市"] == "Huludao"
    assert len(set(CITY_EN.values())) == 14


def test_districts_belong_to_their_city() -> None:
    assert set(DISTRICTS) == {"阜新市", "铁岭市"}
    assert len(DISTRICTS["阜新市"]) == 7 and len(DISTRICTS["铁岭市"]) == 7
    assert DISTRICTS["阜新市"]["阜新蒙古族自治县"] == "210921"
    assert DISTRICTS["铁岭市"]["开原市"] == "211282"
    for city, districts in DISTRICTS.items():
        for code in districts.values():
            assert code[:4] == CITIES[city][:4]


@pytest.mark.parametrize(
    "raw",
    ["阜新", "阜新市", " 阜新市 ", "\u3000阜新\u3000", "辽宁省阜新市", "辽宁阜新", "Fuxin", "fuxin", "FUXIN",
     "fuxin city", "Fuxin City", "  fuxin   city ", "fuxin shi", "fuxincity", "210900", 210900, "２１０９００", "Ｆｕｘｉｎ"],
)
def test_normalise_city_variants(raw: object) -> None:
    assert normalise_city(raw) == "阜新市"


@pytest.mark.parametrize("name", list(CITIES))
def test_every_city_by_every_spelling(name: str) -> None:
    for raw in (name, name[:-1], CITIES[name], CITY_EN[name], CITY_EN[name].lower() + " city", PROVINCE + name):
        assert normalise_city(raw) == name


@pytest.mark.parametrize(
    "raw", ["北京", "北京市", "辽宁省", "辽宁", "", "  ", None, True, 210902, 210900.5, "210902", "海州区", "Fu xin", "阜", "阜新县"]
)
def test_unknown_city_lists_the_fourteen(raw: object) -> None:
    with pytest.raises(ParseError) as info:
        normalise_city(raw)
    for name in CITIES:
        assert name in info.value.message_zh
    assert "Huludao" in info.value.message_en
    assert info.value.value == raw
