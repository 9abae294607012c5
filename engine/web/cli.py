"""``huiqi serve``: the web service (needs the ``huiqi[web]`` extra)."""

from __future__ import annotations

import argparse


def register(commands: argparse._SubParsersAction, rules_commands: argparse._SubParsersAction) -> None:
    serve = commands.add_parser("serve", help="the web service: self-check page, JSON API, bureau uploads / 网页服务",
                                description="Serve the self-check page (/), the JSON API (/v1, docs at /docs) and bureau "
                                            "uploads (/bureau, with --token-file). 启动网页服务。")
    serve.add_argument("--host", default="127.0.0.1", help="address to listen on (default 127.0.0.1: this machine only)")
    serve.add_argument("--port", type=int, default=8000)
    serve.add_argument("--rules", default=None, help="rules folder (default: the shipped rule base)")
    serve.add_argument("--token-file", default=None, help="file holding the bureau staff's token; without it uploads are off")
    serve.add_argument("--workers", type=int, default=None,
                       help="evaluation processes (default: cores - 1, at least 1, at most 4); 0: in the server process, under a lock")
    serve.set_defaults(handler=run)


def read_token(path: str) -> str:
    from pathlib import Path

    from engine.cli import EXIT_USAGE, CliError

    file = Path(path)
    try:
        token = file.read_text(encoding="utf-8").strip()
    except (OSError, UnicodeDecodeError) as exc:
        raise CliError(f"无法读取口令文件 / cannot read the token file {path}: {exc}", EXIT_USAGE) from None
    if len(token) < 16:
        raise CliError(f"{path}: 口令至少 16 个字符 / the token must have at least 16 characters", EXIT_USAGE)
    return token


def check_address(host: str, port: int) -> None:
    """Fail before loading anything when the address cannot be listened on (taken, or not this machine's)."""
    import socket

    from engine.cli import EXIT_BAD_INPUT, CliError

    try:
        info = socket.getaddrinfo(host, port, type=socket.SOCK_STREAM)[0]
        with socket.socket(info[0], socket.SOCK_STREAM) as probe:
            probe.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
            probe.bind(info[4])
    except OSError as exc:
        raise CliError(f"无法在 {host}:{port} 上监听（端口已被占用，或不是本机地址？）/ cannot listen on {host}:{port} "
                       f"(port in use, or not an address of this machine?): {exc.strerror or exc}", EXIT_BAD_INPUT) from None


def run(args: argparse.Namespace) -> int:
    from engine.cli import EXIT_OK, EXIT_USAGE, CliError, load_ruleset

    if not 0 < args.port < 65536:
        raise CliError("--port 应在 1–65535 之间 / --port must be 1-65535", EXIT_USAGE)
    if args.workers is not None and args.workers < 0:
        raise CliError("--workers 不能为负数 / --workers cannot be negative", EXIT_USAGE)
    try:
        import uvicorn

        from engine.web.app import create_app
        from engine.web.settings import Settings
        from engine.web.worker import default_workers
    except ModuleNotFoundError as exc:
        raise CliError(f"网页服务需要安装 huiqi[web]（缺少 {exc.name}）/ the web service needs huiqi[web] "
                       f"(missing {exc.name}): python3 -m pip install '.[web]'", EXIT_USAGE) from None
    check_address(args.host, args.port)
    rules = load_ruleset(args.rules)  # a broken folder stops here with the loader's message (exit 4)
    token = read_token(args.token_file) if args.token_file else None
    workers = default_workers() if args.workers is None else args.workers
    ledger = getattr(args, "ledger", None)  # checked while parsing (engine.ledger.cli), present with huiqi[ledger]
    app = create_app(Settings(rules=rules, rules_dir=args.rules, token=token, workers=workers, ledger=ledger))
    print(f"惠企 Huiqi: http://{args.host}:{args.port}/ (规则集 / rule set {rules.fingerprint}, "
          f"{len(rules.rules)} rules, workers {workers}{', bureau uploads on' if token else ''}{', ledger on' if ledger else ''})", flush=True)
    # Keep-alive above uvicorn's 5 s default: portals and the benchmark reuse connections between bursts.
    uvicorn.run(app, host=args.host, port=args.port, log_level="warning", timeout_keep_alive=30, timeout_graceful_shutdown=5)
    return EXIT_OK
