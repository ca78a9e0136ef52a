"""Row generators for the demo assets: synthetic but realistic Lu'an data.

Every generator is ``name(n, seed=0)``: it yields the header first, then ``n`` rows of strings,
the same rows for the same seed (one ``random.Random(seed)`` per call, no global state).
Formats are what an importer should expect from a government CSV: dates ``YYYY-MM-DD``,
decimals with a fixed number of places (``500.00``), booleans ``true``/``false``, empty strings
for "not applicable".

Identifiers are valid (GB 32100 codes with both checks, GB 11643 numbers with matching parity
and check character, 11-digit mobiles) with ONE deliberate exception: like real registers, the
enterprise registry contains a small share of broken unified social credit codes
(``INVALID_USCC_SHARE``, ~0.1%) so the import's quality report has something to find. Nobody
in these files exists: names are drawn from common surnames and given-name characters.
"""

from __future__ import annotations

import csv
import datetime as dt
import math
import random
import zlib
from collections.abc import Callable, Iterator
from pathlib import Path

from domain.identifiers import USCC_ALPHABET, org_code_check_char, ric_check_char, uscc_check_char

Rows = Iterator[list[str]]

INVALID_USCC_SHARE = 0.001

# -- Places --------------------------------------------------------------------------------------

# code, county, seat, towns, streets (urban roads), centre longitude/latitude, weight by population
AREAS: tuple[tuple[str, str, str, tuple[str, ...], tuple[str, ...], float, float, int], ...] = (
    ("341502", "金安区", "城北街道",
     ("三十铺镇", "木厂镇", "东桥镇", "孙岗镇", "椿树镇", "毛坦厂镇", "中店乡", "施桥镇"),
     ("皖西大道", "梅山南路", "解放南路", "人民路", "佛子岭路", "长安南路", "龙河路", "紫竹林路"),
     116.52, 31.75, 17),
    ("341503", "裕安区", "鼓楼街道",
     ("苏埠镇", "韩摆渡镇", "新安镇", "顺河镇", "独山镇", "石婆店镇", "固镇镇", "丁集镇"),
     ("寿春路", "淠河路", "梅山北路", "鼓楼街", "云路街", "站前路", "裕安路", "淠河总干渠路"),
     116.46, 31.74, 16),
    ("341504", "叶集区", "史河街道",
     ("三元镇", "孙岗乡", "洪集镇", "姚李镇", "平岗街道"),
     ("史河大道", "叶集大道", "环城路", "民强路", "兴业路"),
     115.91, 31.85, 5),
    ("341522", "霍邱县", "城关镇",
     ("河口镇", "周集镇", "临水镇", "石店镇", "新店镇", "马店镇", "冯井镇", "户胡镇"),
     ("蓼城路", "光明大道", "迎河路", "红星路", "水门塘路", "工业大道"),
     116.28, 32.35, 22),
    ("341523", "舒城县", "城关镇",
     ("杭埠镇", "千人桥镇", "百神庙镇", "桃溪镇", "万佛湖镇", "晓天镇", "干汊河镇", "南港镇"),
     ("春秋路", "龙舒路", "梅河路", "舒丰路", "鼓楼路", "桃溪路"),
     116.95, 31.46, 18),
    ("341524", "金寨县", "梅山镇",
     ("麻埠镇", "江店镇", "天堂寨镇", "燕子河镇", "青山镇", "南溪镇", "汤家汇镇", "双河镇"),
     ("红军大道", "梅山湖路", "史河路", "现代产业园大道", "金梧桐路"),
     115.93, 31.73, 12),
    ("341525", "霍山县", "衡山镇",
     ("佛子岭镇", "下符桥镇", "但家庙镇", "与儿街镇", "大化坪镇", "东西溪乡", "漫水河镇", "诸佛庵镇"),
     ("迎驾大道", "淠源路", "衡山路", "安然路", "经济开发区纬一路"),
     116.33, 31.39, 10),
)
_AREA_WEIGHTS = [a[7] for a in AREAS]
_CUM_AREA_WEIGHTS = [sum(_AREA_WEIGHTS[: i + 1]) for i in range(len(AREAS))]
COUNTIES = tuple(a[1] for a in AREAS)

# Before 2000 Lu'an was 六安地区 and numbers started 3424xx; people keep the code of their birth.
_OLD_AREA_CODES = {"341502": "342401", "341503": "342401", "341504": "342423",
                   "341522": "342423", "341523": "342425", "341524": "342426", "341525": "342427"}

_VILLAGES = ("新庄", "黄墩", "桃园", "双河", "龙潭", "石桥", "红星", "大郢", "枫树", "杨湾", "光明",
             "河西", "柳林", "油坊", "三岔", "金桥", "王大郢", "张店", "竹园", "周湾")

_SURNAMES = ("王李张刘陈杨黄赵吴周徐孙马朱胡郭何高林罗郑梁谢宋唐许韩冯邓曹彭曾肖田董袁潘于蒋蔡余杜叶"
             "程苏魏吕丁任沈姚卢姜崔钟谭陆汪范金石廖贾夏韦付方白邹孟熊秦邱江尹薛闫段雷侯龙史陶黎贺"
             "顾毛郝龚邵万钱严武戴莫孔向汤储")
