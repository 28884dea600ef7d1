"""The ``civicrag`` command. Thin: it builds Settings, calls a stage's public function, formats the result.

Exit status: 0 success, 1 some input failed (the rest was done), 2 usage or configuration error.
"""

from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any, NoReturn

import typer
from rich.console import Console
from rich.markup import escape

from civicrag.settings import ConfigError, Settings, load_settings

if TYPE_CHECKING:
    from civicrag.ingest.pipeline import IngestReport
    from civicrag.rag.request import AskRequest
    from civicrag.rag.service import RagService
    from civicrag.rag.types import Result

app = typer.Typer(
    help="Question answering over municipal regulations, with article-level citations.",
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
)
err = Console(stderr=True)

DataDirOption = Annotated[
    Path | None,
    typer.Option(
        "--data-dir", help="Index directory (default: $CIVICRAG_DATA_DIR or ./civicrag-data).", show_default=False
    ),
]
ConfigOption = Annotated[
    Path | None,
    typer.Option(
        "--config", help="Settings TOML file (default: $CIVICRAG_CONFIG or ./civicrag.toml).", show_default=False
    ),
]
JsonOption = Annotated[bool, typer.Option("--json", help="Print one JSON object instead of text.")]


def _settings(config: Path | None, data_dir: Path | None) -> Settings:
    try:
        return load_settings(config, data_dir=data_dir)
    except ConfigError as exc:
        _error(str(exc))
        raise typer.Exit(2) from exc


def _error(message: str) -> None:
    """An error line on stderr. The message is text, never markup: a "[users]" or "[draft].md" in it would
    otherwise be read as a Rich style tag and vanish."""
    err.print(f"[red]error:[/red] {escape(message)}", highlight=False)


def _print_json(obj: Any) -> None:
    sys.stdout.write(json.dumps(obj, ensure_ascii=False, indent=None) + "\n")


@app.command()
def ingest(
    paths: Annotated[list[Path], typer.Argument(help="Files or folders of regulations.", show_default=False)],
    prune: Annotated[bool, typer.Option("--prune", help="Remove documents whose files are gone.")] = False,
    dry_run: Annotated[bool, typer.Option("--dry-run", help="Report what would change; write nothing.")] = False,
    wait: Annotated[
        float | None,
        typer.Option("--wait", help="Seconds to wait for another ingest of the index to finish, then exit 2 "
                     "(default: ingest_wait_s, 0).", show_default=False),
    ] = None,
    as_json: JsonOption = False,
    data_dir: DataDirOption = None,
    config: ConfigOption = None,
) -> None:
    """Add new documents, replace changed ones, skip unchanged ones; keep superseded versions.

    One ingest at a time per index: a second one waits (--wait) or exits 2. With embedded Chroma and a
    `civicrag serve` running on the same data directory, the server does the ingest and reloads.
    """
    from civicrag.ingest.store.lease import LeaseBusy, LeaseLost
    from civicrag.ui.handoff import IngestRefused

    settings = _settings(config, data_dir)
    missing = [str(p) for p in paths if not p.exists()]
    if missing:
        _error(f"no such file or folder: {', '.join(missing)}")
        raise typer.Exit(2)
    wait_s = settings.ingest.wait_s if wait is None else wait
    try:
        if err.is_terminal and not as_json:
            report, server = _ingest_with_progress(settings, paths, prune, dry_run, wait_s)
        else:
            report, server = _run_ingest(settings, paths, prune, dry_run, wait_s)
    except (ConfigError, LeaseBusy, IngestRefused) as exc:
        _error(str(exc))
        raise typer.Exit(2) from exc
    except LeaseLost as exc:
        _error(str(exc))
        raise typer.Exit(1) from exc
    if as_json:
        _print_json(report.to_dict())
    else:
        verb = "would be " if dry_run else ""
        via = f" (by the server at {server})" if server else ""
        print(
            f"{verb}added {report.added}, updated {report.updated}, unchanged {report.unchanged}, "
            f"removed {report.removed}, failed {len(report.failed)}; {report.chunks} chunks "
            f"({report.embedded} newly embedded) in {report.seconds:.1f} s{via}"
        )
        for failure in report.failed:
            again = " (unchanged since it failed: not read again)" if failure.get("unchanged") else ""
            print(f"FAILED {failure['path']}: {failure['error']}{again}")
    raise typer.Exit(report.exit_code)


