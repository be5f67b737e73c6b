"""verify, diff, rebuild, versioning and publish on real release folders."""

from __future__ import annotations

import json
import shutil
from pathlib import Path
from unittest import mock

import pytest
from typer.testing import CliRunner

from corpus.cli import app
from corpus.diff import diff_releases
from corpus.pipeline import build
from corpus.publish import publish, upload_plan
from corpus.release import ReleaseError, existing_versions
from corpus.verify import VerificationError, verify_release
from corpus.versioning import next_version, required_bump

ROOT = Path(__file__).resolve().parents[1]
SEEDS = ROOT / "seeds"


@pytest.fixture()
def release(tmp_path: Path) -> Path:
    return build(SEEDS, tmp_path / "ann", tmp_path / "releases", "0.1.0").release.path


def test_verify_passes_on_a_good_release(release: Path):
    passed = verify_release(release)
    assert any("load_dataset opens" in line for line in passed)


def test_verify_catches_one_corrupted_byte(release: Path):
    target = next((release / "spans").glob("*.parquet"))
    data = bytearray(target.read_bytes())
    data[len(data) // 2] ^= 0x01
    target.write_bytes(bytes(data))
    with pytest.raises(VerificationError, match=rf"{target.name}: sha256 does not match"):
        verify_release(release, load=False)
    result = CliRunner().invoke(app, ["verify", str(release)])
    assert result.exit_code == 1 and target.name in result.output


def test_verify_catches_missing_and_extra_files(release: Path):
    (release / "notes.txt").write_text("x")
    with pytest.raises(VerificationError, match="notes.txt: not listed"):
        verify_release(release, load=False)
    (release / "notes.txt").unlink()
    (release / "README.md").unlink()
    with pytest.raises(VerificationError, match="README.md: listed in manifest.json but missing"):
        verify_release(release, load=False)


def test_verify_catches_a_schema_break_even_with_matching_checksums(release: Path):
    import hashlib

    import pyarrow as pa
    import pyarrow.parquet as pq

    path = next((release / "spans").glob("train-*.parquet"))
    table = pq.read_table(path)
    ends = table.column("end").to_pylist()
    ends[0] += 5
    table = table.set_column(table.schema.get_field_index("end"), "end", pa.array(ends, pa.int32()))
    pq.write_table(table, path)
    manifest = json.loads((release / "manifest.json").read_text())
    rel = path.relative_to(release).as_posix()
    manifest["files"][rel] = {
        "sha256": hashlib.sha256(path.read_bytes()).hexdigest(),
        "bytes": path.stat().st_size,
    }
    (release / "manifest.json").write_text(json.dumps(manifest))
    with pytest.raises(VerificationError, match="schema:"):
        verify_release(release, load=False)


def test_diff_reports_added_documents_and_changed_spans(tmp_path: Path):
    seeds = tmp_path / "seeds"
    seeds.mkdir()
    for p in sorted(SEEDS.glob("*.txt"))[:3]:
        shutil.copy(p, seeds / p.name)
    old = build(seeds, tmp_path / "ann", tmp_path / "r", "0.1.0").release.path
    shutil.copy(sorted(SEEDS.glob("*.txt"))[3], seeds)
    first = sorted(SEEDS.glob("*.txt"))[0]
    (seeds / first.name).write_text(first.read_text(encoding="utf-8") + "\nবিজ্ঞাপন\n", encoding="utf-8")
    new = build(seeds, tmp_path / "ann", tmp_path / "r", "0.2.0").release.path
    result = diff_releases(old, new)
    assert result["documents_added"] == [sorted(SEEDS.glob("*.txt"))[3].stem]
    assert result["documents_changed"] == [first.stem]
    assert result["label_count_delta"]["boilerplate"] > 0
    cli = CliRunner().invoke(app, ["diff", str(old), str(new), "--json"])
    assert cli.exit_code == 0 and json.loads(cli.stdout)["summary"]["documents_added"] == 1
    assert required_bump(old, new) == "minor"


def test_versioning_policy_and_bump_refusal(tmp_path: Path):
    assert next_version(None, "minor") == "0.1.0"
    assert next_version("0.1.0", "minor") == "0.2.0"
    assert next_version("0.2.3", "major") == "1.0.0"
    assert next_version("0.2.3", "patch") == "0.2.4"
    out = tmp_path / "releases"
    runner = CliRunner()
    first = runner.invoke(
        app, ["build", "--seeds", str(SEEDS), "--annotations", str(tmp_path / "a"), "--output", str(out)]
    )
    assert first.exit_code == 0, first.output
    seeds = tmp_path / "seeds"
    shutil.copytree(SEEDS, seeds)
    (seeds / "000_081df080863af009.txt").unlink()
    refused = runner.invoke(
        app,
        [
            "build",
            "--seeds",
            str(seeds),
            "--annotations",
            str(tmp_path / "a"),
            "--output",
            str(out),
            "--bump",
            "patch",
        ],
    )
    assert refused.exit_code == 1 and "use --bump minor" in refused.output
    assert existing_versions(out) == ["0.1.0"], "a refused release leaves nothing behind"
    bumped = runner.invoke(
        app,
        [
            "build",
            "--seeds",
            str(seeds),
            "--annotations",
            str(tmp_path / "a"),
            "--output",
            str(out),
            "--bump",
            "minor",
        ],
    )
    assert bumped.exit_code == 0, bumped.output
    assert existing_versions(out) == ["0.1.0", "0.2.0"]
    changelog = (out / "CHANGELOG.md").read_text(encoding="utf-8")
    assert "## v0.1.0" in changelog and "## v0.2.0" in changelog and "1 removed" in changelog


def test_rebuild_is_byte_identical_and_refuses_changed_inputs(tmp_path: Path):
    seeds = tmp_path / "seeds"
    shutil.copytree(SEEDS, seeds)
    release = build(seeds, tmp_path / "ann", tmp_path / "releases", "0.1.0").release.path
    from corpus.rebuild import rebuild_release

    rebuilt, differ = rebuild_release(release, tmp_path / "again", tmp_path)
    assert (
        differ == [] and (rebuilt / "manifest.json").read_bytes() == (release / "manifest.json").read_bytes()
    )
    (seeds / "004_434d41ac7619c315.txt").write_text("বদলে গেছে।", encoding="utf-8")
    with pytest.raises(ReleaseError, match="004_434d41ac7619c315.txt: recorded input"):
        rebuild_release(release, tmp_path / "third", tmp_path)


def test_committed_release_rebuilds_byte_identical_from_a_clean_checkout(tmp_path: Path):
    latest = existing_versions(ROOT / "releases")[-1]
    result = CliRunner().invoke(app, ["rebuild", str(ROOT / "releases" / f"v{latest}"), "-o", str(tmp_path)])
    assert result.exit_code == 0, result.output
    assert "byte-identical" in result.output


def test_publish_plan_and_calls_without_network(release: Path):
    plan = upload_plan(release, "chhanni/corpus")
    on_disk = sorted(p.relative_to(release).as_posix() for p in release.rglob("*") if p.is_file())
    assert plan["files"] == on_disk and "README.md" in on_disk and "manifest.json" in on_disk
    api = mock.Mock()
    publish(release, "chhanni/corpus", token="hf_secret", api=api)
    api.create_repo.assert_called_once_with(
        "chhanni/corpus", repo_type="dataset", exist_ok=True, private=False
    )
    kwargs = api.upload_folder.call_args.kwargs
    assert kwargs["folder_path"] == str(release) and kwargs["repo_type"] == "dataset"
    api.create_tag.assert_called_once()
    assert api.create_tag.call_args.kwargs["tag"] == "v0.1.0"


def test_publish_without_token_prints_plan_and_uploads_nothing(release: Path, monkeypatch):
    monkeypatch.delenv("HF_TOKEN", raising=False)
    monkeypatch.setattr("corpus.publish.find_token", lambda: None)
    result = CliRunner().invoke(app, ["publish", str(release), "--repo-id", "chhanni/corpus"])
    assert result.exit_code == 1 and "no Hugging Face token" in result.output
    assert '"repo_type": "dataset"' in result.output