_GIVEN = ("伟芳娜敏静丽强磊军洋勇艳杰娟涛明超秀霞平刚桂英华玉兰萍红建国志文斌辉鹏宇浩然欣怡"
          "子涵梓轩思雨佳琪俊杰晓东海燕春梅云飞德胜家乐雪松淑珍福林正阳金凤长江新民")

_MOBILE_PREFIXES = ("130", "131", "132", "133", "135", "136", "137", "138", "139", "150", "151",
                    "152", "153", "155", "156", "157", "158", "159", "166", "173", "177", "180",
                    "181", "182", "183", "186", "187", "188", "189", "191", "198", "199")

_BRANDS = ("鑫源", "恒通", "华信", "皖西", "大别山", "佛子岭", "万佛湖", "淠河", "瓜片", "红石",
           "天堂寨", "金泰", "盛达", "宏发", "聚源", "永辉", "东方", "龙舒", "蓼城", "梅山", "绿源",
           "嘉禾", "润泽", "和顺", "振兴", "兴皖", "中联", "福瑞", "安康", "创新", "六合", "汇丰",
           "泰和", "明珠", "九龙", "鸿运", "锦程", "金叶", "青山", "白鹅", "雨花", "华阳", "长城")

# industry word -> business scope (经营范围)
_INDUSTRIES = (
    ("茶业", "茶叶种植、加工、销售；预包装食品销售。"),
    ("建材", "建筑材料、装饰材料、五金交电销售。"),
    ("农业科技", "农业技术开发、推广服务；农作物种植；农产品初加工及销售。"),
    ("商贸", "日用百货、服装鞋帽、家用电器、文具用品销售。"),
    ("电子科技", "电子元器件研发、生产、销售；软件开发。"),
    ("信息技术", "信息系统集成服务；软件开发；数据处理和存储支持服务。"),
    ("建筑工程", "房屋建筑工程、市政公用工程施工；土石方工程。"),
    ("物流", "普通货物道路运输；仓储服务（不含危险化学品）；装卸搬运。"),
    ("餐饮管理", "餐饮服务；餐饮管理；食品销售。"),
    ("服饰", "服装、服饰加工及销售。"),
    ("食品", "食品生产；食品销售；农副产品收购。"),
    ("新能源科技", "光伏设备及元器件制造、销售；太阳能发电技术服务。"),
    ("汽车销售服务", "汽车新车销售；二手车经销；汽车零配件零售；机动车修理和维护。"),
    ("房地产开发", "房地产开发经营；物业管理；房地产经纪。"),
    ("旅游开发", "旅游资源开发；旅游景区管理；游览景区管理。"),
    ("竹木制品", "竹木制品加工、销售；家具制造。"),
    ("矿业", "铁矿石开采、选矿及销售（凭许可证经营）。"),
    ("劳务", "劳务服务（不含劳务派遣）；建筑劳务分包。"),
    ("文化传媒", "广告设计、制作、代理；组织文化艺术交流活动。"),
    ("机械制造", "通用设备制造；机械零部件加工；金属结构制造。"),
    ("环保科技", "环保技术推广服务；污水处理；固体废物治理。"),
    ("羽绒制品", "羽毛（绒）加工及制品制造、销售；服装制造。"),
    ("中药材", "中药材种植、收购、初加工及销售。"),
    ("医疗器械", "第一类、第二类医疗器械销售。"),
)
_SHOPS = ("小吃店", "便利店", "五金店", "理发店", "农资店", "茶叶店", "烟酒店", "服装店", "手机店",
          "早餐店", "水果店", "家电维修部", "百货店", "面馆", "粮油店")
_COOPS = ("茶叶种植", "水稻种植", "生猪养殖", "皖西白鹅养殖", "中药材种植", "蔬菜种植", "油茶种植",
          "黄牛养殖", "水产养殖", "石斛种植")

# (type, share, USCC registration category + type)
_ENTERPRISE_TYPES = (
    ("有限责任公司(自然人投资或控股)", 30, "91"),
    ("有限责任公司(自然人独资)", 14, "91"),
    ("股份有限公司(非上市、自然人投资或控股)", 1, "91"),
    ("有限责任公司分公司(自然人投资或控股)", 3, "91"),
    ("个人独资企业", 4, "91"),
    ("普通合伙企业", 1, "91"),
    ("个体工商户", 42, "92"),
    ("农民专业合作社", 5, "93"),
)
_ENTERPRISE_TYPE_CUM = [sum(t[1] for t in _ENTERPRISE_TYPES[: i + 1]) for i in range(len(_ENTERPRISE_TYPES))]

_STATUSES = (("存续", 70), ("在业", 14), ("注销", 11), ("吊销，未注销", 3), ("迁出", 2))
_STATUS_CUM = [sum(s[1] for s in _STATUSES[: i + 1]) for i in range(len(_STATUSES))]

