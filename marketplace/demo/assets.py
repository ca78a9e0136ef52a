"""Catalogue metadata of the demo's data assets (what the registration use case takes).

Each entry is the plain dict ``domain.metadata.AssetMetadata.parse`` checks, plus four demo
keys: ``key`` (a slug), ``department`` (a key of ``DEPARTMENTS``), ``rows`` (the generator in
``marketplace.demo.rows``) and ``row_count`` (how many rows the demo imports). Information item
names are exactly the generated header, in order. Classification codes follow 《政务信息资源
目录编制指南(试行)》: 类 1 base (项 01 人口, 02 法人, 03 自然资源和空间地理, 04 社会信用),
类 2 theme (项 02 健康保障, 03 社会保障, 04 食品药品安全, 09 城乡建设, 11 生态环保), 类 3 department.
"""

from __future__ import annotations

PIPL = "《中华人民共和国个人信息保护法》"


def _item(name: str, data_type: str, description: str, sensitivity: str = "none",
          key: bool = False) -> dict:
    return {"name": name, "data_type": data_type, "description": description,
            "sensitivity": sensitivity, "key": key}


def _classification(class_code: str, item_code: str, catalog_code: str, detail_code: str = "") -> dict:
    return {"class_code": class_code, "item_code": item_code, "catalog_code": catalog_code,
            "detail_code": detail_code}


_OPEN = {"type": "unconditional", "condition": "", "legal_basis": ""}


def _shared(mode: str) -> dict:
    return {"type": "unconditional", "condition": "", "mode": mode, "legal_basis": ""}