def _run_ingest(
    settings: Settings, paths: list[Path], prune: bool, dry_run: bool, wait: float, progress: Any = None
) -> tuple[IngestReport, str | None]:
    """The report, and the URL of the server that did the ingest (None: this process did)."""
    from civicrag.ingest.pipeline import ingest_paths

    def waiting(holder: Any) -> None:
        err.print(f"waiting for the ingest running since {holder.started} (pid {holder.pid}) ...", markup=False,
                  highlight=False)

    if dry_run or settings.chroma.host:  # a dry run opens no Chroma; a Chroma server takes any process
        return ingest_paths(settings, paths, prune=prune, dry_run=dry_run, progress=progress, wait=wait,
                            on_wait=waiting), None
    from civicrag.ui.handoff import ingest as embedded_ingest

    report, server = embedded_ingest(settings, paths, prune=prune, wait=wait, progress=progress, on_wait=waiting)
    return report, (str(server.info["url"]) if server is not None else None)


def _ingest_with_progress(
    settings: Settings, paths: list[Path], prune: bool, dry_run: bool, wait: float
) -> tuple[IngestReport, str | None]:
    from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn

    with Progress(
        TextColumn("ingest"), BarColumn(), MofNCompleteColumn(), TimeElapsedColumn(),
        TextColumn("{task.description}", markup=False), console=err, transient=True,  # a file name, not markup
    ) as bar:
        task = bar.add_task("", total=None)

        def on_progress(done: int, total: int, path: str) -> None:
            bar.update(task, completed=done, total=total, description=Path(path).name if path else "")

        return _run_ingest(settings, paths, prune, dry_run, wait, on_progress)


@app.command()
def status(
    as_json: JsonOption = False,
    data_dir: DataDirOption = None,
    config: ConfigOption = None,
) -> None:
    """Documents, chunks, versions, embedder and last ingest of the index."""
    from civicrag.ingest.store import IndexStore

    settings = _settings(config, data_dir)
    try:
        store = IndexStore(settings)
    except ConfigError as exc:
        _error(str(exc))
        raise typer.Exit(2) from exc
    try:
        info = store.status()
        info["failed"] = [{"path": p, "error": e} for p, e in store.manifest.failures()]
    finally:
        store.close()
    if as_json:
        _print_json(info)
        return
    for key in ("documents", "versions", "superseded_versions", "chunks", "files", "embedder", "chroma",
                "data_dir", "last_ingest"):
        print(f"{key:20} {info[key]}")
    for failure in info["failed"]:
        print(f"FAILED {failure['path']}: {failure['error']}")


@app.command()
def ask(
    question: Annotated[
        str | None, typer.Argument(help="The question, in Korean or English.", show_default=False)
    ] = None,
    jsonl: Annotated[
        Path | None,
        typer.Option("--jsonl", help="Answer every line {id, question, history?} of FILE; one JSON result per line."),
    ] = None,
    k: Annotated[int | None, typer.Option("--k", help="Chunks the answer may draw on.", show_default=False)] = None,
    as_of: Annotated[
        str | None, typer.Option("--as-of", help="Answer from the versions in force on YYYY-MM-DD (default today).")
    ] = None,
    filters: Annotated[
        list[str] | None,
        typer.Option(
            "--filter", help="key=value on jurisdiction, kind, doc (doc_id), language, provision_kind, article, "
            "department; repeatable."
        ),
    ] = None,
    as_json: JsonOption = False,
    log_gaps: Annotated[
        bool, typer.Option("--log", help="Log refused questions to the content-gap log (civicrag report gaps).")
    ] = False,
    data_dir: DataDirOption = None,
    config: ConfigOption = None,
) -> None:
    """Answer a question from the indexed regulations, citing the articles it rests on."""
    if (question is None) == (jsonl is None):
        _ask_usage_error("give either a QUESTION or --jsonl FILE")
    if jsonl is not None and not jsonl.is_file():
        _ask_usage_error(f"no such file: {jsonl}")
    settings = _settings(config, data_dir)
    # With --jsonl the options are checked here, before the models load, with a stand-in for the questions
    # (each line's question is checked as it is read).
    request = _ask_request(settings, question if question is not None else "(each line of --jsonl)",
                           k=k, as_of=as_of, filters=_parse_filters(filters or []))
    service = _ask_service(settings)
    gaps = _cli_gap_log(settings) if log_gaps else None
    try:
        if jsonl is not None:
            failed = _ask_jsonl(service, jsonl, request, settings.server.question_max_chars, gaps)
            raise typer.Exit(1 if failed else 0)
        if as_json:
            data = service.ask_request(request).to_dict()
            _log_refusal(gaps, data)
            _print_json(data)
            return
        result = _print_streamed_answer(service, request)
        _log_refusal(gaps, result.to_dict())
        _print_citations(result)
    finally:
        service.close()
        if gaps is not None:
            gaps.close()  # writes what is queued