_USCC_REFORM = dt.date(2015, 10, 1)  # three certificates in one: new bodies start "MA"
_ALPHABET_SIZE = len(USCC_ALPHABET)


# -- Small helpers -------------------------------------------------------------------------------


def _area(rng: random.Random):
    return rng.choices(AREAS, cum_weights=_CUM_AREA_WEIGHTS)[0]


def _person_name(rng: random.Random) -> str:
    given = rng.choice(_GIVEN) if rng.random() < 0.3 else rng.choice(_GIVEN) + rng.choice(_GIVEN)
    return rng.choice(_SURNAMES) + given


def _mobile(rng: random.Random) -> str:
    return f"{rng.choice(_MOBILE_PREFIXES)}{rng.randrange(100_000_000):08d}"


def _landline(rng: random.Random) -> str:
    return f"0564-{rng.randrange(2_000_000, 8_999_999)}"


def _date(rng: random.Random, start: dt.date, end: dt.date) -> dt.date:
    return start + dt.timedelta(days=rng.randrange((end - start).days + 1))


def _street_address(rng: random.Random, area) -> str:
    return f"安徽省六安市{area[1]}{rng.choice(area[4])}{rng.randrange(1, 999)}号"


def _rural_address(rng: random.Random, area) -> str:
    return f"安徽省六安市{area[1]}{rng.choice(area[3])}{rng.choice(_VILLAGES)}村{rng.randrange(1, 16)}组"


def _home_address(rng: random.Random, area) -> str:
    if rng.random() < 0.45:
        return (f"{_street_address(rng, area)}{rng.randrange(1, 30)}栋{rng.randrange(1, 5)}单元"
                f"{rng.randrange(1, 19)}0{rng.randrange(1, 5)}室")
    return f"{_rural_address(rng, area)}{rng.randrange(1, 90)}号"


def _base31(value: int, width: int) -> str:
    chars = []
    for _ in range(width):
        value, r = divmod(value, _ALPHABET_SIZE)
        chars.append(USCC_ALPHABET[r])
    return "".join(reversed(chars))


def uscc(prefix: str, area_code: str, body: str) -> str:
    """A valid unified social credit code: 2-char prefix, area, 8-char body, both checks."""
    head = f"{prefix}{area_code}{body}{org_code_check_char(body)}"
    return head + uscc_check_char(head)


def _unique_body(index: int, salt: int, new_style: bool, letters: str = "MA") -> str:
    """A distinct organisation code body per index: a multiplicative bijection, so no two rows of
    one generator share a code and no set of seen codes is needed."""
    if new_style:
        return letters + _base31((index * 7_368_787 + salt) % _ALPHABET_SIZE ** 6, 6)
    return f"{(index * 7_919_113 + salt) % 100_000_000:08d}"


def _salt(rng: random.Random, generator: str) -> int:
    """Where a generator's code bodies start: seeded, and different per generator, so the
    registry, the tax list and the hospitals do not share codes by accident."""
    return rng.randrange(10**6) + zlib.crc32(generator.encode()) * 1_009


def _break_uscc(rng: random.Random, code: str) -> str:
    """Damage a code the way real registers are damaged (documented: INVALID_USCC_SHARE)."""
    kind = rng.randrange(3)
    if kind == 0:  # a wrong check character
        return code[:17] + USCC_ALPHABET[(USCC_ALPHABET.index(code[17]) + 1 + rng.randrange(29)) % 31]
    if kind == 1:  # a letter O typed for a zero, or I for a one, somewhere in the body
        for i in range(8, 17):
            if code[i] in "01":
                return code[:i] + ("O" if code[i] == "0" else "I") + code[i + 1:]
        return code[:17] + USCC_ALPHABET[(USCC_ALPHABET.index(code[17]) + 7) % 31]
    return code[:-1]  # truncated to 17 characters


def citizen_id(rng: random.Random, area_code: str, birth: dt.date, male: bool) -> str:
    """A valid GB 11643 number; the sequence is odd for men, even for women."""
    k = rng.randrange(1, 500)
    sequence = 2 * k - 1 if male else 2 * k
    head = f"{area_code}{birth:%Y%m%d}{sequence:03d}"
    return head + ric_check_char(head)


def _birth_area_code(rng: random.Random, area, birth: dt.date) -> str:
    code = area[0]
    if code == "341504" and birth.year < 2016:  # 叶集区 was carved out of 霍邱县 in 2015
        code = "341522"
    if birth.year < 2000 and rng.random() < 0.6:
        code = _OLD_AREA_CODES[code]
    return code


def _company_name(rng: random.Random, area) -> tuple[str, str]:
    industry, scope = rng.choice(_INDUSTRIES)
    prefix = rng.choice(("六安", "六安市", "安徽", area[1], area[1][:2]))
    return f"{prefix}{rng.choice(_BRANDS)}{industry}有限公司", scope


def _pick(rng: random.Random, cum: list[int], items):
    return rng.choices(items, cum_weights=cum)[0]


