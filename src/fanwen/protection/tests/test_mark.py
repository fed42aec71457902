import random
import re
import unicodedata

import pytest
from django.test import override_settings

from fanwen.protection.mark import (
    ALPHABET,
    ANCHORS,
    MARK_EVERY,
    MARK_LENGTH,
    decode_token,
    embed_mark,
    encode_mark,
    find_marks,
    mark_token,
    strip_marks,
)

TITLE = "社区志愿服务工作总结"
BODY = (
    "今年以来，我们社区以“邻里守望、温暖同行”为主题，组织党员、居民和共建单位开展了形式多样的志愿服务活动。"
    "全年共开展集中服务活动36场，参与志愿者1200余人次，服务居民近4000人次。\n"
    "一、建好队伍，让志愿服务有人干\n"
    "社区把志愿者招募作为基础工作来抓，通过楼栋长走访、业主群发布、共建单位推荐等方式广泛动员。"
    "目前已注册志愿者218人，按照特长组建了环境整治、关爱老人、政策宣传、文体活动四支小分队。\n"
    "二、找准需求，让志愿服务有人要\n"
    "我们在活动前先做“需求清单”，通过入户走访和意见箱收集居民最关心的问题。针对老旧小区楼道堆物多的问题，"
    "开展了八次楼道清理行动；针对独居老人多的情况，推行“一对一结对”，志愿者每周至少上门或电话问候一次。"
) * 2
# As the copy button hands it out: title, an empty line, the body.
ESSAY = f"{TITLE}\n\n{BODY}"


def is_ideograph(char: str) -> bool:
    return unicodedata.name(char, "").startswith("CJK UNIFIED IDEOGRAPH")


def mark_places(marked: str) -> list[tuple[int, str, str]]:
    """(visible position, character before, character after) of every run of mark characters."""
    places = []
    visible = 0
    for index, char in enumerate(marked):
        if char in ALPHABET:
            if index == 0 or marked[index - 1] not in ALPHABET:
                after = next((c for c in marked[index:] if c not in ALPHABET), "")
                places.append((visible, marked[index - 1] if index else "", after))
        else:
            visible += 1
    return places


def visible_excerpt(marked: str, start: int, length: int) -> str:
    """`length` visible characters of `marked` from visible position `start`, marks kept."""
    seen = 0
    begin = end = None
    for index, char in enumerate(marked):
        if char in ALPHABET:
            continue
        if seen == start:
            begin = index
        seen += 1
        if seen == start + length:
            end = index + 1
            break
    return marked[begin:end]


def test_every_mark_character_survives_every_normalization_form():
    for char in ALPHABET:
        for form in ("NFC", "NFKC", "NFD", "NFKD"):
            assert unicodedata.normalize(form, f"中{char}文。{char}") == f"中{char}文。{char}"
        assert not char.isspace() and not char.isprintable()


def test_a_mark_is_invisible_fixed_length_and_different_per_order():
    mark = encode_mark(42)
    assert len(mark) == MARK_LENGTH and set(mark) <= set(ALPHABET)
    assert encode_mark(42) == mark
    assert encode_mark(43) != mark
    assert find_marks(f"范文{mark}") == [(42, 1)]


def test_embedding_changes_nothing_visible_and_spreads_the_mark_sparsely():
    marked = embed_mark(ESSAY, 1234)
    assert strip_marks(marked) == ESSAY
    assert marked.count("\n") == ESSAY.count("\n")
    ((order_id, count),) = find_marks(marked)
    assert order_id == 1234
    places = [visible for visible, _before, _after in mark_places(marked)]
    assert count == len(places)
    # No more marks than needed: one per MARK_EVERY characters of the body, give or take one.
    assert len(BODY) // MARK_EVERY <= count <= len(BODY) // MARK_EVERY + 2
    body_start = len(TITLE) + 2
    gaps = [b - a for a, b in zip([body_start, *places], [*places, len(ESSAY)], strict=True)]
    assert max(gaps) <= MARK_EVERY


def test_marks_sit_only_before_an_ideograph_after_full_width_punctuation_or_at_a_line_end():
    text = (
        "标题不打标记\n"
        "中\u0301文e\u0301，测试\r\n第二行🙂、再来一次。“引号”，2024年，word，"
        "括号（内），结束。好\n一、标题行没有标点\n1. 数字开头的行\n“引号开头的行”\n"
        "大家，好。甲、乙。对“结对”，志愿\n"
    ) * 20
    marked = embed_mark(text, 7, every=1, unmarked_lines=())
    assert strip_marks(marked) == text
    places = mark_places(marked)
    assert len(places) > 100
    for visible, before, after in places:
        at_line_end = after in ("\r", "\n", "")
        assert at_line_end or (before in ANCHORS and is_ideograph(after)), (before, after)
        # Never inside a word: not between two letters, digits or ideographs.
        assert not (before.isalnum() and after.isalnum())
        if not at_line_end:
            # Nor after a punctuation pair such as ”，: Chromium trims the pair differently.
            assert is_ideograph(strip_marks(marked)[visible - 2]), (visible, before, after)
    befores = {before for _visible, before, _after in places}
    afters = {after for _visible, _before, after in places}
    assert {"，", "、", "。", "点", "”"} <= befores
    # Never before the punctuation, digits or letters that follow a comma, nor at a line start.
    assert afters.isdisjoint("“2w（1一第")


