"""Ids and PII: regenerated from masked shapes, never copied, in every script; chunkable."""

import json
import string
import unicodedata

import numpy as np
import pandas as pd
import pytest

from synthgen.errors import InputError, ModelFileError
from synthgen.schema import Column, ColumnKind, TableSchema
from synthgen.unmodelled import (
    _mask,
    fill_unmodelled,
    learn_unmodelled,
    pii_exclusions,
    upgrade_unmodelled,
)

SEPARATORS = set(string.punctuation) | set(" \t")
NAMES = [
    "Иван Петров",
    "Ольга Смирнова",
    "Дмитрий Кузнецов",  # Cyrillic
    "王小明",
    "李娜",
    "张伟",  # CJK
    "José Núñez",
    "Zoë Brontë",
    "François Lefèvre",  # accented Latin
    "محمد علي",
    "فاطمة زهراء",  # Arabic
    "😀 Smile",
    "🌸🌼 Bloom",  # emoji
    "Юкі 田中-42",
    "김민수",
    "たなか ゆき",
    "Ωμέγα Δέλτα",
    "देवनागरी",  # mixed, Hangul, kana, Greek, Devanagari
    "Li",
    "O'Neil",
    "x@bank.example",
]
SCHEMA = TableSchema(
    columns=[
        Column(name="loan_id", kind=ColumnKind.ID),
        Column(name="ref", kind=ColumnKind.ID),
        Column(name="amount", kind=ColumnKind.NUMERIC),
        Column(name="name", kind=ColumnKind.PII, nullable=True),
    ]
)


def _frame(names, n=None):
    n = n or len(names)
    return pd.DataFrame(
        {
            "loan_id": np.arange(n) + 10_000,
            "ref": [f"LN-{i:05d}" for i in range(n)],
            "amount": np.linspace(1.0, 2.0, n),
            "name": [names[i % len(names)] for i in range(n)],
        }
    )


def _source_pairs(values):
    """Every two-character sequence of the source that is not pure separator structure."""
    pairs = set()
    for value in values:
        for i in range(len(value) - 1):
            pair = value[i : i + 2]
            if not set(pair) <= SEPARATORS:
                pairs.add(pair)
    return pairs


def test_no_source_character_reaches_the_templates():
    """No value, no two-character sequence, no character outside the ASCII vocabulary of the keys."""
    templates = learn_unmodelled(_frame(NAMES), SCHEMA, seed=3)
    dumped = json.dumps(templates, ensure_ascii=False)
    for value in NAMES:
        assert value not in dumped
    pairs = _source_pairs(NAMES)
    leaked = {pair for pair in pairs if not pair.isascii() and pair in dumped}
    assert not leaked, leaked
    # the ASCII key names ("pattern", "example"...) aside, the shapes themselves hold no source pair
    shapes = json.dumps(templates["name"]["shapes"], ensure_ascii=False)
    assert not {pair for pair in pairs if pair in shapes}
    structural = set(string.ascii_letters + string.digits) | SEPARATORS
    foreign = {c for value in NAMES for c in value if c not in structural and c in dumped}
    assert not foreign, foreign
    assert dumped.isascii()


def _sibling(char):
    """A different character of the same class: the neighbouring code point that masks alike."""
    if char in SEPARATORS:
        return char
    for step in (1, -1, 2, -2):
        other = chr(ord(char) + step)
        if _mask(other) == _mask(char) and not (char.isascii() ^ other.isascii()):
            return other
    raise AssertionError(char)


def test_templates_depend_only_on_the_shapes():
    """Two sources that differ in every non-separator character give identical templates."""
    other = ["".join(_sibling(c) for c in value) for value in NAMES]
    assert all(a != b for x, y in zip(NAMES, other) for a, b in zip(x, y) if a not in SEPARATORS)
    left = learn_unmodelled(_frame(NAMES), SCHEMA, seed=1)["name"]
    right = learn_unmodelled(_frame(other), SCHEMA, seed=1)["name"]
    assert left == right


