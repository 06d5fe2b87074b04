"""Progress of long stages: the CLI's listener, and the lines a step process prints for itself."""

from toolloom.orchestration import progress


def _report(stage: str, total: int) -> list[str]:
    logged: list[str] = []
    report = progress.reporter(stage, logged.append)
    for done in range(1, total + 1):
        report(done, total)
    return logged


def test_a_listener_sees_every_update_and_the_log_every_tenth():
    seen = []
    progress.add_listener(lambda stage, done, total: seen.append((stage, done, total)))
    try:
        logged = _report("simulate", 40)
    finally:
        progress._listeners.clear()
    assert seen == [("simulate", d, 40) for d in range(1, 41)]
    assert logged[0] == "simulate: 1/40" and logged[-1] == "simulate: 40/40" and len(logged) == 11


def test_a_step_process_prints_its_own_lines_named_after_its_asset(capsys):
    with progress.step("trajectories_shard_1", lines=True):
        _report("simulate", 40)
    lines = capsys.readouterr().err.splitlines()
    assert len(lines) == 10 and all(line.startswith("  trajectories_shard_1 simulate [") for line in lines)
    assert lines[-1].endswith("] 40/40") and "#" * 30 in lines[-1]


def test_without_a_listener_or_lines_nothing_is_printed(capsys):
    with progress.step("trajectories"):
        _report("simulate", 40)
    _report("simulate", 40)
    assert capsys.readouterr().err == ""


def test_the_cli_bar_names_the_stage_only(capsys):
    bar = progress.Bar(lines=True)
    with progress.step("trajectories_shard_0", lines=True):
        bar("simulate", 5, 10)
    assert capsys.readouterr().err == "  simulate   [###############...............] 5/10\n"
