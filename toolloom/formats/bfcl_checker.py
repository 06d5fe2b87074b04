"""Run BFCL's own AST checker (package `bfcl-eval`) over JSON lines on stdin; one verdict per line out.

Standalone on purpose: it runs in a separate interpreter whose path holds `bfcl-eval` installed with
`--no-deps` (its pinned dependencies clash with ours), so it imports nothing of toolloom.
Input line: {"id", "category", "function": [...], "model_output": [{name: {arg: value}}], "possible_answer": [...]}.
Output line: {"id", "valid", "error", "error_type"}.
"""

import json
import sys
import types

# bfcl_eval.constants.model_config imports every model handler and their SDKs; the AST checker reads it
# only to undo a provider's "." -> "_" renaming of function names. A model entry that renames nothing
# stands in for it, so the checker code itself runs unchanged.
_config = types.ModuleType("bfcl_eval.constants.model_config")
_config.MODEL_CONFIG_MAPPING = {"toolloom/ground-truth": types.SimpleNamespace(underscore_to_dot=False)}
sys.modules["bfcl_eval.constants.model_config"] = _config

from bfcl_eval.constants.enums import Language  # noqa: E402
from bfcl_eval.eval_checker.ast_eval.ast_checker import ast_checker  # noqa: E402

MODEL = "toolloom_ground-truth"  # the checker turns "_" into "/" to look it up


def check(row: dict) -> dict:
    if "irrelevance" in row["category"]:  # BFCL scores irrelevance as "no function call was made"
        ok = not row["model_output"]
        return {
            "valid": ok,
            "error": [] if ok else ["a function was called"],
            "error_type": None if ok else "irrelevance_error:decoder_success",
        }
    try:
        return ast_checker(
            row["function"], row["model_output"], row["possible_answer"], Language.PYTHON, row["category"], MODEL
        )
    except Exception as e:  # a layout the checker cannot read is a failed row, with the reason
        return {"valid": False, "error": [f"{type(e).__name__}: {e}"], "error_type": "checker_crash"}


if __name__ == "__main__":
    for line in sys.stdin:
        if line.strip():
            row = json.loads(line)
            verdict = check(row)
            print(
                json.dumps(
                    {
                        "id": row["id"],
                        "valid": bool(verdict["valid"]),
                        "error": verdict.get("error") or [],
                        "error_type": verdict.get("error_type"),
                    },
                    default=str,
                ),
                flush=True,
            )
