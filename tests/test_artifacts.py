"""The model directory (`synthgen.artifacts`): what is saved comes back, what is malformed is refused by name,
and saving never replaces a folder that is not a synthgen model."""

from __future__ import annotations

import io
import json
import pickle
import stat
import struct
from pathlib import Path

import pandas as pd
import pytest
import torch

from synthgen._version import __version__
from synthgen.artifacts import (
    FILES,
    FORMAT_VERSION,
    ModelFiles,
    check_model_target,
    load_model_dir,
    save_model_dir,
)
from synthgen.errors import InputError, ModelFileError
from synthgen.files import FILE_MODE
from synthgen.schema import infer_schema


def _schema():
    frame = pd.DataFrame(
        {
            "amount": [1.5, 2.25, None, 4.0, 5.5, 6.0],
            "grade": ["A", "B", "A", "C", "B", "A"],
            "loan_id": [f"L{i:04d}" for i in range(6)],
        }
    )
    return infer_schema(frame, target="grade")


def _files(**changes) -> ModelFiles:
    weights = {
        "encoder.weight": torch.arange(6, dtype=torch.float32).reshape(2, 3).T,  # not contiguous
        "encoder.bias": torch.tensor([0.5, -0.25], requires_grad=True),  # saved detached
        "steps": torch.tensor([3, 1, 4], dtype=torch.int64),
        "half": torch.tensor([1.0, 2.0], dtype=torch.bfloat16),
    }
    fields = dict(
        class_name="CTGAN",
        config={"epochs": 2, "batch_size": 10, "device": "cpu", "hidden": [8, 8]},
        schema=_schema(),
        transforms={"amount": {"kind": "numeric", "mean": 3.85, "modes": [1, 2]}, "grade": {"categories": ["A", "B"]}},
        state={"frequencies": {"grade": [0.5, 0.33, 0.17]}, "log": ["epoch 1", "épreuve ✓"], "unmodelled": {}},
        weights=weights,
        synthgen_version="ignored: the version that saves is written",
    )
    fields.update(changes)
    return ModelFiles(**fields)


@pytest.fixture
def saved(tmp_path) -> Path:
    return save_model_dir(tmp_path / "model", _files())


# -- round trip ---------------------------------------------------------------------------------


def test_save_then_load_gives_back_every_part(tmp_path):
    original = _files()
    path = save_model_dir(tmp_path / "deep" / "model", original)  # parent folders are created
    assert path == tmp_path / "deep" / "model"
    assert sorted(p.name for p in path.iterdir()) == sorted(FILES)
    assert sorted(p.name for p in path.parent.iterdir()) == ["model"]  # no staging folder left beside it
    loaded = load_model_dir(path)
    assert loaded.class_name == "CTGAN"
    assert loaded.config == original.config
    assert loaded.schema == original.schema and loaded.schema.target == "grade"
    assert loaded.transforms == original.transforms
    assert loaded.state == original.state
    assert loaded.synthgen_version == __version__
    assert loaded.path == path
    assert set(loaded.weights) == set(original.weights)
    for name, tensor in original.weights.items():
        assert loaded.weights[name].dtype == tensor.dtype, name
        assert torch.equal(loaded.weights[name], tensor.detach()), name
        assert not loaded.weights[name].requires_grad


def test_the_files_are_json_and_safetensors_with_the_normal_mode(saved):
    header = json.loads((saved / "config.json").read_text(encoding="utf-8"))
    assert header == {
        "format_version": FORMAT_VERSION,
        "class": "CTGAN",
        "synthgen_version": __version__,
        "config": _files().config,
    }
    assert json.loads((saved / "schema.json").read_text())["target"] == "grade"
    for name in FILES:  # safetensors writes 0600 on its own; teammates must be able to load the model
        assert stat.S_IMODE((saved / name).stat().st_mode) == FILE_MODE, name