def _ask_usage_error(message: str) -> NoReturn:
    _error(message)
    raise typer.Exit(2)


def _parse_filters(items: list[str]) -> dict[str, str]:
    """``--filter key=value`` options as a mapping (which keys are allowed is ``AskRequest``'s to say)."""
    parsed: dict[str, str] = {}
    for item in items:
        key, sep, value = item.partition("=")
        if not sep or not key.strip() or not value.strip():
            _ask_usage_error(f"--filter wants key=value, got {item!r}")
        parsed[key.strip()] = value.strip()
    return parsed


def _ask_request(settings: Settings, question: str, **fields: Any) -> AskRequest:
    """The question and options validated as the REST API validates them; a usage error when they do not hold."""
    from civicrag.rag.request import AskRequest, RequestError

    try:
        return AskRequest.build(question, max_chars=settings.server.question_max_chars, **fields)
    except RequestError as exc:
        _ask_usage_error(str(exc))


def _ask_service(settings: Settings) -> RagService:
    """The service with its models and indexes loaded (a configuration error is a usage error)."""
    from civicrag.rag.service import RagService

    try:
        service = RagService(settings)
        service.load()
    except ConfigError as exc:
        _ask_usage_error(str(exc))
    return service


def _print_streamed_answer(service: RagService, request: AskRequest) -> Result:
    """The answer printed as it is written; its Result."""
    result: Result | None = None
    for event in service.answer(request):
        if event.type == "delta":
            sys.stdout.write(event.text)
            sys.stdout.flush()
        elif event.type == "done":
            result = event.result
    assert result is not None, "every answer ends with a done event"
    return result


def _print_citations(result: Result) -> None:
    """Each citation in its formal form, ready to paste into a document; then where it came from and whom to ask."""
    if not result.citations:
        return
    print()
    korean = result.language == "ko"
    for c in result.citations:
        where = f", p. {c.page}" if c.page else ""
        print(f"[{c.n}] {c.formal}{where} — {c.source}")
        if c.department:
            print(f"    {'문의' if korean else 'Contact'}: {c.department}")
        for a in c.attachments:
            if a.get("label") != c.article:
                link = f" {a['url']}" if a.get("url") else ""
                print(f"    {'첨부' if korean else 'Attachment'}: {a.get('title') or a.get('label')}{link}")


def _log_refusal(gaps: Any, data: dict[str, Any]) -> None:
    """A refused answer into the content-gap log, when ``--log`` asked for one."""
    if gaps is not None:
        gaps.refused(data, _os_user(), "cli")


def _cli_gap_log(settings: Settings) -> Any:
    from civicrag.ui.gaps import GapLog

    return GapLog.for_settings(settings)


def _os_user() -> str:
    """Who asked on the command line: the login name (left out of reports unless --with-users)."""
    import getpass

    try:
        return getpass.getuser()
    except (KeyError, OSError):  # no name for this uid (a container)
        return "cli"


