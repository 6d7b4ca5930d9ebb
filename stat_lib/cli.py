"""`stat-lib`: a thin click layer over the library. Heavy modules are imported inside commands."""

from __future__ import annotations

import functools
import os
import signal
import sys
from pathlib import Path

import click

from .core.errors import StatLibError, UsageError
from .run.executors import EXECUTORS


def _fail(exc: StatLibError) -> None:
    click.secho(f"error: {exc}", fg="red", err=True)
    sys.exit(exc.exit_code)


def _terminate(signum, frame):
    signal.signal(signal.SIGTERM, signal.SIG_IGN)  # the clean-up is not interrupted twice
    raise KeyboardInterrupt(signal.Signals(signum).name)


def _stopped(exc: KeyboardInterrupt) -> None:
    """One line, then exit at once with 128 + the signal (130 Ctrl-C, 143 SIGTERM).

    The clean-up already ran while the interrupt unwound (workers and kernels stopped, temp
    files removed, the outputs lock released); ``os._exit`` skips the interpreter's exit
    hooks, which would wait for worker threads and could start nothing useful."""
    name = str(exc) if str(exc) == "SIGTERM" else "Ctrl-C"
    click.secho(f"stopped by {name}: unfinished work discarded, previous outputs kept",
                fg="yellow", err=True)
    sys.stdout.flush()
    sys.stderr.flush()
    os._exit(143 if name == "SIGTERM" else 130)


def handles_errors(fn):
    """Turn a ``StatLibError`` into a one-line message and its exit code (no traceback).

    SIGTERM (``systemctl stop``, ``kill``) takes the same clean-up path as Ctrl-C: kernels are
    stopped, temporary files removed, the previous good outputs kept; then one line and exit
    code 143 (130 for Ctrl-C).
    """

    @functools.wraps(fn)
    def wrapper(*args, **kwargs):
        previous = _on_sigterm(_terminate)
        try:
            return fn(*args, **kwargs)
        except StatLibError as exc:
            _fail(exc)
        except KeyboardInterrupt as exc:
            _stopped(exc)
        finally:  # a command called in-process (tests, a notebook) leaves no handler behind
            _on_sigterm(previous)

    return wrapper


def _on_sigterm(handler):
    """Install ``handler`` for SIGTERM; the one it replaces. Only the main thread may (a
    command run from another thread keeps the process's handler): None there."""
    import threading
    if handler is None or threading.current_thread() is not threading.main_thread():
        return None
    return signal.signal(signal.SIGTERM, handler)


class Context:
    def __init__(self, home: Path):
        self.home = home
        self._params = None

    @property
    def params(self):
        if self._params is None:
            from .params import load_params
            self._params = load_params(self.home)
        return self._params


pass_ctx = click.make_pass_decorator(Context)


EXIT_CODES = ("Exit codes: 0 ok; 1 other error; 2 usage; 3 params; 4 source; 5 store missing or "
              "busy; 6 outputs busy; 7 metric; 8 missing tool; 9 submission rejected; 10 a "
              "notebook failed; 11 disk full; 12 stale data (nightly); 130/143 stopped by "
              "Ctrl-C/SIGTERM. See docs/architecture.md, Exit codes.")


class StatLibGroup(click.Group):
    """Every command's ``--help`` ends with the exit codes (subgroups too)."""

    group_class = type  # subgroups made with @group.group() are StatLibGroups

    def add_command(self, cmd, name=None):
        cmd.epilog = cmd.epilog or EXIT_CODES
        super().add_command(cmd, name)


@click.group(cls=StatLibGroup, epilog=EXIT_CODES,
             context_settings={"help_option_names": ["-h", "--help"]})
@click.option("--home", type=click.Path(file_okay=False, path_type=Path), envvar="STAT_LIB_HOME",
              default=".", show_default=True,
              help="Folder holding params/, data/ and outputs/ (env STAT_LIB_HOME).")
@click.version_option(package_name="stat-lib")
@click.pass_context
def main(ctx, home: Path):
    """Stat meetings from 311 data: ingest, run packets, compute figures."""
    ctx.obj = Context(home.resolve())


def _parse_period(text: str):
    from .core.periods import Period
    return Period.parse(text)


def _check_departments(params, departments) -> list[str] | None:
    from .present.notebook_kinds import kind_of
    for slug in departments:
        kind_of(params, slug)  # raises UsageError listing the known ones
    return list(departments) or None


@main.command()
@click.option("--rebuild", is_flag=True,
              help="Re-derive the source store from today's sources alone (after a params "
                   "change); records people entered are never touched.")
