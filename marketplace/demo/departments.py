"""The eight Lu'an departments that provide the demo's data assets.

Each code is a valid GB 32100 unified social credit code of a government organ: registration
authority 1 (机构编制), type 1 (机关), area 341500 (六安市), then a GB 11714 organisation code
(8-character body + check) and the GB 32100 check. The bodies are made up but fixed, and the two
check characters are computed, so the codes are deterministic and valid.
"""

from __future__ import annotations

from domain.identifiers import org_code_check_char, uscc_check_char


def government_organ_code(body: str, area: str = "341500") -> str:
    """The unified social credit code of a government organ with organisation code body ``body``."""
    if len(body) != 8:
        raise ValueError("an organisation code body has 8 characters")
    head = f"11{area}{body}{org_code_check_char(body)}"
    return head + uscc_check_char(head)


def _department(key: str, name: str, body: str, phone: str, email: str) -> dict:
    return {"key": key, "name": name, "code": government_organ_code(body),
            "contact": f"办公室 {phone}，{email}"}


DEPARTMENTS: tuple[dict, ...] = (
    _department("public_security", "六安市公安局", "00395061", "0564-3378110", "gaj@luan.gov.cn"),
    _department("civil_affairs", "六安市民政局", "00395088", "0564-3371452", "mzj@luan.gov.cn"),
    _department("human_resources", "六安市人力资源和社会保障局", "00395107", "0564-3377516",
                "rsj@luan.gov.cn"),
    _department("health", "六安市卫生健康委员会", "00395123", "0564-3379201", "wjw@luan.gov.cn"),
    _department("market_regulation", "六安市市场监督管理局", "MB1D4730", "0564-3372315",
                "scjgj@luan.gov.cn"),
    _department("taxation", "国家税务总局六安市税务局", "00395158", "0564-12366",
                "swj@luan.chinatax.gov.cn"),
    _department("natural_resources", "六安市自然资源和规划局", "MB1D4826", "0564-3370618",
                "zrzyj@luan.gov.cn"),
    _department("statistics", "六安市统计局", "00395174", "0564-3373064", "tjj@luan.gov.cn"),
)

DEPARTMENTS_BY_KEY: dict[str, dict] = {d["key"]: d for d in DEPARTMENTS}


def department(key: str) -> dict:
    """The demo department with this key (KeyError names the unknown key)."""
    return DEPARTMENTS_BY_KEY[key]