# -- Generators ----------------------------------------------------------------------------------


def enterprise_registry(n: int, seed: int = 0) -> Rows:
    """企业登记信息: market entities registered in Lu'an (~0.1% with broken codes, like real data)."""
    yield ["统一社会信用代码", "企业名称", "企业类型", "法定代表人", "注册资本", "成立日期", "登记机关",
           "所属区县", "住所", "经营范围", "登记状态", "联系电话"]
    rng = random.Random(seed)
    salt = _salt(rng, "enterprise_registry")
    start, end = dt.date(1993, 1, 1), dt.date(2025, 12, 31)
    span = (end - start).days
    recent = dt.date(2012, 1, 1)
    for i in range(n):
        area = _area(rng)
        etype, _, prefix = _pick(rng, _ENTERPRISE_TYPE_CUM, _ENTERPRISE_TYPES)
        # most entities are young: half registered since 2012
        founded = (start + dt.timedelta(days=rng.randrange(span)) if rng.random() < 0.5
                   else _date(rng, recent, end))
        code = uscc(prefix, area[0], _unique_body(i, salt, founded >= _USCC_REFORM))
        if rng.random() < INVALID_USCC_SHARE:
            code = _break_uscc(rng, code)
        if prefix == "92":
            name = f"{area[1]}{rng.choice(area[3])}{rng.choice(_SURNAMES)}记{rng.choice(_SHOPS)}"
            scope, capital = "零售；餐饮服务；日用品销售。", rng.choice((1, 2, 3, 5, 10, 20))
        elif prefix == "93":
            name = f"{area[1]}{rng.choice(area[3])}{rng.choice(_BRANDS)}{rng.choice(_COOPS)}专业合作社"
            scope, capital = "组织收购、销售成员生产的农产品；提供技术培训、信息咨询服务。", rng.choice((50, 100, 200, 300, 500))
        else:
            name, scope = _company_name(rng, area)
            if "分公司" in etype:
                name = name.replace("有限公司", f"有限公司{area[1]}分公司")
            capital = rng.choice((3, 10, 30, 50, 100, 100, 200, 300, 500, 1000, 2000, 5000))
        registrar = "六安市市场监督管理局" if rng.random() < 0.15 else f"六安市{area[1]}市场监督管理局"
        if area[0] != "341502" and area[0] != "341503" and area[0] != "341504":
            registrar = f"{area[1]}市场监督管理局"
        address = _street_address(rng, area) if rng.random() < 0.6 else _rural_address(rng, area)
        status = _pick(rng, _STATUS_CUM, _STATUSES)[0]
        yield [code, name, etype, _person_name(rng), f"{capital}.00", founded.isoformat(), registrar,
               area[1], address, scope, status, _mobile(rng)]


def population_extract(n: int, seed: int = 0) -> Rows:
    """人口基础信息摘录: an extract of the population register (synthetic people only)."""
    yield ["公民身份号码", "姓名", "性别", "出生日期", "户籍地址", "所属区县"]
    rng = random.Random(seed)
    seen: set[str] = set()
    start, end = dt.date(1935, 1, 1), dt.date(2024, 12, 31)
    while len(seen) < n:
        area = _area(rng)
        male = rng.random() < 0.51
        birth = _date(rng, start, end)
        number = citizen_id(rng, _birth_area_code(rng, area, birth), birth, male)
        if number in seen:
            continue
        seen.add(number)
        yield [number, _person_name(rng), "男" if male else "女", birth.isoformat(),
               _home_address(rng, area), area[1]]


_STOP_SUFFIXES = ("站", "路口", "东站", "西站", "南站", "北站", "小区", "广场", "学校", "医院")
_LANDMARKS = ("市政务服务中心", "皖西学院", "六安一中", "市人民医院", "万达广场", "高铁站", "客运总站",
              "红街", "九墩塘公园", "东城小区", "三里桥", "城南工业园", "体育中心", "图书馆",
              "苏埠老街", "城北农贸市场", "淠河公园", "经开区管委会")


def bus_stops(n: int, seed: int = 0) -> Rows:
    """公交站点: bus stops with WGS-84 coordinates and the lines that call there."""
    yield ["站点编号", "站点名称", "所属区县", "经度", "纬度", "途经线路", "是否有候车亭"]
    rng = random.Random(seed)
    urban_weights = [40, 35, 4, 6, 6, 5, 4]
    for i in range(n):
        area = rng.choices(AREAS, weights=urban_weights)[0]
        if rng.random() < 0.3:
            name = rng.choice(_LANDMARKS) + rng.choice(("", "东", "西", "南", "北"))
        else:
            name = "{}{}口".format(*rng.sample(area[4], 2)) if rng.random() < 0.5 else (
                rng.choice(area[4]) + rng.choice(_STOP_SUFFIXES))
        radius = 0.06 if area[0] in ("341502", "341503") else 0.03
        lon = area[5] + rng.uniform(-radius, radius)
        lat = area[6] + rng.uniform(-radius, radius)
        lines = sorted(rng.sample(range(1, 60), rng.randrange(1, 6)))
        yield [f"LA{area[0][-2:]}{i + 1:05d}", name, area[1], f"{lon:.6f}", f"{lat:.6f}",
               ";".join(f"{x}路" for x in lines), "true" if rng.random() < 0.55 else "false"]