@pass_ctx
@handles_errors
def ingest(ctx: Context, rebuild):
    """Load the configured sources into the store and print a quality summary."""
    from .ingest import ingest as run_ingest
    from .run.progress import log_to_stderr
    with log_to_stderr():  # each step with its time, as the nightly's log has them
        report = run_ingest(ctx.params, rebuild=rebuild)
    click.echo(report.summary())


@main.command()
@click.option("--period", required=True, help="2026-10 (month), 2026-W42 (ISO week), 2026-Q3.")
@click.option("--department", "departments", multiple=True, metavar="SLUG",
              help="Run only this department (repeatable; `citywide` for the citywide packet). "
                   "Default: all, plus citywide.")
@click.option("--workers", type=click.IntRange(min=1), default=None,
              help="Notebooks run at once (default: params batch.workers, else the core count).")
@click.option("--force", is_flag=True, help="Re-run notebooks whose inputs did not change.")
@click.option("--pdf", is_flag=True, help="Also write <dept>.pdf beside each HTML packet.")
@click.option("--slides", is_flag=True,
              help="Also write <dept>.slides.html, a self-contained deck for the session screen.")
@click.option("--executor", type=click.Choice(list(EXECUTORS)), default="local", show_default=True,
              help="Where notebooks run (registered executors). dask: workers need no shared "
              "disk (jobs ship their data); dask-shared-disk: workers share the home folder.")
@click.option("--scheduler", default=None, help="Dask scheduler address, with --executor dask.")
@click.option("--wait", type=click.FloatRange(min=0), default=0, show_default=True,
              metavar="SECONDS", help="Wait this long for another run on the same outputs.")
@click.option("--allow-empty", is_flag=True,
              help="Run a period the store holds no data for (refused otherwise).")
@click.option("--audience", type=click.Choice(["internal", "public"]), default="internal",
              show_default=True, help="public: outputs/public/<period>/, no personal data, "
              "small district counts withheld, open data.")
@pass_ctx
@handles_errors
def run(ctx: Context, period, departments, workers, force, pdf, slides, executor, scheduler,
        wait, allow_empty, audience):
    """Execute the period's notebooks and export packets into outputs/<period>/."""
    period = _parse_period(period)
    params = ctx.params
    selected = _check_departments(params, departments)
    if executor.startswith("dask") and not scheduler:
        raise UsageError(f"--executor {executor} needs --scheduler ADDRESS "
                         f"(e.g. tcp://10.0.0.5:8786)")
    from .run.coverage import check_covered
    check_covered(params, period, allow_empty)
    from .run.batch import run_period
    result = run_period(params, period, selected, workers=workers, force=force, pdf=pdf,
                        slides=slides, executor=executor, scheduler=scheduler,
                        lock_timeout=wait, audience=audience)
    click.echo(result.summary())
    if not result.ok:
        sys.exit(result.exit_code)


@main.command()
@click.option("--period", required=True, help="2026-10 (month), 2026-W42 (ISO week), 2026-Q3.")
@click.option("--department", "departments", multiple=True, metavar="SLUG")
@click.option("--format", "fmt", type=click.Choice(["csv", "json"]), default="csv",
              show_default=True)
@pass_ctx
@handles_errors
def metrics(ctx: Context, period, departments, fmt):
    """Print every metric of every department as tidy rows (for spreadsheets, open data)."""
    period = _parse_period(period)
    selected = _check_departments(ctx.params, departments)
    from .metrics.tidy import tidy_figures, to_csv, to_json
    table = tidy_figures(ctx.params, period, selected)
    click.echo((to_csv if fmt == "csv" else to_json)(table), nl=False)


@main.command()
@click.option("--to", "dest", type=click.Path(file_okay=False, path_type=Path), default=None,
              help="Folder to create (default: backups/<YYYYmmdd-HHMMSS> in --home).")
@pass_ctx
@handles_errors
def backup(ctx: Context, dest):
    """Copy the source store and the records store consistently (waits for no writer).

    Exit codes: 0 done; 5 the store is missing or busy (an ingest is running)."""
    from .store.backup import backup as copy_stores
    folder, counts = copy_stores(ctx.params, dest)
    for name, tables in counts.items():
        rows = ", ".join(f"{t} {n:,}" for t, n in tables.items())
        click.echo(f"{name}: {rows}")
    click.echo(f"backup written to {folder}")