def _ask_jsonl(service: RagService, path: Path, options: AskRequest, max_chars: int, gaps: Any = None) -> int:
    """One result per input line, in order; a bad line yields an ``error`` object and the run goes on.

    A line's ``as_of`` and ``filters`` replace the options' (``--as-of``, ``--filter``); each line is
    validated like a single question."""
    from civicrag.rag.request import AskRequest

    failed = 0
    with path.open(encoding="utf-8") as lines:
        for number, line in enumerate(lines, start=1):
            if not line.strip():
                continue
            try:
                item = json.loads(line)
                request = AskRequest.build(
                    str(item["question"]), max_chars=max_chars, history=item.get("history"), k=options.k,
                    as_of=item.get("as_of") or options.as_of, filters=item.get("filters") or options.filters,
                )
                data = service.ask_request(request, id=None if item.get("id") is None else str(item["id"])).to_dict()
                _log_refusal(gaps, data)
                _print_json(data)
            except (ValueError, KeyError, TypeError) as exc:  # RequestError is a ValueError
                failed += 1
                _print_json({"id": None, "line": number, "error": f"{type(exc).__name__}: {exc}"})
    return failed


@app.command()
def diff(
    doc_id: Annotated[str, typer.Argument(help="The document's id (doc_id, 자치법규ID).", show_default=False)],
    from_: Annotated[
        str | None,
        typer.Option("--from", help="The older version: its effective date, or a YYYY-MM-DD it was in force on "
                     "(default: the version before --to).", show_default=False),
    ] = None,
    to: Annotated[
        str | None,
        typer.Option("--to", help="The newer version, likewise (default: the latest).", show_default=False),
    ] = None,
    all_articles: Annotated[
        bool, typer.Option("--all", help="Show unchanged articles and 항/호 too.")
    ] = False,
    as_json: JsonOption = False,
    data_dir: DataDirOption = None,
    config: ConfigOption = None,
) -> None:
    """Amendment comparison (신구조문 대비) of two indexed versions of a document, article by article."""
    from civicrag.ingest.store.manifest import Manifest
    from civicrag.rag.amendments import VersionError, compare, comparison_text
    from civicrag.rag.catalogue import Catalogue

    settings = _settings(config, data_dir)
    if not settings.manifest_path.is_file():
        _error(f"no index in {settings.data_dir} (run civicrag ingest first)")
        raise typer.Exit(2)
    manifest = Manifest(settings.manifest_path)
    try:
        comparison = compare(Catalogue.load(manifest), doc_id, from_, to)
    except VersionError as exc:
        _error(f"{doc_id}: {exc}")
        raise typer.Exit(2) from exc
    finally:
        manifest.close()
    if as_json:
        _print_json(comparison.to_dict(all_articles=all_articles))
    else:
        sys.stdout.write(comparison_text(comparison, all_articles=all_articles))


@app.command()
def serve(
    host: Annotated[str, typer.Option("--host", help="Address to listen on.")] = "127.0.0.1",
    port: Annotated[int, typer.Option("--port", help="Port to listen on.")] = 7860,
    open_demo: Annotated[
        bool, typer.Option("--open-demo", help="No login: everyone gets open_demo_role (default staff).")
    ] = False,
    workers: Annotated[
        int, typer.Option("--workers", min=1, help="Worker processes for the REST API; more than 1 needs a "
                          "`chroma run` server (\\[chroma] host) and serves no chat UI.")
    ] = 1,
    data_dir: DataDirOption = None,
    config: ConfigOption = None,
) -> None:
    """Serve the web chat, the admin console and the REST API (/api, docs at /docs) from one server."""
    import os

    # Before gradio is imported anywhere: no usage reporting from a city network.
    os.environ["GRADIO_ANALYTICS_ENABLED"] = "False"
    try:
        settings = load_settings(config, data_dir=data_dir, auth_mode="open-demo" if open_demo else None)
    except ConfigError as exc:
        _error(str(exc))
        raise typer.Exit(2) from exc
    from civicrag.ui.server import serve as run_server

    try:
        run_server(settings, host=host, port=port, workers=workers)
    except ConfigError as exc:
        _error(str(exc))
        raise typer.Exit(2) from exc


