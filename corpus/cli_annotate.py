"""``corpus annotate``: the Label Studio round trip (serve → push → annotate → pull → status).

Every failure ends the command with one ``error: …`` line naming the file or the server URL,
and a non-zero exit code; credentials are never printed.
"""

import signal
import threading
from pathlib import Path

import typer

from corpus.console import Console

annotate_app = typer.Typer(
    name="annotate",
    help=(
        "Label Studio round trip: serve a local Label Studio, push pre-labelled tasks, pull human "
        "annotations into annotation/ (what releases are built from), show their status.\n\n"
        "Server access: LABEL_STUDIO_URL and LABEL_STUDIO_API_KEY, or url/api_key in "
        "~/.config/chhanni/labelstudio.toml (or the file $CHHANNI_LS_CONFIG names)."
    ),
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
)
err = Console(stderr=True)
out = Console()

PROJECT_OPTION = typer.Option("Chhanni", "--project", help="Label Studio project title.")
URL_OPTION = typer.Option(None, "--url", help="Label Studio URL [default: $LABEL_STUDIO_URL, config file].")
ANNOTATIONS_OPTION = typer.Option(Path("annotation"), help="Folder of committed annotations.")
SEEDS_OPTION = typer.Option(Path("seeds"), help="Folder of raw articles (*.txt, *.jsonl).")


def fail(message: str, code: int = 1) -> None:
    err.print(f"error: {' '.join(message.split())}", markup=False)
    raise typer.Exit(code)


def say(message: str) -> None:
    out.print(message, markup=False)


def warn(message: str) -> None:
    err.print(f"warning: {message}", markup=False)


def _errors():
    """The exceptions that end a command with one line (imported lazily: the SDK is slow to load)."""
    from corpus.annotations import AnnotationFileError
    from corpus.labelstudio.client import LabelStudioError
    from corpus.labelstudio.credentials import CredentialsError
    from corpus.labelstudio.server import ServerError

    return (LabelStudioError, ServerError, CredentialsError, AnnotationFileError, FileNotFoundError)


def _documents(seeds: Path) -> list:
    from corpus.ingest import read_documents, split_problems
    from corpus.prelabel import prelabel_document
    from corpus.repetition import LineStats

    documents, problems = split_problems(read_documents(seeds, display_root=seeds))
    for problem in problems:
        warn(str(problem))
    corpus = LineStats.of_texts(d.text for d in documents)
    return [prelabel_document(d, corpus) for d in documents]


@annotate_app.command()
def serve(
    port: int = typer.Option(8080, help="Port on 127.0.0.1 (must be free)."),
    data_dir: Path = typer.Option(None, help="Label Studio data folder [default: .labelstudio/data]."),
) -> None:
    """Run a local Label Studio until Ctrl-C (installing it into .labelstudio/venv when missing).

    A new data folder gets an admin account whose password and API key are written to the chhanni
    config file (outside the repository); push/pull/status then find the server through it.
    """
    from corpus.labelstudio.credentials import config_path, load_credentials, read_config, write_config
    from corpus.labelstudio.server import (
        AdminAccount,
        default_data_dir,
        ensure_label_studio,
        is_initialised,
        start_server,
    )

    try:
        data_dir = data_dir or default_data_dir()
        exe = ensure_label_studio(log=say)
        creds = load_credentials()
        fresh = not is_initialised(data_dir)
        admin = None
        config_file = config_path()
        stored = read_config(config_file)
        if fresh:
            generated = AdminAccount.generate()
            admin = AdminAccount(
                creds.username or generated.email,
                creds.password or generated.password,
                creds.api_key or generated.token,
            )
        server = start_server(data_dir, port=port, admin=admin, exe=exe)
    except _errors() as error:
        fail(str(error))
        return
    with server:
        try:
            remembered = {**stored, "url": server.url}
            if admin is not None:
                remembered.update(username=admin.email, password=admin.password, api_key=admin.token)
            elif not creds.api_key and creds.username and creds.password:
                from corpus.labelstudio.client import WebSession

                remembered["api_key"] = (
                    WebSession(server.url).login(creds.username, creds.password).api_token()
                )
            if remembered != stored:
                write_config(config_file, remembered)
        except _errors() as error:
            fail(str(error))
        say(f"Label Studio is running at {server.url} (data: {data_dir}, log: {server.log_path})")
        login = remembered.get("username")
        if login:
            say(f"  log in at {server.url}/user/login/ as {login}; password and API key: {config_file}")
        else:
            say(f"  log in at {server.url}/user/login/ with your existing account")
        say(f"  annotators create their account at {server.url}/user/signup/")
        say(
            "  next: corpus annotate push; annotate in the browser; corpus annotate pull; "
            "corpus annotate status"
        )
        say("  stop with Ctrl-C")
        signal.signal(signal.SIGTERM, _interrupt)  # the server runs in its own session: stop it too
        try:
            server.process.wait()
        except KeyboardInterrupt:
            say("stopping Label Studio …")
            return
    fail(f"{server.url}: Label Studio exited (code {server.process.returncode}); see {server.log_path}")