@main.command()
@handles_errors
def profiles():
    """List the built-in source profiles, the columns each expects, and the file formats."""
    from .ingest import (permit_profiles, profiles, readers, survey_profiles,
                         telephony_profiles)
    click.echo(profiles.describe())
    click.echo("\nPermit sources (city.yaml `permits:` and `permit_stops:`):\n"
               + permit_profiles.describe())
    click.echo("\nSurvey sources (city.yaml `surveys:`):\n" + survey_profiles.describe())
    click.echo("\nTelephony sources (city.yaml `telephony:`):\n" + telephony_profiles.describe())
    click.echo("\n" + readers.describe())


@main.command()
@click.option("--force", is_flag=True, help="Overwrite existing files.")
@click.option("--notebooks", "customise", is_flag=True,
              help="Also copy the packaged notebooks and templates into --home to customise "
                   "them (a home's own notebooks/ and templates/ override the packaged ones).")
@pass_ctx
@handles_errors
def init(ctx: Context, force, customise):
    """Write a commented params skeleton into --home."""
    from .params.skeleton import init as write_skeleton
    paths = [] if customise and (ctx.home / "params" / "city.yaml").exists() and not force \
        else write_skeleton(ctx.home, force=force)
    if customise:
        from .present.resources import copy_into
        paths += copy_into(ctx.home, force=force)
    for path in paths:
        click.echo(f"wrote {path}")


@main.command()
@pass_ctx
@handles_errors
def validate(ctx: Context):
    """Check params and sources; list every problem at once."""
    from .ingest.validate import validate as check
    problems = check(ctx.home)
    from .core.errors import ParamsError
    from .metrics.briefing import chosen_problems
    try:  # the briefing's measures: registered metrics or KPIs (params errors: listed above)
        problems += [str(p) for p in chosen_problems(ctx.params)]
    except ParamsError:
        pass
    if problems:
        for p in problems:
            click.secho(f"- {p}", fg="red", err=True)
        click.secho(f"{len(problems)} problem(s) found.", fg="red", err=True)
        sys.exit(3)
    click.echo("params and sources are valid.")


@main.command()
@click.argument("department")
@click.option("--period", required=True, help="2026-10 (month), 2026-W42 (ISO week), 2026-Q3.")
@click.option("--out", type=click.Path(dir_okay=False, path_type=Path), default=None,
              help="The notebook to write (default outputs/<period>/explore/<department>.ipynb).")
@pass_ctx
@handles_errors
def explore(ctx: Context, department, period, out):
    """Write an executed, signed explorer notebook of DEPARTMENT for a liaison to open."""
    period = _parse_period(period)
    ctx.params.department(department)  # unknown slug: UsageError listing the known ones
    from .run.explorer import out_path, write_explorer
    out = out_path(ctx.params, department, period, out)
    from .run.coverage import check_covered
    check_covered(ctx.params, period)  # no store, or a period it does not reach: say so first
    click.echo(f"wrote {write_explorer(ctx.params, department, period, out)}")


@main.command()
@click.option("--now", default=None, help="Pretend it is this moment (ISO 8601), for replays.")
@click.option("--workers", type=click.IntRange(min=1), default=None)
@click.option("--pdf", is_flag=True)
@pass_ctx
@handles_errors
def nightly(ctx: Context, now, workers, pdf):
    """Ingest, run the month to date, and re-finalize last month early in a month."""
    from .run.nightly import run_nightly
    code = run_nightly(ctx.params, now=now, workers=workers, pdf=pdf)
    sys.exit(code)


@main.command()
@click.option("--period", default=None, help="Default: the latest complete month in the data.")
@click.option("--pdf/--no-pdf", default=True, show_default=True)
@click.option("--workers", type=click.IntRange(min=1), default=None)
@pass_ctx
@handles_errors
def demo(ctx: Context, period, pdf, workers):
    """Build the store from the bundled sample and run the latest complete month."""
    from .run.demo import run_demo
    index, ok = run_demo(ctx.params, period=period, pdf=pdf, workers=workers,
                         echo=click.echo)
    click.echo(f"\nPackets: {index}")
    if not ok:
        sys.exit(10)


# --- KPI submissions (records kind kpi_submissions) -------------------------------------------

@main.group()
def submissions():
    """KPI submissions from departments: template, load, status, review, export."""


@submissions.command("template")
@click.argument("department")
@click.argument("period")
@click.option("--out", type=click.Path(dir_okay=False, path_type=Path), default=None,
              help="Workbook to write (default <department>-<period>.xlsx).")
@pass_ctx
@handles_errors
def submissions_template(ctx: Context, department, period, out):
    """Write the Excel workbook a liaison fills in for DEPARTMENT and PERIOD."""
    from .ingest.submissions import template
    click.echo(f"wrote {template(ctx.params, department, period, out)}")