_STATIONS = (("市环境监测站", "金安区"), ("皖西学院", "金安区"), ("开发区", "金安区"), ("城南", "裕安区"),
             ("叶集区站", "叶集区"), ("霍邱县站", "霍邱县"), ("舒城县站", "舒城县"), ("金寨县站", "金寨县"),
             ("霍山县站", "霍山县"))

_IAQI = (0, 50, 100, 150, 200, 300, 400, 500)
_PM25 = (0, 35, 75, 115, 150, 250, 350, 500)
_PM10 = (0, 50, 150, 250, 350, 420, 500, 600)
_O3_8H = (0, 100, 160, 215, 265, 800, 800, 800)


def _iaqi(value: float, breakpoints: tuple[int, ...]) -> int:
    for i in range(1, len(breakpoints)):
        if value <= breakpoints[i]:
            lo, hi = breakpoints[i - 1], breakpoints[i]
            return math.ceil(_IAQI[i - 1] + (_IAQI[i] - _IAQI[i - 1]) * (value - lo) / (hi - lo))
    return 500


def _aqi_level(aqi: int) -> str:
    for limit, level in ((50, "优"), (100, "良"), (150, "轻度污染"), (200, "中度污染"), (300, "重度污染")):
        if aqi <= limit:
            return level
    return "严重污染"


def air_quality_daily(n: int, seed: int = 0) -> Rows:
    """空气质量日报: daily AQI per monitoring station from 2025-01-01 (HJ 633-2012 sub-indices)."""
    yield ["监测站点", "所属区县", "日期", "AQI", "空气质量等级", "首要污染物", "PM2.5", "PM10", "臭氧8小时"]
    rng = random.Random(seed)
    day = dt.date(2025, 1, 1)
    produced = 0
    while produced < n:
        season = math.cos(2 * math.pi * (day.timetuple().tm_yday - 15) / 365)  # 1 in January
        regional = rng.lognormvariate(0, 0.3)  # weather moves all stations together
        for station, county in _STATIONS:
            if produced == n:
                break
            pm25 = max(3, round((33 + 24 * season) * regional * rng.lognormvariate(0, 0.15)))
            pm10 = max(5, round(pm25 * rng.uniform(1.3, 1.9)))
            o3 = max(10, round((92 - 42 * season) * rng.lognormvariate(0, 0.2)))
            subs = {"PM2.5": _iaqi(pm25, _PM25), "PM10": _iaqi(pm10, _PM10), "O3_8h": _iaqi(o3, _O3_8H)}
            aqi = max(subs.values())
            primary = "" if aqi <= 50 else max(subs, key=subs.__getitem__)
            yield [station, county, day.isoformat(), str(aqi), _aqi_level(aqi), primary, str(pm25),
                   str(pm10), str(o3)]
            produced += 1
        day += dt.timedelta(days=1)


_HOSPITALS = (
    ("六安市人民医院", "综合医院", "三级甲等", "341502", 2200, "皖西大道21号"),
    ("六安市中医院", "中医医院", "三级甲等", "341502", 1200, "人民路76号"),
    ("六安市第二人民医院", "综合医院", "三级", "341503", 900, "寿春路75号"),
    ("六安市妇幼保健院", "妇幼保健院", "三级", "341502", 600, "解放南路11号"),
    ("六安市第四人民医院", "专科医院", "三级", "341503", 500, "淠河路9号"),
    ("霍邱县第一人民医院", "综合医院", "三级", "341522", 1300, "蓼城路1号"),
    ("舒城县人民医院", "综合医院", "二级甲等", "341523", 1100, "春秋路12号"),
    ("金寨县人民医院", "综合医院", "三级", "341524", 1000, "红军大道88号"),
    ("霍山县医院", "综合医院", "二级甲等", "341525", 900, "衡山路102号"),
    ("叶集区人民医院", "综合医院", "二级甲等", "341504", 600, "史河大道66号"),
)
_AREAS_BY_CODE = {a[0]: a for a in AREAS}


