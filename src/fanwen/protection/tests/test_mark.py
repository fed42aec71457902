import random
import unicodedata

import pytest
from django.test import override_settings

from fanwen.protection.mark import (
    ALPHABET,
    MARK_LENGTH,
    decode_token,
    embed_mark,
    encode_mark,
    find_marks,
    mark_token,
    strip_marks,
)

ESSAY = (
    "今年以来，我们社区以“邻里守望、温暖同行”为主题，组织党员、居民和共建单位开展了形式多样的志愿服务活动。"
    "全年共开展集中服务活动36场，参与志愿者1200余人次，服务居民近4000人次。\n"
    "一、建好队伍，让志愿服务有人干\n"
    "社区把志愿者招募作为基础工作来抓，通过楼栋长走访、业主群发布、共建单位推荐等方式广泛动员。"
    "目前已注册志愿者218人，按照特长组建了环境整治、关爱老人、政策宣传、文体活动四支小分队。\n"
    "二、找准需求，让志愿服务有人要\n"
    "我们在活动前先做“需求清单”，通过入户走访和意见箱收集居民最关心的问题。针对老旧小区楼道堆物多的问题，"
    "开展了八次楼道清理行动；针对独居老人多的情况，推行“一对一结对”，志愿者每周至少上门或电话问候一次。"
) * 2


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


def test_embedding_changes_nothing_visible_and_repeats_the_mark():
    marked = embed_mark(ESSAY, 1234)
    assert strip_marks(marked) == ESSAY
    assert marked.count("\n") == ESSAY.count("\n")
    ((order_id, count),) = find_marks(marked)
    assert order_id == 1234
    assert count >= len(ESSAY) // 60


def test_marks_follow_cjk_or_punctuation_and_never_split_a_sequence():
    text = "中\u0301文e\u0301，测试\r\n第二行🙂、再来一次。" * 20
    marked = embed_mark(text, 7, every=3)
    assert strip_marks(marked) == text
    assert "\r\n" in marked and marked.count("\r\n") == text.count("\r\n")
    mark = encode_mark(7)
    pieces = marked.split(mark)
    assert len(pieces) > 20
    for before, after in zip(pieces, pieces[1:], strict=False):
        previous = before[-1]
        assert unicodedata.category(previous).startswith("P") or "\u4e00" <= previous <= "\u9fff"
        if after:
            assert unicodedata.category(after[0]) not in ("Mn", "Mc", "Me")


def test_embedding_again_replaces_the_old_mark():
    twice = embed_mark(embed_mark(ESSAY, 1), 2)
    assert [order_id for order_id, _count in find_marks(twice)] == [2]


@pytest.mark.parametrize("form", ["NFC", "NFKC"])
def test_the_mark_survives_normalization(form):
    normalized = unicodedata.normalize(form, embed_mark(ESSAY, 98765))
    assert find_marks(normalized)[0][0] == 98765


@pytest.mark.parametrize("start", [0, 37, 150, 301, len(ESSAY) - 200])
def test_a_200_character_excerpt_is_enough(start):
    excerpt = visible_excerpt(embed_mark(ESSAY, 555), start, 200)
    assert len(strip_marks(excerpt)) == 200
    assert find_marks(excerpt)[0][0] == 555


def test_a_cut_that_glues_part_of_a_mark_to_a_whole_one_still_finds_it():
    mark = encode_mark(31337)
    assert find_marks("前文" + mark[9:] + mark + "后文") == [(31337, 1)]


def test_the_mark_survives_a_plain_text_file(tmp_path):
    path = tmp_path / "leak.txt"
    path.write_text(embed_mark(ESSAY, 2024), encoding="utf-8")
    assert find_marks(path.read_text(encoding="utf-8"))[0][0] == 2024
    assert strip_marks(path.read_bytes().decode("utf-8")) == ESSAY


def test_several_orders_are_listed_most_frequent_first():
    text = embed_mark(ESSAY, 11) + embed_mark(ESSAY[:100], 22)
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