@submissions.command("load")
@click.argument("files", nargs=-1, required=True,
                type=click.Path(dir_okay=False, path_type=Path))
@click.option("--received", default=None, metavar="ISO",
              help="When the department sent the files (default: now); decides on time/late.")
@click.option("--department", default=None, metavar="SLUG",
              help="Refuse a file that is not this department's.")
@click.option("--period", default=None, help="Refuse a file that is not for this period.")
@pass_ctx
@handles_errors
def submissions_load(ctx: Context, files, received, department, period):
    """Check and store submission files (xlsx or csv); each file all or nothing."""
    from .ingest.submissions import load_files
    from .run.submissions_cli import parse_received
    expect = {"department": department, "period": period and _parse_period(period).label}
    loaded, rejected = load_files(ctx.params, files, parse_received(ctx.params, received),
                                  expect)
    for item in loaded:
        click.echo(item.summary())
    for exc in rejected:
        click.secho(str(exc), fg="red", err=True)
    if rejected:
        sys.exit(rejected[0].exit_code)


@submissions.command("status")
@click.argument("period")
@pass_ctx
@handles_errors
def submissions_status(ctx: Context, period):
    """Which departments submitted PERIOD on time, late, or not at all."""
    from .run.submissions_cli import status_text
    click.echo(status_text(ctx.params, period))


@submissions.command("review")
@click.argument("department")
@click.argument("period")
@click.argument("kpi")
@click.option("--accept", "state", flag_value="accepted", help="Accept the figure.")
@click.option("--query", "state", flag_value="queried", help="Query the figure.")
@click.option("--comment", required=True, help="Why (shown beside the figure in the packet).")
@click.option("--by", "reviewer", default=None, help="Who reviewed it.")
@pass_ctx
@handles_errors
def submissions_review(ctx: Context, department, period, kpi, state, comment, reviewer):
    """Mark a submitted figure accepted or queried, with a comment."""
    from .run.submissions_cli import review
    if state is None:
        raise UsageError("give --accept or --query")
    click.echo(review(ctx.params, department, period, kpi, state, comment, reviewer))


@submissions.command("export")
@click.option("--out", type=click.Path(file_okay=False, path_type=Path), default=None,
              help="Folder for the CSV files (default outputs/submissions).")
@pass_ctx
@handles_errors
def submissions_export(ctx: Context, out):
    """Write every submission, its history and its reviews as spreadsheet-safe CSV files."""
    from .run.submissions_cli import export
    for path in export(ctx.params, out):
        click.echo(f"wrote {path}")


# --- sessions and commitments (records kinds sessions, commitments) ---------------------------

@main.group()
def sessions():
    """Stat sessions: add, list, archive packets, follow-up memo, import/export minutes."""


@sessions.command("add")
@click.argument("date")
@click.argument("departments", nargs=-1, required=True)
@click.option("--title", default=None)
@click.option("--notes", default=None)
@pass_ctx
@handles_errors
def sessions_add(ctx: Context, date, departments, title, notes):
    """Record a session held on DATE (2026-10-14) for one or more DEPARTMENTS."""
    from .run.sessions_cli import add_session
    click.echo(f"session {add_session(ctx.params, date, departments, title, notes)}")


@sessions.command("list")
@click.option("--department", default=None, metavar="SLUG")
@pass_ctx
@handles_errors
def sessions_list(ctx: Context, department):
    """Every session, oldest first, with its number of commitments."""
    from .run.sessions_cli import sessions_text
    click.echo(sessions_text(ctx.params, department))


@sessions.command("archive")
@click.argument("session")
@click.option("--period", default=None, help="The packets' period (default: the month before).")
@pass_ctx
@handles_errors
def sessions_archive(ctx: Context, session, period):
    """Keep read-only copies of the packets shown at SESSION under sessions/SESSION/."""
    from .run.sessions_cli import archive_packets
    for path in archive_packets(ctx.params, session, period):
        click.echo(f"archived {path}")


@sessions.command("followup")
@click.argument("session")
@click.option("--out", type=click.Path(dir_okay=False, path_type=Path), default=None,
              help="Default sessions/SESSION/followup.html.")
@pass_ctx
@handles_errors
def sessions_followup(ctx: Context, session, out):
    """Write the one-page follow-up memo of SESSION: commitments made, owners, due dates."""
    from .run.sessions_cli import write_followup
    click.echo(f"wrote {write_followup(ctx.params, session, out)}")