def medical_institutions(n: int, seed: int = 0) -> Rows:
    """医疗机构名录: hospitals, township health centres, community centres and clinics."""
    yield ["机构名称", "统一社会信用代码", "机构类别", "医院等级", "所属区县", "地址", "床位数", "联系电话",
           "医保定点"]
    rng = random.Random(seed)
    salt = _salt(rng, "medical_institutions")
    for i in range(n):
        if i < len(_HOSPITALS):
            name, kind, grade, code, beds, street = _HOSPITALS[i]
            area = _AREAS_BY_CODE[code]
            address = f"安徽省六安市{area[1]}{street}"
            prefix, covered = "12", True
        else:
            area = _area(rng)
            roll = rng.random()
            if roll < 0.35:
                town = rng.choice(area[3])
                name, kind, grade, beds = f"{area[1]}{town}卫生院", "乡镇卫生院", "一级", rng.randrange(20, 120)
                address, prefix, covered = f"安徽省六安市{area[1]}{town}{rng.choice(_VILLAGES)}街", "12", True
            elif roll < 0.55:
                road = rng.choice(area[4])
                name, kind, grade, beds = f"{area[1]}{road}社区卫生服务中心", "社区卫生服务中心", "一级", rng.randrange(0, 40)
                address, prefix, covered = _street_address(rng, area), "12", True
            elif roll < 0.75:
                name = f"六安{rng.choice(_BRANDS)}{rng.choice(('医院', '骨科医院', '眼科医院', '中西医结合医院', '康复医院'))}"
                kind = "民营医院"
                grade, beds = rng.choice(("一级", "二级", "未定级")), rng.randrange(20, 300)
                address, prefix, covered = _street_address(rng, area), "52", rng.random() < 0.8
            else:
                name = f"{area[1]}{rng.choice(_SURNAMES)}氏{rng.choice(('诊所', '口腔诊所', '中医诊所'))}"
                kind, grade, beds = "诊所", "未定级", 0
                address, prefix, covered = _street_address(rng, area), "92", rng.random() < 0.4
        body = _unique_body(i, salt, prefix != "12", "MJ" if prefix == "52" else "MA")
        yield [name, uscc(prefix, area[0], body), kind, grade, area[1], address, str(beds),
               _landline(rng), "true" if covered else "false"]


def tax_credit_a(n: int, seed: int = 0) -> Rows:
    """纳税信用A级纳税人名单: taxpayers rated A for the 2024 evaluation year."""
    yield ["纳税人识别号", "纳税人名称", "评价年度", "信用等级", "主管税务机关"]
    rng = random.Random(seed)
    salt = _salt(rng, "tax_credit_a")
    for i in range(n):
        area = _area(rng)
        name, _ = _company_name(rng, area)
        code = uscc("91", area[0], _unique_body(i, salt, rng.random() < 0.55))
        yield [code, name, "2024", "A", f"国家税务总局六安市{area[1]}税务局"
               if area[0] in ("341502", "341503", "341504") else f"国家税务总局{area[1]}税务局"]


_ORG_KINDS = (
    ("社会团体", "51", ("{p}{x}协会", "{p}{x}商会", "{p}{x}学会", "{p}{x}研究会")),
    ("民办非企业单位", "52", ("{p}{b}幼儿园", "{p}{b}养老服务中心", "{p}{b}职业培训学校",
                              "{p}{b}社会工作服务中心", "{p}{b}康复中心")),
    ("基金会", "53", ("{p}{x}基金会",)),
)
_ORG_FIELDS = ("茶叶", "个体劳动者", "企业家", "律师", "会计", "老年体育", "书法家", "摄影家", "红十字",
               "慈善", "青年创业", "物流", "羽绒行业", "中医药", "教育", "旅游", "电子商务", "乡村振兴")
_SUPERVISORS = ("六安市民政局", "六安市教育局", "六安市人力资源和社会保障局", "六安市卫生健康委员会",
                "六安市文化和旅游局", "六安市农业农村局", "六安市工商业联合会", "六安市科学技术协会")


def social_organizations(n: int, seed: int = 0) -> Rows:
    """社会组织登记: social groups, private non-enterprise units and foundations."""
    yield ["统一社会信用代码", "组织名称", "组织类型", "业务主管单位", "法定代表人", "成立登记日期",
           "注册资金", "所属区县", "住所", "登记状态"]
    rng = random.Random(seed)
    salt = _salt(rng, "social_organizations")
    for i in range(n):
        area = _area(rng)
        kind, prefix, patterns = rng.choices(_ORG_KINDS, weights=(45, 52, 3))[0]
        p = "六安市" if rng.random() < 0.4 else area[1]
        name = rng.choice(patterns).format(p=p, x=rng.choice(_ORG_FIELDS), b=rng.choice(_BRANDS))
        founded = _date(rng, dt.date(1995, 1, 1), dt.date(2025, 11, 30))
        capital = {"社会团体": 3, "民办非企业单位": 10, "基金会": 200}[kind] * rng.choice((1, 1, 2, 5, 10))
        yield [uscc(prefix, area[0], _unique_body(i, salt, founded >= _USCC_REFORM, "MJ")), name, kind,
               rng.choice(_SUPERVISORS), _person_name(rng), founded.isoformat(), f"{capital}.00",
               area[1], _street_address(rng, area),
               rng.choices(("正常", "注销", "撤销"), weights=(92, 6, 2))[0]]


