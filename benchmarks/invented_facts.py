"""How many final answers of a run the `invented_facts` check would reject: names and years an answer states
that nothing before it says (toolloom/checks/invented.py). Run it over a home's trajectories to see what the
check costs on good data (the offline demo) and what it catches (a small model's run).

  python benchmarks/invented_facts.py --home .toolloom demo             # accepted examples
  python benchmarks/invented_facts.py --home .toolloom demo --all       # every trajectory

Prints each flagged answer with what it invented, then the count; asserts nothing.
"""

import argparse
import json
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from toolloom.checks.invented import conversation_known, invented  # noqa: E402
from toolloom.domain import trajectory_of  # noqa: E402

ACCEPTED = "select t.* from trajectories t join samples s using (traj_id)"


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--home", required=True)
    ap.add_argument("pipeline")
    ap.add_argument("--all", action="store_true", help="every trajectory, not only those the filter accepted")
    args = ap.parse_args()
    sql = "select * from trajectories" if args.all else ACCEPTED
    cli = [str(Path(sys.executable).parent / "toolloom"), "--home", args.home, "query"]
    out = subprocess.run([*cli, "--pipeline", args.pipeline, "--json", sql], capture_output=True, text=True, check=True)
    rows = [json.loads(line) for line in out.stdout.splitlines() if line.strip()]
    flagged = 0
    for row in rows:
        traj = trajectory_of(row)
        if isinstance(traj.get("messages"), str):
            traj["messages"] = json.loads(traj["messages"])
        answer = traj.get("final_answer") or ""
        made_up = invented(answer, conversation_known(traj)) if answer else []
        if made_up:
            flagged += 1
            print(f"{row.get('traj_id')}: {made_up} | {answer[:160]!r}")
    print(f"{flagged} of {len(rows)} final answers state something nothing before them says")
    return 0


if __name__ == "__main__":
    sys.exit(main())
