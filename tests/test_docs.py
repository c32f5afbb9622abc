"""The documentation site builds with no warning, and its generated configuration reference covers every option."""

from __future__ import annotations

import dataclasses
import subprocess
import sys
from pathlib import Path

from storage_hub.backends.s3_options import S3Options
from storage_hub.contents import StorageContentsManager, StoreCheckpoints

ROOT = Path(__file__).resolve().parent.parent


def test_docs_build_strict_with_generated_reference(tmp_path: Path) -> None:
    result = subprocess.run(
        [sys.executable, "-m", "mkdocs", "build", "--strict", "--site-dir", str(tmp_path)],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert result.returncode == 0, f"mkdocs build --strict failed:\n{result.stdout}\n{result.stderr}"

    reference = (tmp_path / "reference" / "configuration" / "index.html").read_text(encoding="utf-8")
    assert "<!-- generated:" not in reference
    traits = [
        f"{cls.__name__}.{name}"
        for cls in (StorageContentsManager, StoreCheckpoints)
        for name, trait in cls.class_traits(config=True).items()
        if trait.this_class.__module__.startswith("storage_hub.")
    ]
    options = [field.name for field in dataclasses.fields(S3Options)]
    assert traits and options
    missing = [name for name in traits + options if f"<code>{name}</code>" not in reference]
    assert not missing, f"not in the generated configuration reference: {missing}"

    data = (tmp_path / "data" / "index.html").read_text(encoding="utf-8")
    from storage_hub.io_helpers.formats import DATA_FORMATS
    from storage_hub.io_helpers.ml_models import MODEL_FORMATS

    extensions = {ext for fmt in (*DATA_FORMATS, *MODEL_FORMATS) for ext in fmt.extensions}
    assert not [ext for ext in extensions if f"<code>{ext}</code>" not in data]

    troubleshooting = (tmp_path / "troubleshooting" / "index.html").read_text(encoding="utf-8")
    assert "<code>SignatureDoesNotMatch</code>" in troubleshooting
    assert "<code>RequestTimeTooSkewed</code>" in troubleshooting