def test_saving_again_replaces_a_model_directory(saved):
    save_model_dir(saved, _files(state={"log": ["second"]}, weights={"w": torch.ones(1)}))
    loaded = load_model_dir(saved)
    assert loaded.state == {"log": ["second"]} and list(loaded.weights) == ["w"]
    assert sorted(p.name for p in saved.parent.iterdir()) == ["model"]


def test_a_state_json_cannot_hold_is_refused_and_nothing_is_left(tmp_path):
    with pytest.raises(ValueError, match="JSON compliant"):
        save_model_dir(tmp_path / "model", _files(state={"loss": float("nan")}))
    assert list(tmp_path.iterdir()) == []  # neither the model nor its staging folder


def test_model_files_path_is_none_until_loaded(saved):
    assert _files().path is None
    assert load_model_dir(str(saved)).path == saved  # a str is accepted; path is a Path


# -- refusals on load ---------------------------------------------------------------------------


def _weights_file(header: dict, data: bytes = b"") -> bytes:
    raw = json.dumps(header).encode()
    return struct.pack("<Q", len(raw)) + raw + data


def _torch_save() -> bytes:
    buffer = io.BytesIO()
    torch.save({"w": torch.zeros(2)}, buffer)  # a pickle inside a zip: never to be unpickled
    return buffer.getvalue()


CORRUPTIONS = {
    "config is a list": ("config.json", b"[1, 2]", "config.json: not a synthgen model config"),
    "config is bad JSON": ("config.json", b"{not json", "config.json: corrupt JSON"),
    "config without a class": ("config.json", b'{"format_version": 1}', "not a synthgen model config"),
    "config of another format": (
        "config.json",
        b'{"format_version": 2, "class": "CTGAN"}',
        "model format version 2 is not supported",
    ),
    "config's config is a list": (
        "config.json",
        b'{"format_version": 1, "class": "CTGAN", "config": [1]}',
        "'config' must be a JSON object, got list",
    ),
    "schema is not a schema": ("schema.json", b'{"columns": "amount"}', "schema.json: invalid schema"),
    "transforms is a list": ("transforms.json", b"[]", "transforms.json: expected a JSON object, got list"),
    "state is not UTF-8": ("state.json", b'{"log": "\xff\xfe"}', "state.json: corrupt JSON"),
    "state is a number": ("state.json", b"3", "state.json: expected a JSON object, got int"),
    "weights are garbage": ("weights.safetensors", b"\x00\x01", "weights.safetensors: corrupt weights file"),
    "weights hold a non-tensor": (
        "weights.safetensors",
        _weights_file({"w": "not a tensor"}),
        "weights.safetensors: corrupt weights file",
    ),
    "weights are truncated": (
        "weights.safetensors",
        _weights_file({"w": {"dtype": "F32", "shape": [2], "data_offsets": [0, 8]}}, b"\0" * 3),
        "weights.safetensors: corrupt weights file",
    ),
    "weights are a pickle": ("weights.safetensors", pickle.dumps({"w": [1.0, 2.0]}), "corrupt weights file"),
    "weights are a torch.save file": ("weights.safetensors", _torch_save(), "corrupt weights file"),
}


@pytest.mark.parametrize("case", sorted(CORRUPTIONS))
def test_a_malformed_file_is_refused_naming_it(saved, case):
    name, content, message = CORRUPTIONS[case]
    (saved / name).write_bytes(content)
    with pytest.raises(ModelFileError, match=message) as info:
        load_model_dir(saved)
    assert str(saved) in str(info.value)


def test_the_weights_file_is_never_unpickled(saved, monkeypatch):
    (saved / "weights.safetensors").write_bytes(_torch_save())
    monkeypatch.setattr(pickle, "loads", lambda *a, **k: pytest.fail("pickle.loads was called"))
    monkeypatch.setattr(torch, "load", lambda *a, **k: pytest.fail("torch.load was called"))
    with pytest.raises(ModelFileError, match="corrupt weights file"):
        load_model_dir(saved)


@pytest.mark.parametrize("missing", FILES)
def test_a_missing_file_is_named(saved, missing):
    (saved / missing).unlink()
    with pytest.raises(ModelFileError, match=rf"not a synthgen model directory \(missing {missing}\)"):
        load_model_dir(saved)