def urban_employment(n: int, seed: int = 0) -> Rows:
    """城镇新增就业统计: monthly new urban jobs per county, from January 2023."""
    yield ["统计年度", "统计月份", "所属区县", "城镇新增就业人数", "失业人员再就业人数",
           "就业困难人员就业人数", "城镇登记失业率"]
    rng = random.Random(seed)
    year, month, produced = 2023, 1, 0
    while produced < n:
        for area in AREAS:
            if produced == n:
                break
            base = area[7] * 28 * (1.35 if month in (3, 4, 7) else 1.0)  # spring and graduates
            jobs = max(10, round(base * rng.uniform(0.8, 1.2)))
            yield [str(year), str(month), area[1], str(jobs), str(round(jobs * rng.uniform(0.18, 0.3))),
                   str(round(jobs * rng.uniform(0.05, 0.1))), f"{rng.uniform(2.2, 3.4):.2f}"]
            produced += 1
        year, month = (year + 1, 1) if month == 12 else (year, month + 1)


# use, term in years, price range in 元 per square metre
_LAND_USES = (("工业用地", 50, 180, 320), ("城镇住宅用地", 70, 2_000, 6_500), ("商服用地", 40, 1_000, 3_500),
              ("仓储用地", 50, 170, 300), ("城镇住宅-普通商品住房用地", 70, 1_800, 5_500))


def land_transfers(n: int, seed: int = 0) -> Rows:
    """土地出让信息: land-use right transfers (国有建设用地使用权出让) with contract and price."""
    yield ["电子监管号", "项目名称", "项目位置", "所属区县", "土地用途", "供地方式", "出让面积",
           "出让年限", "成交价款", "受让单位", "合同签订日期", "经度", "纬度"]
    rng = random.Random(seed)
    counters: dict[tuple[str, int], int] = {}
    for _ in range(n):
        area = _area(rng)
        signed = _date(rng, dt.date(2019, 1, 1), dt.date(2025, 11, 30))
        key = (area[0], signed.year)
        counters[key] = counters.get(key, 0) + 1
        use, years, low, high = rng.choice(_LAND_USES)
        size = rng.uniform(3_000, 120_000 if use == "工业用地" else 60_000)
        price = size * rng.uniform(low, high) / 10_000  # 万元
        buyer, _ = _company_name(rng, area)
        method = "挂牌出让" if rng.random() < 0.8 else rng.choice(("拍卖出让", "协议出让"))
        road, cross = rng.sample(area[4], 2)
        yield [f"{area[0]}{signed.year}B{counters[key]:05d}", f"{buyer.replace('有限公司', '')}建设项目",
               f"{area[1]}{road}与{cross}交叉口{rng.choice('东西南北')}侧", area[1], use, method,
               f"{size:.2f}", str(years), f"{price:.2f}", buyer, signed.isoformat(),
               f"{area[5] + rng.uniform(-0.05, 0.05):.6f}", f"{area[6] + rng.uniform(-0.05, 0.05):.6f}"]


# indicator, unit, city value in 2019, yearly growth, county share scales with population
_INDICATORS = (
    ("地区生产总值", "亿元", 1620.0, 0.060, True), ("第一产业增加值", "亿元", 210.0, 0.035, True),
    ("第二产业增加值", "亿元", 560.0, 0.065, True), ("第三产业增加值", "亿元", 850.0, 0.060, True),
    ("社会消费品零售总额", "亿元", 820.0, 0.055, True), ("一般公共预算收入", "亿元", 112.0, 0.040, True),
    ("进出口总额", "亿元", 60.0, 0.090, True), ("常住人口", "万人", 440.0, -0.006, True),
    ("城镇常住居民人均可支配收入", "元", 33_100.0, 0.055, False),
    ("农村常住居民人均可支配收入", "元", 14_300.0, 0.075, False),
)


def economic_indicators(n: int, seed: int = 0) -> Rows:
    """国民经济主要指标: main economic indicators of the city and its counties, from 2019."""
    yield ["年度", "地区", "指标名称", "计量单位", "数值", "同比增长"]
    rng = random.Random(seed)
    total_weight = sum(_AREA_WEIGHTS)
    regions = [("六安市", 1.0)] + [(a[1], a[7] / total_weight * 0.9) for a in AREAS]
    # per-capita indicators differ by county but keep their level from year to year
    income_factor = {region: 1.0 if region == "六安市" else rng.uniform(0.85, 1.1) for region, _ in regions}
    year, produced = 2019, 0
    previous: dict[tuple[str, str], float] = {}
    while produced < n:
        for indicator, unit, base, growth, scales in _INDICATORS:
            for region, share in regions:
                if produced == n:
                    return
                level = base * (1 + growth) ** (year - 2019)
                level *= share if scales else income_factor[region]
                if year == 2020 and growth > 0:
                    level *= 0.97  # the pandemic year
                level *= rng.uniform(0.99, 1.01)
                before = previous.get((region, indicator))
                change = "" if before is None else f"{(level / before - 1) * 100:.1f}"
                previous[(region, indicator)] = level
                value = f"{level:.0f}.00" if unit == "元" else f"{level:.2f}"
                yield [str(year), region, indicator, unit, value, change]
                produced += 1
        year += 1