def test_line_ends_carry_the_mark_only_where_no_punctuation_is_near():
    assert not re.search(f"[{ALPHABET}][\r\n]", embed_mark(ESSAY, 5))
    bare = "没有标点的长段落" * 30  # 240 characters with no full-width punctuation
    marked = embed_mark(f"{TITLE}\n\n{bare}\n{BODY}", 5)
    assert re.search(f"段落[{ALPHABET}]+\n", marked)
    assert find_marks(marked.split("\n")[2])[0][0] == 5


def test_the_title_and_the_lines_asked_for_get_no_mark():
    text = f"{TITLE}，一个逗号\n\n篇一　标题，也有逗号\n{BODY}"
    marked = embed_mark(text, 99, every=5, unmarked_lines={0, 2})
    lines = marked.split("\n")
    assert lines[0] == f"{TITLE}，一个逗号" and lines[2] == "篇一　标题，也有逗号"
    assert find_marks(lines[3])[0][0] == 99


def test_a_mark_without_a_zero_width_space_gets_one_so_the_line_may_still_break_there():
    # WORD JOINER forbids a line break: a gap of joiners alone would move a line end.
    order_id = next(n for n in range(1, 1_000_000) if ALPHABET[0] not in encode_mark(n))
    marked = embed_mark(ESSAY, order_id)
    assert ALPHABET[0] + encode_mark(order_id) in marked
    assert all(ALPHABET[0] in gap for gap in re.findall(f"[{ALPHABET}]+", marked))
    assert find_marks(marked)[0][0] == order_id


def test_embedding_again_replaces_the_old_mark():
    twice = embed_mark(embed_mark(ESSAY, 1), 2)
    assert [order_id for order_id, _count in find_marks(twice)] == [2]


@pytest.mark.parametrize("form", ["NFC", "NFKC"])
def test_the_mark_survives_normalization(form):
    normalized = unicodedata.normalize(form, embed_mark(ESSAY, 98765))
    assert find_marks(normalized)[0][0] == 98765


@pytest.mark.parametrize("form", [None, "NFC", "NFKC"])
def test_any_200_consecutive_characters_are_enough(form):
    marked = embed_mark(ESSAY, 555)
    for start in range(len(ESSAY) - 200 + 1):
        excerpt = visible_excerpt(marked, start, 200)
        assert len(strip_marks(excerpt)) == 200
        if form:
            excerpt = unicodedata.normalize(form, excerpt)
        assert [order_id for order_id, _count in find_marks(excerpt)] == [555], start


def test_a_cut_that_glues_part_of_a_mark_to_a_whole_one_still_finds_it():
    mark = encode_mark(31337)
    assert find_marks("前文" + mark[9:] + mark + "后文") == [(31337, 1)]


def test_the_mark_survives_a_plain_text_file(tmp_path):
    path = tmp_path / "leak.txt"
    path.write_text(embed_mark(ESSAY, 2024), encoding="utf-8")
    assert find_marks(path.read_text(encoding="utf-8"))[0][0] == 2024
    assert strip_marks(path.read_bytes().decode("utf-8")) == ESSAY


def test_several_orders_are_listed_most_frequent_first():
    text = embed_mark(ESSAY, 11) + embed_mark(ESSAY[:220], 22)
    found = find_marks(text)
    assert [order_id for order_id, _count in found] == [11, 22]
    assert found[0][1] > found[1][1] >= 1


def test_another_key_finds_nothing():
    marked = embed_mark(ESSAY, 1234)
    with override_settings(FANWEN_MARK_KEY="another site's key"):
        assert find_marks(marked) == []
        other = embed_mark(ESSAY, 1234)
    assert other != marked
    assert find_marks(other) == []


def test_random_zero_width_noise_finds_nothing():
    rng = random.Random(20240601)
    noise = "".join(rng.choice(ALPHABET) for _ in range(50_000))
    assert find_marks(noise) == []
    sprinkled = "".join(
        char + "".join(rng.choice(ALPHABET) for _ in range(rng.choice([0, 32, 40, 64])))
        for char in ESSAY
    )
    assert find_marks(sprinkled) == []


def test_the_docx_token_round_trips_and_refuses_garbage():
    assert decode_token(mark_token(987654)) == 987654
    assert decode_token("0" * 16) is None
    assert decode_token("not hex at all!!") is None
    assert decode_token("") is None


@pytest.mark.parametrize("order_id", [0, -1, 2**32])
def test_order_ids_outside_the_mark_range_are_refused(order_id):
    with pytest.raises(ValueError):
        encode_mark(order_id)
