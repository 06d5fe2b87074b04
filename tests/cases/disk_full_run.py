"""Run inside a private mount namespace (`unshare -m`, so the mount vanishes with it): the pipeline
`small` with its home on a tmpfs too small for the run, then again after the tmpfs is given room.
Prints, as JSON, each run's exit status and what the store holds after it."""

import json
import subprocess
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[2]))

from tests.conftest import unaccounted  # noqa: E402
from toolloom.lake.store import Store  # noqa: E402


def run(project: str, home: str) -> dict:
    done = subprocess.run(
        [sys.executable, "-m", "toolloom.cli", "--project", project, "--home", home, "run", "small"],
        capture_output=True,
        text=True,
    )
    store = Store(home)
    versions = store.versions("small", include_incomplete=True)
    latest = Path(project) / "exports" / "small" / "latest"
    return {
        "rc": done.returncode,
        "no_space": "No space left on device" in done.stdout + done.stderr,
        "tail": (done.stdout + done.stderr)[-1500:],
        "latest": latest.resolve().name if latest.exists() else None,
        "versions": [
            {
                "version": v["version"],
                "status": v["status"],
                "tables": v["tables"],
                "problems": unaccounted(store, "small", v["version"]),
            }
            for v in versions
        ],
    }


def main(project: str, home: str, size: str) -> None:
    subprocess.run(["mount", "-t", "tmpfs", "-o", f"size={size}", "tmpfs", home], check=True)
    out = {"full": run(project, home)}
    subprocess.run(["mount", "-o", "remount,size=256m", home], check=True)
    out["with_room"] = run(project, home)
    print(json.dumps(out))


if __name__ == "__main__":
    main(*sys.argv[1:4])