_PHARMACY_SCOPE = ("中药饮片、中成药、化学药制剂、抗生素制剂、生化药品", "中成药、化学药制剂、抗生素制剂、生物制品（除疫苗）",
                   "中药饮片、中成药、化学药制剂、抗生素制剂、生化药品、生物制品（除疫苗）、第二类精神药品")


def pharmacies(n: int, seed: int = 0) -> Rows:
    """药品零售企业: licensed pharmacies (药品经营许可证) with their validity period."""
    yield ["企业名称", "统一社会信用代码", "许可证编号", "经营方式", "经营范围", "法定代表人", "注册地址",
           "所属区县", "发证日期", "有效期至"]
    rng = random.Random(seed)
    salt = _salt(rng, "pharmacies")
    chains = ("六安市国药大药房连锁有限公司", "安徽华人健康医药连锁有限公司六安", "六安市百姓缘大药房连锁有限公司",
              "安徽丰原大药房连锁有限公司六安")
    for i in range(n):
        area = _area(rng)
        chain = rng.random() < 0.45
        if chain:
            name = f"{rng.choice(chains)}{rng.choice(area[3] + area[4])}店"
            licence, mode, prefix = f"皖CB564{i + 1:04d}", "零售(连锁)", "91"
        else:
            name = f"{area[1]}{rng.choice(_BRANDS)}{rng.choice(('大药房', '药店', '医药商店', '平价大药房'))}"
            licence, mode, prefix = f"皖DB564{i + 1:04d}", "零售", rng.choice(("91", "92"))
        issued = _date(rng, dt.date(2020, 1, 1), dt.date(2025, 11, 30))
        # a licence runs five years: to the day before the fifth anniversary (29 Feb -> 28 Feb)
        day = min(issued.day, 28) if issued.month == 2 else issued.day
        expires = issued.replace(year=issued.year + 5, day=day) - dt.timedelta(days=1)
        yield [name, uscc(prefix, area[0], _unique_body(i, salt, True)), licence, mode,
               rng.choice(_PHARMACY_SCOPE), _person_name(rng), _street_address(rng, area), area[1],
               issued.isoformat(), expires.isoformat()]


def subsistence_allowance(n: int, seed: int = 0) -> Rows:
    """低保对象名单: households on the minimum living allowance (sensitive; not open)."""
    yield ["户主姓名", "公民身份号码", "所属区县", "乡镇街道", "家庭人口", "保障类别", "月保障金额",
           "联系电话", "享受起始日期"]
    rng = random.Random(seed)
    seen: set[str] = set()
    while len(seen) < n:
        area = _area(rng)
        male = rng.random() < 0.58
        birth = _date(rng, dt.date(1935, 1, 1), dt.date(2000, 12, 31))
        number = citizen_id(rng, _birth_area_code(rng, area, birth), birth, male)
        if number in seen:
            continue
        seen.add(number)
        urban = rng.random() < 0.25
        members = rng.choices((1, 2, 3, 4, 5), weights=(38, 27, 18, 12, 5))[0]
        per_person = 766 if urban else 766 * rng.uniform(0.55, 0.8)  # 2025 standard, 元/人/月
        yield [_person_name(rng), number, area[1], area[2] if urban else rng.choice(area[3]), str(members),
               "城市低保" if urban else "农村低保", f"{per_person * members * rng.uniform(0.5, 1.0):.2f}",
               _mobile(rng), _date(rng, dt.date(2015, 1, 1), dt.date(2025, 11, 1)).isoformat()]


ROW_GENERATORS: dict[str, Callable[..., Rows]] = {
    g.__name__: g for g in (
        enterprise_registry, population_extract, bus_stops, air_quality_daily, medical_institutions,
        tax_credit_a, social_organizations, urban_employment, land_transfers, economic_indicators,
        pharmacies, subsistence_allowance)
}

# The demo writes one asset the way many government offices still do, in GB18030, so uploads
# exercise the importer's encoding detection. Everything else is UTF-8.
FILE_ENCODINGS: dict[str, str] = {"medical_institutions": "gb18030"}


def write_csv(asset_key: str, path: Path, n: int | None = None, encoding: str | None = None,
              seed: int = 0) -> Path:
    """Stream an asset's rows to a CSV file and return its path.

    :param asset_key: the key of an asset in ``marketplace.demo.assets.ASSETS``
    :param path: the file to write (parent directories are created)
    :param n: the number of rows; the asset's ``row_count`` when None
    :param encoding: the file encoding; None means the demo's choice for the asset
        (``FILE_ENCODINGS``: GB18030 for 医疗机构名录, UTF-8 otherwise)
    :param seed: the generator seed
    """
    from marketplace.demo.assets import asset

    meta = asset(asset_key)
    count = meta["row_count"] if n is None else n
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    with path.open("w", encoding=encoding or FILE_ENCODINGS.get(asset_key, "utf-8"), newline="",
                   buffering=1 << 20) as handle:
        csv.writer(handle).writerows(ROW_GENERATORS[meta["rows"]](count, seed))
    return path