ASSETS: tuple[dict, ...] = (
    {
        "key": "enterprise_registry",
        "department": "market_regulation",
        "name": "六安市企业登记信息",
        "classification": _classification("1", "02", "001"),
        "abstract": "六安市辖区内登记的企业、个体工商户和农民专业合作社的基本登记信息，"
                    "包括统一社会信用代码、名称、类型、注册资本、成立日期和登记状态。",
        "format": "CSV",
        "category": "enterprise",
        "information_items": [
            _item("统一社会信用代码", "string", "GB 32100 统一社会信用代码", key=True),
            _item("企业名称", "string", "市场主体名称"),
            _item("企业类型", "string", "市场主体类型"),
            _item("法定代表人", "string", "法定代表人、负责人或经营者姓名", "name"),
            _item("注册资本", "decimal", "注册资本（资金数额），单位：万元人民币"),
            _item("成立日期", "date", "成立（登记）日期"),
            _item("登记机关", "string", "登记机关名称"),
            _item("所属区县", "string", "住所所在区县"),
            _item("住所", "string", "住所（经营场所）"),
            _item("经营范围", "string", "登记的经营范围"),
            _item("登记状态", "string", "存续、在业、注销、吊销或迁出"),
            _item("联系电话", "string", "企业联系电话（多为经办人手机）", "phone"),
        ],
        "sharing": _shared("接口"),
        "opening": dict(_OPEN),
        "update_cycle": "daily",
        "security_level": 2,
        "related_codes": [],
        "keywords": ["企业", "法人", "市场主体", "统一社会信用代码", "工商登记"],
        "rows": "enterprise_registry",
        "row_count": 100_000,
    },
    {
        "key": "population_extract",
        "department": "public_security",
        "name": "六安市人口基础信息摘录",
        "classification": _classification("1", "01", "001"),
        "abstract": "六安市户籍人口基础信息的摘录，含公民身份号码、姓名、性别、出生日期和户籍地址，"
                    "经审核后以脱敏方式有条件开放。",
        "format": "CSV",
        "category": "population",
        "information_items": [
            _item("公民身份号码", "string", "GB 11643 公民身份号码", "id_number", key=True),
            _item("姓名", "string", "姓名", "name"),
            _item("性别", "string", "男或女"),
            _item("出生日期", "date", "出生日期", "birth_date"),
            _item("户籍地址", "string", "户籍登记地址", "address"),
            _item("所属区县", "string", "户籍所在区县"),
        ],
        "sharing": {"type": "conditional", "condition": "限政务部门依法履职所需，按最小必要原则申请字段",
                    "mode": "接口",
                    "legal_basis": f"{PIPL}第三十四条；《中华人民共和国居民身份证法》第六条；"
                                   "《政务信息资源共享管理暂行办法》第九条"},
        "opening": {"type": "conditional",
                    "condition": "经审核的科研与公共服务场景，签订数据使用协议；身份号码、姓名、地址脱敏后提供",
                    "legal_basis": f"{PIPL}第十三条、第二十八条；《中华人民共和国数据安全法》第三十八条"},
        "update_cycle": "monthly",
        "security_level": 3,
        "related_codes": [],
        "keywords": ["人口", "户籍", "身份证", "人口基础信息"],
        "rows": "population_extract",
        "row_count": 20_000,
    },
    {
        "key": "bus_stops",
        "department": "natural_resources",
        "name": "六安市公交站点",
        "classification": _classification("2", "09", "001"),
        "abstract": "六安市城区及各县城公交站点的位置（WGS-84 经纬度）、途经线路和候车亭设置情况。",
        "format": "CSV",
        "category": "transport",
        "information_items": [
            _item("站点编号", "string", "公交站点编号", key=True),
            _item("站点名称", "string", "站点名称"),
            _item("所属区县", "string", "站点所在区县"),
            _item("经度", "decimal", "WGS-84 经度"),
            _item("纬度", "decimal", "WGS-84 纬度"),
            _item("途经线路", "string", "途经公交线路，分号分隔"),
            _item("是否有候车亭", "boolean", "是否设置候车亭"),
        ],
        "sharing": _shared("文件"),
        "opening": dict(_OPEN),
        "update_cycle": "quarterly",
        "security_level": 1,
        "related_codes": [],
        "keywords": ["公交", "站点", "交通", "出行", "地理位置"],
        "rows": "bus_stops",
        "row_count": 1_200,
    },
    {
        "key": "air_quality_daily",
        "department": "statistics",
        "name": "六安市空气质量日报（2025年）",
        "classification": _classification("2", "11", "001"),
        "abstract": "2025年六安市各环境空气质量监测站点的逐日空气质量指数（AQI）、首要污染物及"
                    "PM2.5、PM10、臭氧浓度。",
        "format": "CSV",
        "category": "energy_environment",
        "information_items": [
            _item("监测站点", "string", "监测站点名称", key=True),
            _item("所属区县", "string", "站点所在区县"),
            _item("日期", "date", "监测日期", key=True),
            _item("AQI", "integer", "空气质量指数（HJ 633-2012）"),
            _item("空气质量等级", "string", "优、良、轻度污染、中度污染、重度污染、严重污染"),
            _item("首要污染物", "string", "AQI 大于 50 时的首要污染物，否则为空"),
            _item("PM2.5", "integer", "PM2.5 日均浓度，微克/立方米"),
            _item("PM10", "integer", "PM10 日均浓度，微克/立方米"),
            _item("臭氧8小时", "integer", "臭氧日最大 8 小时平均浓度，微克/立方米"),
        ],
        "sharing": _shared("接口"),
        "opening": dict(_OPEN),
        "update_cycle": "daily",
        "security_level": 1,
        "related_codes": [],
        "keywords": ["空气质量", "AQI", "PM2.5", "环境", "生态环保"],
        "rows": "air_quality_daily",
        "row_count": 3_285,
    },
    {
        "key": "medical_institutions",
        "department": "health",
        "name": "六安市医疗机构名录",
        "classification": _classification("2", "02", "001"),
        "abstract": "六安市医院、乡镇卫生院、社区卫生服务中心和诊所的名称、类别、等级、床位数和医保定点情况。",
        "format": "CSV",
        "category": "health",
        "information_items": [
            _item("机构名称", "string", "医疗机构名称"),
            _item("统一社会信用代码", "string", "GB 32100 统一社会信用代码", key=True),
            _item("机构类别", "string", "医疗机构类别"),
            _item("医院等级", "string", "医院等级，未评级为“未定级”"),
            _item("所属区县", "string", "机构所在区县"),
            _item("地址", "string", "机构地址"),
            _item("床位数", "integer", "核定床位数"),
            _item("联系电话", "string", "机构对外联系电话"),
            _item("医保定点", "boolean", "是否为医疗保障定点医疗机构"),
        ],
        "sharing": _shared("文件"),
        "opening": dict(_OPEN),
        "update_cycle": "monthly",
        "security_level": 1,
        "related_codes": [],
        "keywords": ["医院", "医疗机构", "卫生院", "医保定点", "健康"],
        "rows": "medical_institutions",
        "row_count": 300,
    },
    {
        "key": "tax_credit_a",
        "department": "taxation",
        "name": "六安市纳税信用A级纳税人名单（2024年度）",
        "classification": _classification("1", "04", "001"),
        "abstract": "经国家税务总局六安市税务局评定的2024年度纳税信用A级纳税人名单。",
        "format": "CSV",
        "category": "social_credit",
        "information_items": [
            _item("纳税人识别号", "string", "纳税人识别号（统一社会信用代码）", key=True),
            _item("纳税人名称", "string", "纳税人名称"),
            _item("评价年度", "integer", "纳税信用评价年度"),
            _item("信用等级", "string", "纳税信用级别"),
            _item("主管税务机关", "string", "主管税务机关名称"),
        ],
        "sharing": _shared("接口"),
        "opening": dict(_OPEN),
        "update_cycle": "yearly",
        "security_level": 1,
        "related_codes": [],
        "keywords": ["纳税信用", "A级纳税人", "税务", "守信激励", "社会信用"],
        "rows": "tax_credit_a",
        "row_count": 2_000,
    },
    {
        "key": "social_organizations",
        "department": "civil_affairs",
        "name": "六安市社会组织登记信息",
        "classification": _classification("1", "02", "002"),
        "abstract": "在六安市各级民政部门登记的社会团体、民办非企业单位和基金会的登记信息。",
        "format": "CSV",
        "category": "enterprise",
        "information_items": [
            _item("统一社会信用代码", "string", "GB 32100 统一社会信用代码", key=True),
            _item("组织名称", "string", "社会组织名称"),
            _item("组织类型", "string", "社会团体、民办非企业单位或基金会"),
            _item("业务主管单位", "string", "业务主管单位"),
            _item("法定代表人", "string", "法定代表人姓名", "name"),
            _item("成立登记日期", "date", "成立登记日期"),
            _item("注册资金", "decimal", "注册资金，单位：万元人民币"),
            _item("所属区县", "string", "登记所在区县"),
            _item("住所", "string", "住所"),
            _item("登记状态", "string", "正常、注销或撤销"),
        ],
        "sharing": _shared("接口"),
        "opening": dict(_OPEN),
        "update_cycle": "monthly",
        "security_level": 1,
        "related_codes": [],
        "keywords": ["社会组织", "社会团体", "民办非企业", "基金会", "民政"],
        "rows": "social_organizations",
        "row_count": 1_500,
    },
    {
        "key": "urban_employment",
        "department": "human_resources",
        "name": "六安市城镇新增就业统计",
        "classification": _classification("3", "03", "001"),
        "abstract": "2023年以来六安市各区县按月统计的城镇新增就业人数、失业人员再就业人数、"
                    "就业困难人员就业人数和城镇登记失业率。",
        "format": "CSV",
        "category": "statistics",
        "information_items": [
            _item("统计年度", "integer", "统计年度", key=True),
            _item("统计月份", "integer", "统计月份（1-12）", key=True),
            _item("所属区县", "string", "区县", key=True),
            _item("城镇新增就业人数", "integer", "当月城镇新增就业人数"),
            _item("失业人员再就业人数", "integer", "当月失业人员再就业人数"),
            _item("就业困难人员就业人数", "integer", "当月就业困难人员实现就业人数"),
            _item("城镇登记失业率", "decimal", "城镇登记失业率，百分比"),
        ],
        "sharing": _shared("库表"),
        "opening": dict(_OPEN),
        "update_cycle": "monthly",
        "security_level": 1,
        "related_codes": [],
        "keywords": ["就业", "城镇新增就业", "失业率", "人社", "统计"],
        "rows": "urban_employment",
        "row_count": 252,
    },
    {
        "key": "land_transfers",
        "department": "natural_resources",
        "name": "六安市国有建设用地使用权出让信息",
        "classification": _classification("1", "03", "001"),
        "abstract": "2019年以来六安市国有建设用地使用权出让的宗地位置、用途、面积、出让年限、"
                    "成交价款和受让单位。",
        "format": "CSV",
        "category": "geospatial",
        "information_items": [
            _item("电子监管号", "string", "土地出让合同电子监管号", key=True),
            _item("项目名称", "string", "项目名称"),
            _item("项目位置", "string", "宗地坐落"),
            _item("所属区县", "string", "宗地所在区县"),
            _item("土地用途", "string", "土地用途"),
            _item("供地方式", "string", "挂牌、拍卖或协议出让"),
            _item("出让面积", "decimal", "出让面积，平方米"),
            _item("出让年限", "integer", "出让年限，年"),
            _item("成交价款", "decimal", "成交价款，万元"),
            _item("受让单位", "string", "受让单位名称"),
            _item("合同签订日期", "date", "出让合同签订日期"),
            _item("经度", "decimal", "宗地中心 WGS-84 经度"),
            _item("纬度", "decimal", "宗地中心 WGS-84 纬度"),
        ],
        "sharing": _shared("接口"),
        "opening": dict(_OPEN),
        "update_cycle": "monthly",
        "security_level": 1,
        "related_codes": [],
        "keywords": ["土地出让", "供地", "国有建设用地", "自然资源", "地理空间"],
        "rows": "land_transfers",
        "row_count": 600,
    },
    {
        "key": "economic_indicators",
        "department": "statistics",
        "name": "六安市国民经济主要指标",
        "classification": _classification("3", "08", "001"),
        "abstract": "2019年以来六安市及各区县地区生产总值、三次产业增加值、社会消费品零售总额、"
                    "居民人均可支配收入等主要经济指标的年度数据。",
        "format": "CSV",
        "category": "statistics",
        "information_items": [
            _item("年度", "integer", "统计年度", key=True),
            _item("地区", "string", "六安市或区县", key=True),
            _item("指标名称", "string", "指标名称", key=True),
            _item("计量单位", "string", "计量单位"),
            _item("数值", "decimal", "指标数值"),
            _item("同比增长", "decimal", "比上年增长，百分比（首年为空）"),
        ],
        "sharing": _shared("库表"),
        "opening": dict(_OPEN),
        "update_cycle": "yearly",
        "security_level": 1,
        "related_codes": [],
        "keywords": ["国民经济", "GDP", "地区生产总值", "统计公报", "居民收入"],
        "rows": "economic_indicators",
        "row_count": 480,
    },
    {
        "key": "pharmacies",
        "department": "market_regulation",
        "name": "六安市药品零售企业名录",
        "classification": _classification("2", "04", "001"),
        "abstract": "持有《药品经营许可证》的六安市药品零售企业和零售连锁门店的许可信息。",
        "format": "CSV",
        "category": "health",
        "information_items": [
            _item("企业名称", "string", "企业（门店）名称"),
            _item("统一社会信用代码", "string", "GB 32100 统一社会信用代码", key=True),
            _item("许可证编号", "string", "药品经营许可证编号"),
            _item("经营方式", "string", "零售或零售(连锁)"),
            _item("经营范围", "string", "许可经营范围"),
            _item("法定代表人", "string", "法定代表人或负责人姓名", "name"),
            _item("注册地址", "string", "注册地址"),
            _item("所属区县", "string", "所在区县"),
            _item("发证日期", "date", "许可证发证日期"),
            _item("有效期至", "date", "许可证有效期截止日期"),
        ],
        "sharing": _shared("接口"),
        "opening": dict(_OPEN),
        "update_cycle": "weekly",
        "security_level": 1,
        "related_codes": [],
        "keywords": ["药店", "药品零售", "药品经营许可证", "食品药品安全"],
        "rows": "pharmacies",
        "row_count": 900,
    },
    {
        "key": "subsistence_allowance",
        "department": "civil_affairs",
        "name": "六安市最低生活保障对象名单",
        "classification": _classification("2", "03", "001"),
        "abstract": "六安市城乡最低生活保障对象的户主、家庭人口、保障类别和保障金额，"
                    "含身份号码、联系方式等敏感个人信息，不向社会开放。",
        "format": "CSV",
        "category": "other",
        "information_items": [
            _item("户主姓名", "string", "户主姓名", "name"),
            _item("公民身份号码", "string", "户主公民身份号码", "id_number", key=True),
            _item("所属区县", "string", "所在区县"),
            _item("乡镇街道", "string", "所在乡镇（街道）"),
            _item("家庭人口", "integer", "保障家庭人口数"),
            _item("保障类别", "string", "城市低保或农村低保"),
            _item("月保障金额", "decimal", "家庭月保障金额，元", "financial"),
            _item("联系电话", "string", "户主联系电话", "phone"),
            _item("享受起始日期", "date", "开始享受低保的日期"),
        ],
        "sharing": {"type": "conditional", "condition": "限民政、医保、教育等部门办理社会救助业务核对使用",
                    "mode": "接口",
                    "legal_basis": "《社会救助暂行办法》；《最低生活保障审核确认办法》（民发〔2021〕57号）；"
                                   f"{PIPL}第三十四条"},
        "opening": {"type": "not_open", "condition": "",
                    "legal_basis": f"{PIPL}第二十八条（敏感个人信息）；《社会救助暂行办法》；"
                                   "《中华人民共和国数据安全法》第三十八条"},
        "update_cycle": "monthly",
        "security_level": 4,
        "related_codes": [],
        "keywords": ["低保", "最低生活保障", "社会救助", "民政"],
        "rows": "subsistence_allowance",
        "row_count": 6_000,
    },
)

