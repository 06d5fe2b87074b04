"""Format conformance of an export: each config run through its own ecosystem's checker.

`bfcl`: BFCL's AST checker (package `bfcl-eval`, installed apart with `--no-deps` because its pinned
dependencies clash with ours: `toolloom checkers install`), fed each row's verified calls as the
model's answer. `sharegpt` and `xlam`: the layout checks of their format modules. A checker that is
not installed is reported as such, never as a pass.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

from ..checks.arguments import parse_arguments

BFCL_EVAL = "bfcl-eval==2026.3.23"
RUNNER = Path(__file__).with_name("bfcl_checker.py")


def bfcl_checker_home() -> Path:
    """Where `bfcl-eval` is installed: $TOOLLOOM_BFCL_EVAL, else ~/.cache/toolloom/bfcl-eval."""
    return Path(os.environ.get("TOOLLOOM_BFCL_EVAL") or Path.home() / ".cache" / "toolloom" / "bfcl-eval")


def bfcl_checker_installed(home: Path | None = None) -> bool:
    return ((home or bfcl_checker_home()) / "bfcl_eval" / "eval_checker" / "ast_eval" / "ast_checker.py").is_file()


def install_bfcl_checker(home: Path | None = None) -> Path:
    home = home or bfcl_checker_home()
    if not bfcl_checker_installed(home):
        home.mkdir(parents=True, exist_ok=True)
        subprocess.run(
            [
                sys.executable,
                "-m",
                "pip",
                "install",
                "--quiet",
                "--disable-pip-version-check",
                "--no-deps",
                "--target",
                str(home),
                BFCL_EVAL,
            ],
            check=True,
        )
    return home


def calls_of(row: dict) -> list[dict]:
    """A default-config row's calls as BFCL's decoded model output: [{name: {arg: value}}] (arguments as exported,
    objects, or as JSON text)."""
    return [
        {c["function"]["name"]: parse_arguments(c["function"]["arguments"])[0]}
        for m in row["messages"]
        for c in (m.get("tool_calls") or [])
    ]


def run_bfcl_checker(bfcl_rows: list[dict], answers: dict[str, list[dict]], home: Path | None = None) -> list[dict]:
    """BFCL's verdict per row: {"id", "valid", "error", "error_type"}; `answers` maps row id -> model output."""
    home = home or bfcl_checker_home()
    if not bfcl_checker_installed(home):
        raise FileNotFoundError(f"bfcl-eval is not installed in {home} (run `toolloom checkers install`)")
    lines = [
        json.dumps(
            {
                "id": r["id"],
                "category": r["category"],
                "function": json.loads(r["function"]),
                "model_output": answers.get(r["id"], []),
                "possible_answer": json.loads(r["ground_truth"]),
            },
            ensure_ascii=False,
        )
        for r in bfcl_rows
    ]
    env = {k: v for k, v in os.environ.items() if not k.startswith("PYTHON")} | {"PYTHONPATH": str(home)}
    out = subprocess.run(
        [sys.executable, "-S", str(RUNNER)],
        input="\n".join(lines),
        capture_output=True,
        text=True,
        env=env,
        timeout=600,
    )
    if out.returncode != 0:
        raise RuntimeError(f"BFCL checker failed: {out.stderr.strip()[-2000:]}")
    return [json.loads(line) for line in out.stdout.splitlines() if line.strip()]


def conformance(subsets: dict[str, list[dict]], default_rows: list[dict], formats: dict) -> dict[str, dict]:
    """config -> {"checker", "rows", "conforming", "failures": [first few]} for every exported format;
    `formats`: config -> its ExportFormat (whose `problems` check runs unless it is bfcl's outside checker)."""
    report: dict[str, dict] = {}
    for config, rows in subsets.items():
        if config == "bfcl":
            if not bfcl_checker_installed():
                report[config] = {
                    "checker": "bfcl-eval (not installed: `toolloom checkers install`)",
                    "rows": len(rows),
                    "conforming": None,
                    "failures": [],
                }
                continue
            answers = {r["id"]: calls_of(r) for r in default_rows}
            verdicts = run_bfcl_checker(rows, answers)
            failures = [
                {"id": v["id"], "error": " ".join(map(str, v["error"]))[:300]} for v in verdicts if not v["valid"]
            ]
            report[config] = {
                "checker": f"{BFCL_EVAL} ast_checker",
                "rows": len(rows),
                "conforming": sum(v["valid"] for v in verdicts),
                "failures": failures[:5],
            }
        elif config in formats and formats[config].problems is not None:
            check, name = formats[config].problems, formats[config].checker or f"{config} layout"
            verdicts = [(r.get("id"), check(r)) for r in rows]
            found = [(i, p) for i, p in verdicts if p]
            report[config] = {
                "checker": name,
                "rows": len(rows),
                "conforming": sum(not p for _, p in verdicts),
                "failures": [{"id": str(i), "error": "; ".join(p)[:300]} for i, p in found[:5]],
            }
    return report