def test_output_keeps_script_and_case_and_never_copies():
    real = _frame(NAMES)
    templates = learn_unmodelled(real, SCHEMA, seed=0)
    sampled = real[["amount"]].iloc[[0] * 600].reset_index(drop=True)
    rows = fill_unmodelled(sampled, SCHEMA, templates, seed=5, exclude=pii_exclusions(real, SCHEMA))
    names = rows["name"]
    assert names.notna().all()
    assert not set(names) & set(NAMES)
    shapes = {_mask(v) for v in NAMES}
    assert {_mask(v) for v in names} <= shapes
    scripts = {unicodedata.name(c).split()[0] for v in names for c in v if unicodedata.category(c).startswith("L")}
    assert {"CYRILLIC", "CJK", "LATIN", "ARABIC", "HANGUL", "HIRAGANA", "GREEK", "DEVANAGARI"} <= scripts
    emoji = [v for v in names if _mask(v)[0] == ("*", 1)]
    assert emoji and all(unicodedata.category(v[0]) == "So" for v in emoji)


def test_cyrillic_and_cjk_names_are_not_copied_at_scale():
    """The reported case: 600 of 600 synthetic names equalled real ones."""
    rng = np.random.default_rng(0)
    pool = list("АБВГДЕЖЗИКЛМНОПРСТУФХЦЧШЭЮЯ")
    lower = list("абвгдежзиклмнопрстуфхцчшэюя")
    names = ["".join([rng.choice(pool), *rng.choice(lower, 4)]) for _ in range(300)]
    names += ["".join(chr(int(c)) for c in rng.integers(0x4E00, 0x9FFF, 2)) for _ in range(300)]
    real = _frame(names)
    templates = learn_unmodelled(real, SCHEMA)
    rows = fill_unmodelled(real[["amount"]], SCHEMA, templates, seed=0, exclude=pii_exclusions(real, SCHEMA))
    assert not set(rows["name"]) & set(names)
    assert not {c for v in names for c in v} & set(json.dumps(templates, ensure_ascii=False))


def test_ascii_values_keep_ascii_and_accents_stay_latin():
    emails = [f"person{i}@bank.example" for i in range(50)]
    schema = TableSchema(
        columns=[Column(name="amount", kind=ColumnKind.NUMERIC), Column(name="email", kind=ColumnKind.PII)]
    )
    frame = pd.DataFrame({"amount": np.arange(50.0), "email": emails})
    rows = fill_unmodelled(frame[["amount"]], schema, learn_unmodelled(frame, schema), seed=1)
    assert rows["email"].str.match(r"^[a-z]+\d+@[a-z]+\.[a-z]+$").all()

    accented = pd.DataFrame(
        {"amount": np.arange(40.0), "email": ["Renée Müller", "José Núñez", "Zoë Brontë", "Ana Gómez"] * 10}
    )
    rows = fill_unmodelled(accented[["amount"]], schema, learn_unmodelled(accented, schema), seed=1)
    letters = "".join(rows["email"]).replace(" ", "")
    assert any(not c.isascii() for c in letters), "a column with accents keeps some"
    assert all(unicodedata.name(c).startswith("LATIN") for c in letters)
    assert sum(not c.isascii() for c in letters) < 0.5 * len(letters)


def test_same_seed_same_values_and_seeds_differ():
    real = _frame(NAMES, 200)
    templates = learn_unmodelled(real, SCHEMA)
    once = fill_unmodelled(real[["amount"]], SCHEMA, templates, seed=7)
    pd.testing.assert_frame_equal(once, fill_unmodelled(real[["amount"]], SCHEMA, templates, seed=7))
    other = fill_unmodelled(real[["amount"]], SCHEMA, templates, seed=8)
    assert (once["name"] != other["name"]).mean() > 0.9
    assert once["loan_id"].tolist() == list(range(10_000, 10_200))