ASSETS_BY_KEY: dict[str, dict] = {a["key"]: a for a in ASSETS}

# Columns the import detects as personal (by name or content) that the demo's reviewer clears,
# with the written reason: an institution's published address and switchboard, a licensed
# shop's or a registered organisation's premises. The enterprise registry's 住所 stays masked:
# a sole trader's (个体工商户) domicile is often their home.
CLEARANCES: dict[str, dict[str, str]] = {
    "medical_institutions": {
        "地址": "医疗机构执业地址为依法公示的机构信息，非个人信息",
        "联系电话": "医疗机构对外公开的总机座机号码，非个人联系方式",
    },
    "pharmacies": {"注册地址": "药品经营许可证载明的门店注册地址，依法公示，非个人住址"},
    "social_organizations": {"住所": "社会组织登记住所为依法公示的机构办公地址，非个人住址"},
}

# The keys an asset dict has: the catalogue metadata plus the demo's own four.
ASSET_KEYS = frozenset({
    "key", "department", "name", "classification", "abstract", "format", "category",
    "information_items", "sharing", "opening", "update_cycle", "security_level", "related_codes",
    "keywords", "rows", "row_count",
})


def asset(key: str) -> dict:
    """The demo asset with this key (KeyError names the unknown key)."""
    return ASSETS_BY_KEY[key]
