"""Personal columns detected at import, by name and by content (default-deny, BRIEF §6).

A column that looks personal is masked in every non-full tier until a reviewer clears it, even
when the publisher declared it ``none`` or not at all; so detection errs on the side of finding.
It runs once per import over the importer's sample (at most ``SAMPLE_ROWS`` rows), never in the
streaming loop.

By name: identity numbers, bank cards, phones, birth dates, ages, addresses and names (the
fragments below, checked in that order so 联系人电话 is a phone and 户主姓名 a name). By content,
when most (over half) of a column's non-empty sample values are: GB 11643 identity numbers with
a valid check character, mobile numbers, 16-19 digit numbers passing Luhn, exact addresses (an
administrative marker 省/市/区/县 and a door marker 号/室/栋/幢/组), or Chinese personal names
(2-4 Han characters whose first is a common surname, not ending like a place or an organisation,
and varied).
Birth dates and ages are found by name only: a date column says nothing about whose date it is.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Sequence

from domain.identifiers import is_citizen_id, is_mobile, luhn_is_valid
from domain.metadata import Sensitivity

# (fragment of a column name, kind), first match wins.
NAME_FRAGMENTS: tuple[tuple[str, Sensitivity], ...] = (
    ("身份证", Sensitivity.ID_NUMBER), ("身份号码", Sensitivity.ID_NUMBER),
    ("证件号", Sensitivity.ID_NUMBER),
    ("银行卡", Sensitivity.BANK_CARD), ("银行账", Sensitivity.BANK_CARD),
    ("卡号", Sensitivity.BANK_CARD), ("开户账号", Sensitivity.BANK_CARD),
    ("手机", Sensitivity.PHONE), ("电话", Sensitivity.PHONE), ("联系方式", Sensitivity.PHONE),
    ("出生", Sensitivity.BIRTH_DATE), ("生日", Sensitivity.BIRTH_DATE),
    ("年龄", Sensitivity.AGE),
    ("地址", Sensitivity.ADDRESS), ("住址", Sensitivity.ADDRESS), ("住所", Sensitivity.ADDRESS),
    ("居住地", Sensitivity.ADDRESS), ("户籍地", Sensitivity.ADDRESS),
    ("姓名", Sensitivity.NAME), ("名字", Sensitivity.NAME), ("法定代表人", Sensitivity.NAME),
    ("负责人", Sensitivity.NAME), ("联系人", Sensitivity.NAME), ("经营者", Sensitivity.NAME),
    ("户主", Sensitivity.NAME), ("申请人", Sensitivity.NAME), ("监护人", Sensitivity.NAME),
)

# The most common Chinese surnames (over 85% of the population).
SURNAMES = frozenset(
    "王李张刘陈杨黄赵吴周徐孙马朱胡郭何高林罗郑梁谢宋唐许韩冯邓曹彭曾肖田董袁潘于蒋蔡余杜叶程苏魏吕丁"
    "任沈姚卢姜崔钟谭陆汪范金石廖贾夏韦付傅方白邹孟熊秦邱江尹薛闫段雷侯龙史陶黎贺顾毛郝龚邵万钱严覃武"
    "戴莫孔向汤储常温康施文牛樊葛邢安齐易乔伍庞颜倪庄聂章鲁岳翟殷詹申欧耿关兰焦俞左柳甘祝包宁尚符舒阮"
    "柯纪梅童凌毕单季裴霍涂成苗谷盛曲翁冉骆蓝路游辛靳管柴蒙鲍华喻祁蒲房滕屈饶解牟艾尤阳时穆农司卓古吉"
    "缪简车项连芦麦褚娄窦戚岑景党宫费卜冷晏席卫米柏宗瞿桂全佟应臧闵苟邬边卞姬师和仇栾隋商刁沙荣巫寇"
    "桑郎甄丛仲虞敖巩明佘池查麻苑迟邝")
# Endings of places and organisations, which also start with surname characters (金安区, 霍山县).
_NOT_A_NAME_END = frozenset("省市区县镇乡村街路道号站院局所司店社会部委厅处室科队组馆园场厂校口桥湖山河")
_HAN_NAME = re.compile(r"[\u4e00-\u9fff]{2,4}")
_ADMIN_MARK = re.compile(r"[省市区县]")
_DOOR_MARK = re.compile(r"\d+\s*[号室栋幢组]|[号室栋幢]")


def kind_by_name(column: str) -> Sensitivity | None:
    for fragment, kind in NAME_FRAGMENTS:
        if fragment in column:
            return kind
    return None


def looks_like_name(value: str) -> bool:
    return (_HAN_NAME.fullmatch(value) is not None and value[0] in SURNAMES
            and value[-1] not in _NOT_A_NAME_END)


def looks_like_address(value: str) -> bool:
    return _ADMIN_MARK.search(value) is not None and _DOOR_MARK.search(value) is not None


def looks_like_bank_card(value: str) -> bool:
    return 16 <= len(value) <= 19 and luhn_is_valid(value)


# Content tests in order: the identifiers with check digits first, names last.
CONTENT_TESTS: tuple[tuple[Sensitivity, Callable[[str], bool]], ...] = (
    (Sensitivity.ID_NUMBER, is_citizen_id),
    (Sensitivity.PHONE, is_mobile),
    (Sensitivity.BANK_CARD, looks_like_bank_card),
    (Sensitivity.ADDRESS, looks_like_address),
    (Sensitivity.NAME, looks_like_name),
)


def kind_by_content(values: Sequence[str]) -> Sensitivity | None:
    """The kind most (over half) of the non-empty sample values have, if any.

    Names must also be varied (from 10 matches on, over half of them distinct): people's
    names are, categories that happen to start with a surname character (农村低保) are not.
    """
    present = [v.strip() for v in values if v and v.strip()]
    if not present:
        return None
    for kind, test in CONTENT_TESTS:
        matches = _majority(present, test)
        if matches is None:
            continue
        if kind is Sensitivity.NAME and len(matches) >= 10 and len(set(matches)) * 2 <= len(matches):
            continue
        return kind
    return None


def _majority(values: list[str], test: Callable[[str], bool]) -> list[str] | None:
    """The values passing ``test`` if they are over half; stops once they no longer can be."""
    matches: list[str] = []
    allowed_misses = (len(values) - 1) // 2
    misses = 0
    for value in values:
        if test(value):
            matches.append(value)
        else:
            misses += 1
            if misses > allowed_misses:
                return None
    return matches


def detect_personal(names: Sequence[str], sample: Sequence[Sequence[str]]) -> dict[str, str]:
    """``{column: kind}`` (kind values of ``Sensitivity``) for the columns that look personal.

    :param names: the header, in order
    :param sample: the sample rows (cells as text, one per header name)
    """
    found: dict[str, str] = {}
    for i, name in enumerate(names):
        kind = kind_by_name(name) or kind_by_content([row[i] for row in sample])
        if kind is not None:
            found[name] = kind.value
    return found