@app.command("refs")
def refs_command(
    name: Annotated[str, typer.Argument(help="A statute or regulation, e.g. 폐기물관리법.", show_default=False)],
    exact: Annotated[
        bool, typer.Option("--exact", help="Only this name, not its 시행령/시행규칙 (or a 조례's 시행규칙).")
    ] = False,
    as_of: Annotated[
        str | None, typer.Option("--as-of", help="Versions in force on YYYY-MM-DD (default today).")
    ] = None,
    as_json: JsonOption = False,
    data_dir: DataDirOption = None,
    config: ConfigOption = None,
) -> None:
    """Indexed regulations that cite a statute (the reverse of 상위법 links), with the provisions citing it."""
    from datetime import date

    from civicrag.ingest.store.manifest import Manifest
    from civicrag.rag.catalogue import Catalogue
    from civicrag.rag.statutes import StatuteIndex

    if as_of:
        try:
            as_of = date.fromisoformat(as_of).isoformat()
        except ValueError as exc:
            _error(f"--as-of wants YYYY-MM-DD, got {as_of!r}")
            raise typer.Exit(2) from exc
    settings = _settings(config, data_dir)
    manifest = Manifest(settings.manifest_path)
    try:
        index = StatuteIndex(Catalogue.load(manifest))
    finally:
        manifest.close()
    citing = index.citing(name, as_of=as_of, family=not exact)
    documents: dict[str, dict[str, Any]] = {}
    for c in citing:
        doc = documents.setdefault(c.doc_id, {"doc_id": c.doc_id, "title": c.title, "kind": c.doc_kind,
                                              "provisions": []})
        doc["provisions"].append({"article": c.article, "article_title": c.article_title, "cites": c.name,
                                  "kind": c.kind, "articles": c.articles, "chunk_id": c.chunk_id})
    suggestions = [] if citing else index.suggest(name)
    if as_json:
        _print_json({"name": name, "documents": list(documents.values()), "suggestions": suggestions})
        return
    if not documents:
        print(f"No indexed regulation cites {name}.")
        if suggestions:
            print("Cited names holding it: " + ", ".join(suggestions))
        return
    for doc in documents.values():
        print(f"{doc['title']} [{doc['doc_id']}]")
        for p in doc["provisions"]:
            head = f"{p['article']}({p['article_title']})" if p["article_title"] else p["article"]
            cited = f"「{p['cites']}」 {', '.join(p['articles'])}".rstrip()
            print(f"  {head}: {cited}")


report_app = typer.Typer(help="Reports for maintainers.", no_args_is_help=True)
app.add_typer(report_app, name="report")


@report_app.command("gaps")
def report_gaps(
    since: Annotated[
        str | None, typer.Option("--since", help="Only questions logged on or after YYYY-MM-DD (UTC).")
    ] = None,
    as_csv: Annotated[bool, typer.Option("--csv", help="CSV, one row per topic, instead of text.")] = False,
    with_users: Annotated[
        bool, typer.Option("--with-users", help="Include who asked (personal data: left out by default).")
    ] = False,
    as_json: JsonOption = False,
    data_dir: DataDirOption = None,
    config: ConfigOption = None,
) -> None:
    """Refused and 👎 questions grouped by document and topic, per week, and what is most often missing."""
    from datetime import date

    from civicrag.ui.gaps import build_report, gap_log_path, report_csv, report_text

    if since:
        try:
            since = date.fromisoformat(since).isoformat()
        except ValueError as exc:
            _error(f"--since wants YYYY-MM-DD, got {since!r}")
            raise typer.Exit(2) from exc
    if as_csv and as_json:
        _error("choose one of --csv and --json")
        raise typer.Exit(2)
    settings = _settings(config, data_dir)
    path = gap_log_path(settings)
    if path.is_file():
        log = _cli_gap_log(settings)
        try:
            report = log.report(since, with_users=with_users)
        finally:
            log.close()
    else:  # nothing logged yet: an empty report, and no file created by reading
        report = build_report([], since=since, with_users=with_users)
    if as_csv:
        sys.stdout.write(report_csv(report))
    elif as_json:
        _print_json(report.to_dict())
    else:
        sys.stdout.write(report_text(report))