@annotate_app.command()
def push(
    seeds: Path = SEEDS_OPTION,
    project: str = PROJECT_OPTION,
    url: str = URL_OPTION,
    annotations: Path = ANNOTATIONS_OPTION,
    overlap: int = typer.Option(
        None, min=1, help="Annotators per task (Label Studio 'overlap'); unchanged on an existing project."
    ),
) -> None:
    """Create or reuse the project and import one pre-labelled task per document (idempotent)."""
    from corpus.labelstudio.client import Client
    from corpus.labelstudio.credentials import load_credentials
    from corpus.labelstudio.push import push_documents, read_guidelines

    try:
        documents = _documents(seeds)
        if not documents:
            fail(f"{seeds}: no usable documents, nothing pushed")
        client = Client(load_credentials(url=url))
        report = push_documents(client, documents, project, read_guidelines(annotations), overlap)
    except _errors() as error:
        fail(str(error))
        return
    verb = "created" if report.project_created else "reused"
    say(f"project {project!r} (id {report.project_id}) {verb} at {client.url}")
    if report.settings_updated:
        say(f"  updated project settings: {', '.join(report.settings_updated)}")
    say(f"  tasks: {len(report.created)} new, {len(report.plan.unchanged)} already there")
    for doc_id, old in sorted(report.plan.replaced.items()):
        warn(
            f"{doc_id}: text changed; old task(s) {', '.join(map(str, old))} left on the server, "
            "their annotations will be reported stale"
        )
    for doc_id, extra in sorted(report.plan.duplicates.items()):
        warn(f"{doc_id}: duplicate task(s) {', '.join(map(str, extra))} with the same text")


@annotate_app.command()
def pull(
    project: str = PROJECT_OPTION,
    url: str = URL_OPTION,
    annotations: Path = ANNOTATIONS_OPTION,
) -> None:
    """Export the project's annotations into ANNOTATIONS/labelled/<doc_id>.json (never deleting any)."""
    from corpus.labelstudio.client import Client
    from corpus.labelstudio.credentials import load_credentials
    from corpus.labelstudio.pull import pull_annotations

    try:
        client = Client(load_credentials(url=url))
        report = pull_annotations(client, project, annotations)
    except _errors() as error:
        fail(str(error))
        return
    for note in report.notes:
        warn(note)
    for kept in report.kept:
        warn(kept)
    say(
        f"pulled project {project!r} (id {report.project_id}): {report.added} new, {report.updated} updated, "
        f"{report.unchanged} unchanged annotation(s); {len(report.written)} file(s) written"
    )
    if report.new_annotators:
        say(f"  new annotators: {', '.join(report.new_annotators)}")


def _interrupt(signum: int, frame: object) -> None:
    raise KeyboardInterrupt


def _fmt(value: float | None, percent: bool = False) -> str:
    if value is None:
        return "n/a"
    return f"{value:.1%}" if percent else f"{value:.3f}"


