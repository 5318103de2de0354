from __future__ import annotations

import time

from hikeshi.contacts.search import Entry, SearchIndex, entries_from_rendered, fold, grams

FAQ = [
    Entry(
        "faq:refund",
        "faq",
        "返金と交換のどちらになりますか。",
        "ご希望に応じて返金または交換いたします。",
    ),
    Entry(
        "faq:serial",
        "faq",
        "製造番号はどこに書いてありますか。",
        "本体底面の銘板シールをご覧ください。",
    ),
    Entry(
        "faq:pickup",
        "faq",
        "回収はいつ来ますか。",
        "宅配業者が3営業日以内に伺います。",
        ("回収", "引き取り"),
    ),
    Entry("faq:app", "faq", "スマホアプリが使えません。", "アプリを再インストールしてください。"),
    Entry(
        "script:opening",
        "script",
        "冒頭（お詫び）",
        "このたびはご迷惑をおかけし申し訳ございません。",
    ),
]


def test_fold_normalises_width_case_and_kana() -> None:
    assert fold("ＡＢＣ　ｶﾀｶﾅ・カタカナ！") == "abcかたかなかたかな"
    assert fold("リコール") == "りこーる"
    assert grams("あいう") == frozenset({"あい", "いう"})
    assert grams("あ") == frozenset({"あ"})
    assert grams("") == frozenset()


def test_best_match_first() -> None:
    index = SearchIndex.build(FAQ)
    assert [h.entry.key for h in index.search("返金")][:1] == ["faq:refund"]
    assert index.search("製造番号")[0].entry.key == "faq:serial"
    assert index.search("引き取り")[0].entry.key == "faq:pickup"  # tags count
    assert index.search("すまほ")[0].entry.key == "faq:app"  # hiragana finds katakana
    assert index.search("ｽﾏﾎ")[0].entry.key == "faq:app"  # half-width katakana
    assert index.search("お詫び")[0].entry.key == "script:opening"


def test_several_words_and_no_match() -> None:
    index = SearchIndex.build(FAQ)
    hits = index.search("回収 いつ")
    assert hits[0].entry.key == "faq:pickup"
    assert index.search("株価") == []
    assert index.search("   ") == []
    assert index.search("") == []


def test_fast_enough_for_every_keystroke() -> None:
    entries = [
        Entry(f"faq:{i}", "faq", f"{e.title}（{i}）", e.body * 3, e.tags)
        for i in range(20)
        for e in FAQ
    ]
    index = SearchIndex.build(entries)
    assert len(index.items) == 100
    started = time.perf_counter()
    for query in ("返金", "製造番号 どこ", "回収はいつ", "アプリ", "申し訳"):
        index.search(query)
    assert (time.perf_counter() - started) / 5 < 0.01


def test_entries_from_a_rendered_pack() -> None:
    rendered = {
        "script": {"opening": "お詫び", "closing": "結び", "hold": "", "callback": "折り返し"},
        "faq": [{"id": "x", "question": "Q", "answer": "A", "tags": ["t"]}],
    }
    entries = entries_from_rendered(rendered)
    assert [e.key for e in entries] == [
        "script:opening",
        "script:callback",
        "script:closing",
        "faq:x",
    ]
    assert entries[-1].tags == ("t",)
    assert entries_from_rendered({}) == []