def test_a_folder_in_place_of_a_file_counts_as_missing(saved):
    (saved / "weights.safetensors").unlink()
    (saved / "weights.safetensors").mkdir()
    with pytest.raises(ModelFileError, match="missing weights.safetensors"):
        load_model_dir(saved)


def test_a_missing_or_file_path_is_not_a_model_directory(tmp_path):
    with pytest.raises(ModelFileError, match="model directory not found"):
        load_model_dir(tmp_path / "nowhere")
    (tmp_path / "model.pkl").write_bytes(b"\x80\x04")
    with pytest.raises(ModelFileError, match="model.pkl: model directory not found"):
        load_model_dir(tmp_path / "model.pkl")


def test_model_file_errors_are_input_errors():
    assert issubclass(ModelFileError, InputError)  # the CLI's exit code 2


# -- check_model_target -------------------------------------------------------------------------


def test_a_new_path_is_accepted_and_not_created(tmp_path):
    target = tmp_path / "a" / "b"
    assert check_model_target(str(target)) == target
    assert not (tmp_path / "a").exists()


def test_an_empty_folder_is_accepted(tmp_path):
    assert check_model_target(tmp_path) == tmp_path


def test_an_existing_model_directory_is_accepted(saved):
    assert check_model_target(saved) == saved


def test_a_users_folder_is_refused_naming_what_it_holds(tmp_path):
    folder = tmp_path / "thesis"
    folder.mkdir()
    (folder / "chapter1.txt").write_text("mine")
    with pytest.raises(InputError, match=r"is not a synthgen model directory \(it holds chapter1.txt\)"):
        check_model_target(folder)
    for i in range(2, 6):
        (folder / f"chapter{i}.txt").write_text("mine")
    with pytest.raises(InputError, match=r"it holds chapter1.txt, chapter2.txt, chapter3.txt and 2 more"):
        check_model_target(folder)
    assert len(list(folder.iterdir())) == 5


@pytest.mark.parametrize("config", [b'{"name": "my app settings"}', b"[1]", b"{broken"])
def test_a_folder_with_a_foreign_config_json_is_refused(tmp_path, config):
    (tmp_path / "config.json").write_bytes(config)
    with pytest.raises(InputError, match=r"not a synthgen model directory \(it holds config.json\)"):
        check_model_target(tmp_path)


def test_a_model_directory_with_a_foreign_file_is_refused_naming_it(saved):
    (saved / "notes.md").write_text("mine")
    with pytest.raises(InputError, match=r"holds file\(s\) that are not part of the model \(notes.md\)"):
        check_model_target(saved)
    with pytest.raises(InputError, match="notes.md"):
        save_model_dir(saved, _files())
    assert (saved / "notes.md").read_text() == "mine"


def test_saving_into_a_users_folder_refuses_before_writing(tmp_path):
    folder = tmp_path / "data"
    folder.mkdir()
    (folder / "loans.csv").write_text("a,b\n1,2\n")
    with pytest.raises(InputError, match="loans.csv"):
        save_model_dir(folder, _files())
    assert [p.name for p in folder.iterdir()] == ["loans.csv"]
    assert sorted(p.name for p in tmp_path.iterdir()) == ["data"]  # no staging folder either


def test_a_file_or_a_link_is_refused(tmp_path):
    (tmp_path / "model").write_text("not a folder")
    with pytest.raises(InputError, match="model: exists and is not a folder"):
        check_model_target(tmp_path / "model")
    (tmp_path / "empty").mkdir()
    (tmp_path / "link").symlink_to(tmp_path / "empty")
    with pytest.raises(InputError, match="link: exists and is not a folder"):
        check_model_target(tmp_path / "link")
    (tmp_path / "dangling").symlink_to(tmp_path / "nowhere")
    with pytest.raises(InputError, match="dangling: exists and is not a folder"):
        check_model_target(tmp_path / "dangling")