@app.command("hash-password")
def hash_password_command(
    password: Annotated[
        str | None, typer.Option("--password", help="Read from a prompt when omitted (recommended).")
    ] = None,
) -> None:
    """Print a bcrypt hash for a `users` entry in the settings file."""
    from civicrag.ui.auth import hash_password

    secret = password if password is not None else typer.prompt("Password", hide_input=True,
                                                                   confirmation_prompt=True)
    try:
        print(hash_password(secret))
    except ValueError as exc:
        _error(str(exc))
        raise typer.Exit(2) from exc


@app.command("eval")
def eval_command(
    sets: Annotated[list[Path], typer.Argument(help="Golden set JSONL files.", show_default=False)],
    configs: Annotated[
        list[str] | None,
        typer.Option("--config", help="A configuration to score: a built-in name (shipped, shipped-scoped, "
                     "hybrid-rrf) or a TOML file of settings overrides; repeatable (default: all built-ins). "
                     "The first is primary."),
    ] = None,
    out: Annotated[Path, typer.Option("--out", help="Report directory.")] = Path("eval-out"),
    compare_with: Annotated[
        Path | None, typer.Option("--compare", help="A previous run (its folder, results.json.gz or results.json): "
                                   "deltas and flipped questions.")
    ] = None,
    fail_under: Annotated[
        list[str] | None,
        typer.Option("--fail-under", help="METRIC=VALUE or CONFIG:METRIC=VALUE; exit 1 when below (above, for "
                     "false refusals, wrong leads and latencies). Repeatable."),
    ] = None,
    corpus: Annotated[
        list[Path] | None,
        typer.Option("--corpus", help="Documents to (re)index for the run, per index configuration, and for the "
                     "naive baseline; repeatable. Without it the existing index (--data-dir) is used."),
    ] = None,
    index_dir: Annotated[
        Path, typer.Option("--index-dir", help="Where --corpus indexes are kept between runs.")
    ] = Path("civicrag-data/eval-index"),
    no_baseline: Annotated[bool, typer.Option("--no-baseline", help="Skip the naive llama-index baseline.")] = False,
    limit: Annotated[int | None, typer.Option("--limit", help="Only the first N questions.")] = None,
    settings_file: Annotated[
        Path | None,
        typer.Option("--settings", help="Base settings TOML (default: $CIVICRAG_CONFIG or ./civicrag.toml)."),
    ] = None,
    data_dir: DataDirOption = None,
    split: Annotated[
        str | None,
        typer.Option("--split", help="Score only the questions of this split (train, dev, test; eval/sets/splits)."),
    ] = None,
    include: Annotated[
        list[str] | None,
        typer.Option("--include", help="RUN[:NAME]: add another run's configuration (its folder, results.json.gz "
                     "or results.json; e.g. an earlier release scored on the same questions) to the report, "
                     "renamed NAME; repeatable."),
    ] = None,
) -> None:
    """Score golden question sets across configurations; write results.json.gz, questions.tsv, report.md and
    report.html."""
    from civicrag.eval.cli import run_eval

    settings = _settings(settings_file, data_dir)
    code = run_eval(
        sets, configs or [], out, settings, corpus=corpus or [], index_root=index_dir, compare_with=compare_with,
        fail_under=fail_under or [], baseline=not no_baseline, limit=limit, console=err,
        show_progress=err.is_terminal, split=split, include=include or [],
    )
    raise typer.Exit(code)


_PASS_THROUGH = {"allow_extra_args": True, "ignore_unknown_options": True, "help_option_names": []}


@app.command("train", context_settings=_PASS_THROUGH, add_help_option=False)
def train_command(ctx: typer.Context) -> None:
    """Fit the reranker, unit selector and answerability on the train split (see `civicrag train --help`)."""
    from civicrag.eval.train import main as train_main

    raise typer.Exit(train_main(ctx.args))


@app.command("train-encoder", context_settings=_PASS_THROUGH, add_help_option=False)
def train_encoder_command(ctx: typer.Context) -> None:
    """Fine-tune the query encoder on the train split (see `civicrag train-encoder --help`)."""
    from civicrag.eval.train_encoder import main as encoder_main

    raise typer.Exit(encoder_main(ctx.args))


def main() -> None:
    app()


if __name__ == "__main__":
    main()