def test_chunks_give_the_same_rows_as_one_call():
    real = _frame(NAMES, 300)
    real.loc[::7, "name"] = None
    templates = learn_unmodelled(real, SCHEMA)
    sampled = pd.DataFrame({"amount": np.linspace(0, 1, 10_000)})
    banned = pii_exclusions(real, SCHEMA)
    whole = fill_unmodelled(sampled, SCHEMA, templates, seed=4, exclude=banned)
    parts, offset = [], 0
    for size in (1, 4094, 3001, 2904):
        chunk = sampled.iloc[offset : offset + size].reset_index(drop=True)
        parts.append(fill_unmodelled(chunk, SCHEMA, templates, seed=4, exclude=banned, offset=offset))
        offset += size
    pd.testing.assert_frame_equal(pd.concat(parts, ignore_index=True), whole)
    assert whole["loan_id"].is_unique and whole["ref"].is_unique
    assert whole["ref"].iloc[0] == "LN-00001" and whole["ref"].iloc[-1] == "LN-10000"
    assert 0.08 < whole["name"].isna().mean() < 0.2


def test_offset_must_be_a_non_negative_integer():
    real = _frame(NAMES)
    with pytest.raises(InputError, match="offset"):
        fill_unmodelled(real[["amount"]], SCHEMA, learn_unmodelled(real, SCHEMA), offset=-1)


def test_exclude_escapes_even_exhausted_tiny_shapes():
    """Every one-letter and two-digit value is real: the fill must lengthen rather than loop."""
    names = list(string.ascii_uppercase) + [f"{i:02d}" for i in range(100)] + ["--", "Li"]
    real = _frame(names)
    templates = learn_unmodelled(real, SCHEMA)
    sampled = pd.DataFrame({"amount": np.zeros(3000)})
    rows = fill_unmodelled(sampled, SCHEMA, templates, seed=2, exclude=pii_exclusions(real, SCHEMA))
    produced = set(rows["name"])
    assert not produced & set(names)
    assert {v for v in produced if len(v) == 2 and v[0].isupper() and v[1].islower()}, "'Li' still has free values"
    without = fill_unmodelled(sampled, SCHEMA, templates, seed=2)
    assert set(without["name"]) & set(names), "the check above could fail"


def test_old_templates_are_remasked_and_still_fill():
    old = {
        "loan_id": {"style": "integer", "start": 5, "null_rate": 0.0},
        "ref": {"style": "prefixed", "prefix": "LN-", "digits": 5, "null_rate": 0.0},
        "name": {"style": "pattern", "shapes": ["Aaaa 99", "Иван", "李小龙", "José"], "null_rate": 0.0},
    }
    upgraded = upgrade_unmodelled(old)
    dumped = json.dumps(upgraded["name"], ensure_ascii=False)
    assert dumped.isascii() and "Aaaa" not in dumped
    assert upgraded["name"]["accents"] > 0
    assert upgrade_unmodelled(upgraded) == upgraded
    rows = fill_unmodelled(pd.DataFrame({"amount": np.zeros(400)}), SCHEMA, old, seed=0)
    assert {_mask(v) for v in rows["name"]} <= {_mask(s) for s in old["name"]["shapes"]}
    assert not set(rows["name"]) & {"Иван", "李小龙", "José"}
    assert rows["loan_id"].iloc[0] == 5 and rows["ref"].iloc[0] == "LN-00001"


@pytest.mark.parametrize(
    "templates",
    [
        [1, 2],
        {"name": {"style": "pattern", "version": 2, "shapes": [[["=Ivan", 1]]], "null_rate": 0.0}},
        {"name": {"style": "pattern", "version": 2, "shapes": [[["L:LATIN:l", 0]]], "null_rate": 0.0}},
        {"name": {"style": "pattern", "version": 2, "shapes": [[["L:LATIN:l", 10**6]]], "null_rate": 0.0}},
        {"name": {"style": "pattern", "version": 2, "shapes": [[["L:LATIN:l", 3]]], "null_rate": 2}},
        {"name": {"style": "pattern", "version": 2, "shapes": [[["Иван", 1]]], "null_rate": 0.0}},
        {"name": {"style": "pattern", "version": 9, "shapes": [[["L:LATIN:l", 3]]], "null_rate": 0.0}},
        {"name": {"style": "pattern", "shapes": [["Aa"]], "null_rate": 0.0}},
        {"name": {"style": "magic"}},
        {"ref": {"style": "prefixed", "prefix": 3, "digits": 5, "null_rate": 0.0}},
    ],
)
def test_corrupt_templates_are_model_file_errors(templates):
    with pytest.raises(ModelFileError):
        upgrade_unmodelled(templates)


