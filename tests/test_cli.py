"""CLI argument handling, without running notebooks (click's CliRunner)."""

from click.testing import CliRunner

from stat_lib.cli import main


def invoke(*args, home=None):
    argv = (["--home", str(home)] if home else []) + list(args)
    return CliRunner().invoke(main, argv)


def test_bad_period_says_the_accepted_forms(home):
    result = invoke("run", "--period", "October", home=home)
    assert result.exit_code == 2
    assert "October" in result.output and "2026-10" in result.output
    assert "Traceback" not in result.output


def test_unknown_department_lists_the_known_ones(home):
    result = invoke("run", "--period", "2026-10", "--department", "parks", home=home)
    assert result.exit_code == 2
    assert "unknown department 'parks'" in result.output
    assert "sanitation" in result.output and "street-lighting" in result.output


def test_missing_params_file_names_it(tmp_path):
    result = invoke("run", "--period", "2026-10", home=tmp_path)
    assert result.exit_code == 3
    assert str(tmp_path / "params" / "city.yaml") in result.output
    assert "stat-lib --home DIR init" in result.output


def test_wrong_key_names_file_line_and_key(home):
    dept = home / "params" / "departments" / "sanitation.yaml"
    dept.write_text(dept.read_text().replace("result:", "reslt:"))
    result = invoke("metrics", "--period", "2026-10", home=home)
    assert result.exit_code == 3
    assert "sanitation.yaml, line 3, key 'reslt': unknown key" in result.output


def test_dask_executor_needs_a_scheduler(home):
    result = invoke("run", "--period", "2026-10", "--executor", "dask", home=home)
    assert result.exit_code == 2
    assert "--scheduler" in result.output


def test_help_lists_the_commands():
    result = invoke("--help")
    assert result.exit_code == 0
    for command in ("ingest", "run", "metrics", "profiles", "init", "validate", "nightly", "demo"):
        assert command in result.output


def test_every_command_help_lists_its_options_and_the_exit_codes():
    from stat_lib.cli import main as group

    def commands(g, path=()):
        for name, cmd in g.commands.items():
            yield (*path, name), cmd
            if hasattr(cmd, "commands"):
                yield from commands(cmd, (*path, name))
    seen = 0
    for path, cmd in commands(group):
        out = invoke(*path, "--help").output
        assert "Exit codes: 0 ok" in out and "130/143" in out, path
        for param in cmd.params:
            for opt in getattr(param, "opts", []):
                if opt.startswith("--"):
                    assert opt in out, (path, opt)
        seen += 1
    assert seen >= 12


def test_a_command_run_in_process_leaves_the_sigterm_handler_as_it_was(home):
    """The CLI turns SIGTERM into its clean-up only while a command runs: called in-process
    (a test, a notebook), it puts back the handler it found, and from another thread it
    installs none (Python allows signal handlers in the main thread only)."""
    import signal
    import threading

    def mine(signum, frame):
        pass
    before = signal.signal(signal.SIGTERM, mine)
    try:
        result = invoke("run", "--period", "2026-13", home=home)  # a usage error, then back
        assert result.exit_code == 2 and signal.getsignal(signal.SIGTERM) is mine
        outcome = []
        thread = threading.Thread(target=lambda: outcome.append(
            invoke("run", "--period", "2026-13", home=home)))
        thread.start()
        thread.join(60)
        assert outcome and outcome[0].exit_code == 2, outcome and outcome[0].output
        assert signal.getsignal(signal.SIGTERM) is mine
    finally:
        signal.signal(signal.SIGTERM, before)