@sessions.command("import")
@click.argument("file", type=click.Path(dir_okay=False, path_type=Path))
@click.option("--date-format", default=None, metavar="FMT",
              help="Your dates' format, e.g. %d/%m/%Y (default ISO 2026-10-14).")
@click.option("--by", default=None, help="Who recorded them.")
@pass_ctx
@handles_errors
def sessions_import(ctx: Context, file, date_format, by):
    """Store commitments from minutes (CSV or Excel), all or nothing."""
    from .run.minutes import import_minutes
    counts = import_minutes(ctx.params, file, date_format, by)
    click.echo(f"{file}: " + ", ".join(f"{v} {k}" for k, v in counts.items()))


@sessions.command("export")
@click.option("--out", type=click.Path(dir_okay=False, path_type=Path), default=None,
              help="File to write (default outputs/sessions/commitments.csv|.xlsx).")
@click.option("--format", "fmt", type=click.Choice(["csv", "xlsx"]), default="csv",
              show_default=True)
@pass_ctx
@handles_errors
def sessions_export(ctx: Context, out, fmt):
    """Write the commitments as minutes (spreadsheet-safe); xlsx adds history and sessions."""
    from .run.minutes import export_minutes
    out = out or ctx.params.outputs / "sessions" / f"commitments.{fmt}"
    click.echo(f"wrote {export_minutes(ctx.params, out, fmt)}")


@main.group()
def commitments():
    """Commitments made at sessions: add, update, close, list (every change kept)."""


def _commitment_options(fn):
    for opt in reversed([
            click.option("--what", default=None), click.option("--owner", default=None),
            click.option("--due", default=None, metavar="DATE", help="2026-11-30"),
            click.option("--department", default=None, metavar="SLUG"),
            click.option("--notes", default=None),
            click.option("--metric", default=None, help="The metric it should move."),
            click.option("--direction", type=click.Choice(["higher", "lower"]), default=None),
            click.option("--target", type=float, default=None),
            click.option("--by", default=None, help="Who recorded the change.")]):
        fn = opt(fn)
    return fn


@commitments.command("add")
@click.argument("session")
@_commitment_options
@pass_ctx
@handles_errors
def commitments_add(ctx: Context, session, due, by, **fields):
    """Add a commitment made at SESSION (--what, --owner and --due are required)."""
    from .run.sessions_cli import add_commitment, day_option
    cid = add_commitment(ctx.params, session, by, due_on=day_option("--due", due), **fields)
    click.echo(f"commitment {cid}")


@commitments.command("update")
@click.argument("commitment")
@_commitment_options
@click.option("--status", type=click.Choice(["open", "done", "dropped"]), default=None)
@click.option("--closed-on", default=None, metavar="DATE")
@pass_ctx
@handles_errors
def commitments_update(ctx: Context, commitment, due, by, closed_on, **fields):
    """Change COMMITMENT (a new revision; the earlier ones are kept)."""
    from .run.sessions_cli import day_option, update_commitment
    rev = update_commitment(ctx.params, commitment, by, due_on=day_option("--due", due),
                            closed_on=day_option("--closed-on", closed_on), **fields)
    click.echo(f"{commitment}: revision {rev}")


@commitments.command("close")
@click.argument("commitment")
@click.option("--done", "status", flag_value="done", help="It was delivered.")
@click.option("--dropped", "status", flag_value="dropped", help="It was withdrawn.")
@click.option("--on", "on", required=True, metavar="DATE", help="When (2026-11-03).")
@click.option("--notes", default=None)
@click.option("--by", default=None)
@pass_ctx
@handles_errors
def commitments_close(ctx: Context, commitment, status, on, notes, by):
    """Mark COMMITMENT done or dropped on a date."""
    from .run.sessions_cli import close_commitment, day_option
    if status is None:
        raise UsageError("give --done or --dropped")
    rev = close_commitment(ctx.params, commitment, status, day_option("--on", on), notes, by)
    click.echo(f"{commitment}: {status} (revision {rev})")


@commitments.command("list")
@click.option("--department", default=None, metavar="SLUG")
@click.option("--status", type=click.Choice(["open", "done", "dropped"]), default=None)
@click.option("--history", "history_of", default=None, metavar="ID",
              help="Every revision of one commitment.")
@pass_ctx
@handles_errors
def commitments_list(ctx: Context, department, status, history_of):
    """The commitments' current state (or one commitment's history)."""
    from .run.sessions_cli import commitments_text
    click.echo(commitments_text(ctx.params, department, status, history_of))