def test_a_saved_model_holds_no_source_name(tmp_path):
    from synthgen.models import CTGAN, load_model

    real = _frame(NAMES, 200)
    model = CTGAN(device="cpu", epochs=1, batch_size=100, seed=0).fit(real, SCHEMA)
    directory = model.save(tmp_path / "model")
    stored = "".join(p.read_text(encoding="utf-8") for p in directory.rglob("*.json"))
    assert not {c for v in NAMES for c in v if c not in SEPARATORS and not c.isascii()} & set(stored)
    rows = load_model(directory, device="cpu").sample(300, seed=1)
    assert not set(rows["name"].dropna()) & set(NAMES)


def test_a_long_value_is_learned_by_a_bounded_shape():
    real = _frame(["Ж" * 5000, "ab"])
    shapes = learn_unmodelled(real, SCHEMA)["name"]["shapes"]
    assert max(sum(count for _, count in shape) for shape in shapes) == 1024
    rows = fill_unmodelled(pd.DataFrame({"amount": np.zeros(50)}), SCHEMA, learn_unmodelled(real, SCHEMA))
    assert set(rows["name"].str.len()) == {1024, 2}


# -- each public function, directly ------------------------------------------------------------


def _many_shapes(count):
    """``count`` values of distinct masked shapes: 'A', 'A1', 'A11', ..., 'AA', 'AA1', ..."""
    return [("A" * (1 + i // 10)) + ("1" * (i % 10)) for i in range(count)]


def test_learn_unmodelled_is_deterministic_by_seed():
    real = _frame(_many_shapes(150))
    first = learn_unmodelled(real, SCHEMA, seed=11)
    assert learn_unmodelled(real, SCHEMA, seed=11) == first
    assert len(first["name"]["shapes"]) == 64  # more shapes than kept: a seeded choice
    other = learn_unmodelled(real, SCHEMA, seed=12)
    assert other["name"]["shapes"] != first["name"]["shapes"]
    assert {k: v for k, v in other.items() if k != "name"} == {k: v for k, v in first.items() if k != "name"}
    assert learn_unmodelled(real, SCHEMA, seed=-1) == learn_unmodelled(real, SCHEMA, seed=2**64 - 1)


def test_learn_unmodelled_id_templates():
    schema = TableSchema(
        columns=[
            Column(name="n", kind=ColumnKind.ID, nullable=True),
            Column(name="code", kind=ColumnKind.ID),
            Column(name="empty", kind=ColumnKind.ID, nullable=True),
            Column(name="amount", kind=ColumnKind.NUMERIC),
        ]
    )
    frame = pd.DataFrame(
        {
            "n": [30.0, None, 12.0, 40.0],
            "code": ["LN-00010", "LN-00011", "LN-00099", "LN-00100"],
            "empty": [None] * 4,
            "amount": [1.0, 2.0, 3.0, 4.0],
        }
    )
    templates = learn_unmodelled(frame, schema)
    assert templates == {
        "n": {"style": "integer", "start": 12, "null_rate": 0.25},
        "code": {"style": "prefixed", "prefix": "LN-", "digits": 5, "null_rate": 0.0},
        "empty": {"style": "prefixed", "prefix": "", "digits": 6, "null_rate": 1.0},
    }  # modelled columns get no template
    assert upgrade_unmodelled(templates) == templates


def test_integer_ids_continue_across_chunks_with_offset():
    schema = TableSchema(columns=[Column(name="id", kind=ColumnKind.ID), Column(name="x", kind=ColumnKind.NUMERIC)])
    templates = {"id": {"style": "integer", "start": 100, "null_rate": 0.0}}
    chunks = [
        fill_unmodelled(pd.DataFrame({"x": np.zeros(n)}), schema, templates, offset=offset)
        for n, offset in ((5, 0), (3, 5), (0, 8), (4, 8))
    ]
    ids = pd.concat(chunks, ignore_index=True)["id"]
    assert ids.tolist() == list(range(100, 112)) and ids.dtype == np.int64
    two = pd.DataFrame({"x": np.zeros(2)})
    assert fill_unmodelled(two, schema, templates, offset=np.int64(7))["id"].tolist() == [107, 108]
    with pytest.raises(InputError, match="offset must be a non-negative integer, got True"):
        fill_unmodelled(pd.DataFrame({"x": np.zeros(2)}), schema, templates, offset=True)
    with pytest.raises(InputError, match="offset"):
        fill_unmodelled(pd.DataFrame({"x": np.zeros(2)}), schema, templates, offset=2.0)


def test_prefixed_ids_are_numbered_from_the_offset_and_stay_unique_past_their_digits():
    schema = TableSchema(columns=[Column(name="ref", kind=ColumnKind.ID), Column(name="x", kind=ColumnKind.NUMERIC)])
    templates = {"ref": {"style": "prefixed", "prefix": "{A}%-", "digits": 2, "null_rate": 0.0}}
    first = fill_unmodelled(pd.DataFrame({"x": np.zeros(60)}), schema, templates)["ref"]
    second = fill_unmodelled(pd.DataFrame({"x": np.zeros(60)}), schema, templates, offset=60)["ref"]
    both = pd.concat([first, second], ignore_index=True)
    assert both.is_unique and len(both) == 120
    assert both.iloc[0] == "{A}%-01" and both.iloc[98] == "{A}%-99" and both.iloc[99] == "{A}%-100"


def test_fill_unmodelled_orders_columns_as_the_schema_and_leaves_the_sample_alone():
    real = _frame(NAMES)
    templates = learn_unmodelled(real, SCHEMA)
    sampled = pd.DataFrame({"amount": [3.0, 1.0, 2.0]})
    rows = fill_unmodelled(sampled, SCHEMA, templates, seed=0)
    assert list(rows.columns) == ["loan_id", "ref", "amount", "name"]
    assert rows["amount"].tolist() == [3.0, 1.0, 2.0] and list(sampled.columns) == ["amount"]
    assert rows["loan_id"].tolist() == [10_000, 10_001, 10_002]
    assert rows["ref"].tolist() == ["LN-00001", "LN-00002", "LN-00003"]
    without = {k: v for k, v in templates.items() if k != "ref"}
    with pytest.raises(ModelFileError, match="no template for unmodelled column 'ref'"):
        fill_unmodelled(sampled, SCHEMA, without)


def test_pii_streams_differ_by_column_and_exclude_applies_to_its_own_column():
    schema = TableSchema(
        columns=[
            Column(name="a", kind=ColumnKind.PII),
            Column(name="b", kind=ColumnKind.PII),
            Column(name="x", kind=ColumnKind.NUMERIC),
        ]
    )
    letters = list(string.ascii_uppercase[:25])  # every one-letter value but "Z" is real
    real = pd.DataFrame({"a": letters, "b": letters, "x": np.zeros(25)})
    templates = learn_unmodelled(real, schema)
    assert templates["a"] == templates["b"]
    sampled = pd.DataFrame({"x": np.zeros(500)})
    rows = fill_unmodelled(sampled, schema, templates, seed=3, exclude={"a": pii_exclusions(real, schema)["a"]})
    assert not set(rows["a"]) & set(letters)
    assert set(rows["b"]) & set(letters), "column b has no exclusions: real letters come back by chance"
    plain = fill_unmodelled(sampled, schema, templates, seed=3)
    assert (plain["a"] != plain["b"]).mean() > 0.8  # one random stream per column, not one shared
    pd.testing.assert_series_equal(plain["b"], rows["b"])  # excluding in column a does not move column b


def test_pii_exclusions_holds_the_real_pii_values_as_text():
    schema = TableSchema(
        columns=[
            Column(name="email", kind=ColumnKind.PII, nullable=True),
            Column(name="phone", kind=ColumnKind.PII),
            Column(name="loan_id", kind=ColumnKind.ID),
            Column(name="grade", kind=ColumnKind.CATEGORICAL),
            Column(name="absent", kind=ColumnKind.PII),
        ]
    )
    frame = pd.DataFrame(
        {
            "email": ["a@x.io", None, "a@x.io", "b@y.io"],
            "phone": [5551234, 5559876, 5551234, 5550000],
            "loan_id": ["L1", "L2", "L3", "L4"],
            "grade": ["A", "B", "A", "C"],
        }
    )
    assert pii_exclusions(frame, schema) == {"email": {"a@x.io", "b@y.io"}, "phone": {"5551234", "5559876", "5550000"}}


def test_upgrade_unmodelled_upgrades_the_old_format_and_checks_ids():
    old = {
        "n": {"style": "integer", "start": 3},  # the old format had no null_rate
        "ref": {"style": "prefixed", "prefix": "X-", "digits": 4, "null_rate": 0},
        "name": {"style": "pattern", "shapes": ["Aa-9", "Aa-9", "éA"]},  # version 1: example strings
    }
    frozen = json.dumps(old)
    upgraded = upgrade_unmodelled(old)
    assert json.dumps(old) == frozen  # the input is not changed
    assert upgraded["n"] == {"style": "integer", "start": 3, "null_rate": 0.0}
    assert upgraded["ref"]["null_rate"] == 0.0 and isinstance(upgraded["ref"]["null_rate"], float)
    assert upgraded["name"] == {
        "style": "pattern",
        "version": 2,
        "null_rate": 0.0,
        "accents": 0.1667,  # one Latin letter of six is accented
        "shapes": [[["L:LATIN:l", 1], ["L:LATIN:u", 1]], [["L:LATIN:u", 1], ["L:LATIN:l", 1], ["=-", 1], ["N:", 1]]],
    }
    for bad, message in (
        ({"n": {"style": "integer", "start": True}}, "'n': 'start' must be int"),
        ({"ref": {"style": "prefixed", "prefix": "X", "digits": "4"}}, "'ref': 'digits' must be int"),
        ({"n": {"style": "integer", "start": 1, "null_rate": -0.1}}, "'n': 'null_rate' must be a number in"),
        ({"n": "integer"}, "'n' has no valid 'style'"),
        ({"name": {"style": "pattern", "shapes": "Aa"}}, "'name': 'shapes' must be a list of strings"),
        ({"name": {"style": "pattern", "version": 2, "shapes": []}}, "'name': 'shapes' must be a non-empty"),
    ):
        with pytest.raises(ModelFileError, match=message):
            upgrade_unmodelled(bad)


def test_a_schema_and_templates_from_before_faker_still_load_and_fill():
    """Model directories written before `pii:` and `id:` existed: no such keys in schema.json, pattern
    templates for an e-mail column. They load as they were and keep the masked filler."""
    stored_schema = {
        "columns": [
            {"name": "loan_id", "kind": "id", "nullable": False, "min": None, "max": None, "rounding": None},
            {"name": "email", "kind": "pii", "nullable": False, "min": None, "max": None, "rounding": None},
            {"name": "amount", "kind": "numeric", "nullable": False, "min": None, "max": None, "rounding": 2},
        ],
        "target": None,
    }
    schema = TableSchema.from_json_dict(stored_schema)
    assert schema["email"].pii is None and schema["loan_id"].id is None
    stored = {
        "loan_id": {"style": "integer", "start": 7, "null_rate": 0.0},
        "email": {"style": "pattern", "shapes": ["aaaa99@aaaa.aaa"], "null_rate": 0.0},
    }
    rows = fill_unmodelled(pd.DataFrame({"amount": np.zeros(200)}), schema, json.loads(json.dumps(stored)), seed=1)
    assert rows["loan_id"].tolist() == list(range(7, 207))
    assert rows["email"].str.match(r"^[a-z]{4}\d{2}@[a-z]{4}\.[a-z]{3}$").all()