@annotate_app.command()
def status(seeds: Path = SEEDS_OPTION, annotations: Path = ANNOTATIONS_OPTION) -> None:
    """Per-document state from the committed annotations: unlabelled, labelled, conflicting, stale
    (or invalid), with agreement; no server needed."""
    from corpus.annotations import STATES, assess

    try:
        documents = _documents(seeds)
        report = assess(annotations, documents)
    except _errors() as error:
        fail(str(error))
        return
    width = max([len(d.doc_id) for d in documents] + [8])
    say(f"{'document':<{width}}  {'state':<11}  usable/all  cancelled  {'annotators':<24}  alpha  agree")
    for doc_id, st in report.statuses.items():
        annotators = ", ".join(st.annotators) or "-"
        say(
            f"{doc_id:<{width}}  {st.state:<11}  {st.usable:>3}/{st.annotations:<3}"
            f"     {st.cancelled:>6}     "
            f"{annotators:<24}  {_fmt(st.alpha):>5}  {_fmt(st.agreement, percent=True):>5}"
        )
    counts = {state: sum(s.state == state for s in report.statuses.values()) for state in STATES}
    say("total: " + ", ".join(f"{state} {n}" for state, n in counts.items() if n or state != "invalid"))
    say(
        f"agreement over documents with 2+ annotators: alpha {_fmt(report.alpha)}, "
        f"characters agreed {_fmt(report.agreement, percent=True)}; cancelled annotations: {report.cancelled}"
    )
    for problem in report.problems:
        warn(str(problem))


@annotate_app.command("ml-backend")
def ml_backend(
    host: str = typer.Option("127.0.0.1", help="Address to listen on (keep it loopback unless you mean it)."),
    port: int = typer.Option(9090, help="Port to listen on (0: any free port)."),
    connect: bool = typer.Option(
        False, "--connect", help="Also register the backend with the project (POST /api/ml) once it is up."
    ),
    project: str = PROJECT_OPTION,
    url: str = URL_OPTION,
) -> None:
    """Serve the pre-labeler to Label Studio as an ML backend until Ctrl-C, so tasks imported
    without pre-labels get them live.

    Add the printed URL to the project under Settings → Model (or pass --connect). Label Studio
    then asks for predictions when a task without any is opened, from the Data Manager's
    "Retrieve Predictions" action, and in the labeling stream. Predictions carry the model
    version, the same regions `corpus annotate push` imports; a task that is empty or not
    Bengali/Hindi gets an empty prediction. One log line per request goes to stderr.
    """
    from corpus.labelstudio.ml_backend import MODEL_VERSION, MLBackendServer, connect_backend

    try:
        backend = MLBackendServer(host, port, log=lambda message: err.print(message, markup=False))
    except OSError as error:
        fail(f"{host}:{port}: cannot listen ({error.strerror or error}); pick another with --port")
        return
    backend_url = backend.url
    if host in ("0.0.0.0", "::", ""):
        backend_url = f"http://127.0.0.1:{backend.server_address[1]}"
    with backend:
        backend.start()
        say(f"ML backend ({MODEL_VERSION}) is running at {backend_url}")
        if connect:
            from corpus.labelstudio.client import Client
            from corpus.labelstudio.credentials import load_credentials

            try:
                client = Client(load_credentials(url=url))
                report = connect_backend(client, project, backend_url)
            except _errors() as error:
                fail(str(error))
                return
            verb = "registered with" if report["created"] else "already registered with"
            say(
                f"  {verb} project {project!r} (id {report['project_id']}) at {client.url} "
                f"as model {report['ml_id']}"
            )
            if report["project_model_version"] != MODEL_VERSION:
                warn(
                    f"the project shows predictions of {report['project_model_version']!r}; pick "
                    f"{MODEL_VERSION!r} in its Settings → Model to show this backend's"
                )
        else:
            say(f"  add it in Label Studio: project → Settings → Model → Connect Model → URL {backend_url}")
            say("  (or run with --connect to register it with the project)")
        say("  stop with Ctrl-C")
        signal.signal(signal.SIGTERM, _interrupt)
        try:
            threading.Event().wait()
        except KeyboardInterrupt:
            say("stopping the ML backend …")


@annotate_app.command("config")
def write_config_file(
    output: Path = typer.Option(Path("annotation/labeling_config.xml"), help="Where the config goes."),
    check: bool = typer.Option(False, help="Only check that the file is up to date (exit 1 if not)."),
) -> None:
    """Write the labeling config generated from corpus/labels.py (the checked-in XML)."""
    from corpus.labelstudio.config import label_config_xml

    text = label_config_xml()
    current = output.read_text(encoding="utf-8") if output.exists() else None
    if current == text:
        say(f"{output}: up to date")
        return
    if check:
        fail(f"{output}: out of date; run `corpus annotate config`")
    output.parent.mkdir(parents=True, exist_ok=True)
    output.write_text(text, encoding="utf-8")
    say(f"{output}: written")
